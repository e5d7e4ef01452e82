"""Spending points in the portal, as `clubflow rewards` does.

/rewards: a signed-in member sees what their points buy today, their balance and their
vouchers (the code in full: it is theirs), and redeems. /rewards/manage: HQ sees the
catalogue; the campaign manager adds and changes rewards. /vouchers/writeoff: a dealer's
staff type the code the member shows, see the reward and the member (masked), and write the
voucher off, once.
"""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlmodel import Session

from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, audit, checked_form, portal, render, require, signed_in
from domain.calendar import business_date
from domain.models import Member, Role
from domain.models_rewards import Reward, Voucher
from domain.rewards import (
    KIND_ZH,
    REWARD_KINDS,
    STATUS_ZH,
    TermsError,
    mask_code,
    mask_holder,
    normalise_code,
    parse_terms,
)
from tasks.members.redemption import redeem_reward
from tasks.members.rewards_catalogue import FIELDS, list_rewards, save_reward
from tasks.members.voucher_writeoff import find_voucher, write_off_voucher

router = APIRouter()


# ---------------------------------------------------------------- the member's page


def _member_page(request, session, viewer, *, notice="", error="", status=200):
    member = session.get(Member, viewer.member_id)
    session.refresh(member)
    today = business_date(portal(request).now())
    vouchers = session.execute(
        select(Voucher, Reward)
        .join(Reward, Reward.id == Voucher.reward_id)
        .where(Voucher.member_id == member.id)
        .order_by(Voucher.issued_at.desc(), Voucher.id.desc())
    ).all()
    return render(
        request,
        "rewards.html",
        status_code=status,
        member=member,
        rewards=list_rewards(session=session, on=today),
        vouchers=vouchers,
        kinds=KIND_ZH,
        statuses=STATUS_ZH,
        # One key per page shown: the same form posted twice redeems once.
        request_key=secrets.token_urlsafe(16),
        notice=notice,
        error=error,
    )


@router.get("/rewards")
def rewards_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    if viewer.is_hq:
        return RedirectResponse("/rewards/manage", status_code=303)
    require(
        request,
        session,
        viewer,
        viewer.is_member,
        action="reward.catalogue",
        subject="rewards",
        reason=f"{viewer.actor} 不是会员，积分兑换是会员本人的页面 (redeeming is the member's own)",
    )
    audit(request, session, viewer, "reward.catalogue", f"member:{viewer.member_no}")
    return _member_page(request, session, viewer)


@router.post("/rewards/{code}/redeem")
def redeem(
    request: Request,
    code: str,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    require(
        request,
        session,
        viewer,
        viewer.is_member,
        action="reward.redeem",
        subject=f"reward:{code}"[:128],
        reason=f"{viewer.actor} 不是会员，不能在此兑换 (staff redeem with clubflow rewards redeem)",
    )
    p = portal(request)
    outcome = redeem_reward(
        session=session,
        member_no=viewer.member_no,
        reward_code=code,
        by=viewer.actor,
        now=p.now(),
        settings=p.settings,
        request_key=str(form.get("request_key", ""))[:64] or None,
    )
    subject = f"member:{viewer.member_no}"
    if outcome.refused:
        audit(request, session, viewer, "reward.redeem", subject, outcome="refused",
              detail=outcome.refused)  # fmt: skip
        return _member_page(
            request, session, viewer, error=f"未能兑换：{outcome.refused}", status=409
        )
    v = outcome.voucher
    audit(request, session, viewer, "reward.redeem", subject, detail=f"voucher:{v.id}")
    return _member_page(
        request,
        session,
        viewer,
        notice=f"兑换成功：券码 {v.code}，有效期至 {v.valid_until.isoformat()}，"
        f"请到经销商门店出示核销。",
    )


# ---------------------------------------------------------------- HQ's catalogue


def _may_see_catalogue(request, session, viewer, action: str) -> None:
    require(
        request,
        session,
        viewer,
        viewer.is_hq,
        action=action,
        subject="rewards",
        reason=f"{viewer.actor} 不是总部人员，不能管理奖励目录 (the catalogue is HQ's)",
    )


def _manage_page(request, session, viewer, *, values=None, notice="", error="", status=200):
    return render(
        request,
        "rewards_manage.html",
        status_code=status,
        rewards=list_rewards(session=session),
        kinds=KIND_ZH,
        kind_codes=REWARD_KINDS,
        editable=viewer.role == Role.campaign_manager,
        values=values or {},
        notice=notice,
        error=error,
    )


@router.get("/rewards/manage")
def manage_page(
    request: Request, edit: str = "", viewer: Viewer = Depends(signed_in), session: Session = DB
):
    _may_see_catalogue(request, session, viewer, "reward.manage")
    values = {}
    if edit:
        reward = session.execute(select(Reward).where(Reward.code == edit)).scalar_one_or_none()
        if reward is not None:
            values = {"code": reward.code, **{f: getattr(reward, f) for f in FIELDS}}
    return _manage_page(request, session, viewer, values=values)


@router.post("/rewards/manage")
def save(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may_see_catalogue(request, session, viewer, "reward.save")
    p = portal(request)
    values = {name: str(form.get(name, "")).strip() for name in ("code", *FIELDS)}
    values["refund_on_expiry"] = "yes" if form.get("refund_on_expiry") else "no"
    try:
        terms = parse_terms(values, default_voucher_days=p.settings.rewards_voucher_days)
    except TermsError as exc:
        return _manage_page(
            request, session, viewer, values=values, error=f"无法保存：{exc}", status=400
        )
    outcome = save_reward(
        session=session, terms=terms, by=viewer.actor, now=p.now(), settings=p.settings
    )
    subject = f"reward:{terms.code}"[:128]
    if outcome.refused:
        audit(request, session, viewer, "reward.save", subject, outcome="refused",
              detail=outcome.refused)  # fmt: skip
        status = 403 if viewer.role != Role.campaign_manager else 400
        return _manage_page(
            request, session, viewer, values=values, error=f"无法保存：{outcome.refused}",
            status=status,
        )  # fmt: skip
    audit(request, session, viewer, "reward.save", subject)
    verb = "已新增" if outcome.created else "已更新" if outcome.changed else "没有变化"
    return _manage_page(request, session, viewer, notice=f"奖励 {terms.code} {verb}")


# ---------------------------------------------------------------- the dealer's counter


def _may_write_off(request, session, viewer, action: str) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role == Role.dealer,
        action=action,
        subject="vouchers",
        reason=f"{viewer.actor} 不是经销商人员，不能核销兑换券 (write-off is the dealer's)",
    )


def _writeoff_page(request, session, *, code="", found=None, notice="", error="", status=200):
    today = business_date(portal(request).now())
    shown = None
    if found is not None:
        voucher, reward, member = found
        shown = {
            "code": voucher.code,
            "masked": mask_code(voucher.code),
            "reward": reward.name,
            "kind": KIND_ZH.get(reward.kind, reward.kind),
            "holder": mask_holder(member.name, member.phone),
            "valid_until": voucher.valid_until,
            "status": STATUS_ZH.get(voucher.status, voucher.status),
            "open": voucher.status == "issued" and voucher.valid_until >= today,
        }
    return render(
        request,
        "voucher_writeoff.html",
        status_code=status,
        code=code,
        voucher=shown,
        notice=notice,
        error=error,
    )


@router.get("/vouchers/writeoff")
def writeoff_page(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may_write_off(request, session, viewer, "voucher.writeoff")
    return _writeoff_page(request, session)


@router.post("/vouchers/writeoff")
def writeoff(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    _may_write_off(request, session, viewer, "voucher.writeoff")
    code = normalise_code(str(form.get("code", "")))
    if form.get("confirm") != "1":
        # The look-up: the counter sees what the code is for before writing it off.
        found = find_voucher(session=session, code=code) if code else None
        if found is None:
            return _writeoff_page(
                request, session, code=code, error="没有这个券码，请核对后重试", status=404
            )
        return _writeoff_page(request, session, code=code, found=found)
    # Bound to the person at the counter (their dealer is recorded with it).
    outcome = write_off_voucher(
        session=session, code=code, by=viewer.username or viewer.actor, now=portal(request).now()
    )
    subject = f"voucher:{outcome.voucher.id}" if outcome.voucher else "voucher:(unknown code)"
    found = (outcome.voucher, outcome.reward, outcome.member) if outcome.voucher else None
    if outcome.refused:
        audit(request, session, viewer, "voucher.writeoff", subject, outcome="refused",
              detail=outcome.refused)  # fmt: skip
        return _writeoff_page(
            request, session, code=code, found=found, error=f"不能核销：{outcome.refused}",
            status=409,
        )  # fmt: skip
    audit(request, session, viewer, "voucher.writeoff", subject)
    return _writeoff_page(
        request,
        session,
        found=found,
        notice=f"已核销 {mask_code(outcome.voucher.code)}：{outcome.reward.name}",
    )
