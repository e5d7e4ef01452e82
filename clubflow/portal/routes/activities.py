"""The club's activity pages: the list, proposing one, where one stands (steps, gates, recap,
claim, points), filing the recap and the subsidy claim with its evidence files.

Each form does what its `clubflow activity ...` command does: the same checks first (refusals
recorded, problems shown on the form), then the same deployment run or flow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlmodel import Session

from clubflow.core.db import get_engine
from clubflow.core.settings import Settings
from clubflow.portal.evidence import EvidenceRefused, read_checked, save_evidence, store_for
from clubflow.portal.viewer import Viewer
from clubflow.portal.web import (
    DB,
    audit,
    checked_form,
    portal,
    refuse,
    render,
    require,
    signed_in,
)
from domain.activities import ActivityProposal, Problem, ProposalRefused, RecapInput
from domain.calendar import business_date
from domain.models import Activity, Club, Gate, Member, PointsEntry, Recap, Role
from domain.models_portal import EvidenceFile
from domain.privacy import mask_phone
from domain.regions import REGIONS
from domain.subsidy import ClaimInput
from tasks.activities.checkin import club_actor_refusal, participant_count
from tasks.audit import record_refusal

router = APIRouter()

CLUB_CLASSES = ("B", "C", "D", "E")  # A is HQ's
BUDGET_ROWS = 6
CLAIM_ROWS = 6
PHOTO_FIELDS = 4
VIDEO_FIELDS = 2
FIELD_ZH = {
    "title": "活动名称",
    "activity_class": "级别",
    "theme": "主题",
    "region": "区域",
    "club": "俱乐部",
    "starts_on": "开始日期",
    "ends_on": "结束日期",
    "place": "地点",
    "expected_participants": "预计人数",
    "budget": "预算明细",
    "subsidy_requested": "申请补贴",
    "invited_regions": "邀请区域",
    "proposed_by": "提报人",
    "late": "迟报",
    "safety_plan": "安全预案",
    "support_vehicle": "保障车辆",
    "tiers": "限定等级",
}


class RunNotStarted(RuntimeError):
    """The deployment is not served (the system is not up)."""


def start_run(name: str, parameters: dict[str, Any]) -> str:
    """Start deployment `name` as the CLI does (not waiting for it); returns the run id."""
    from prefect.deployments import run_deployment
    from prefect.exceptions import ObjectNotFound

    try:
        run = run_deployment(f"{name}/{name}", parameters=parameters, timeout=0)
    except ObjectNotFound as exc:
        raise RunNotStarted(f"流程 {name} 未部署：请先用 clubflow up 启动系统") from exc
    return str(run.id)


# ---------------------------------------------------------------- who sees what


def _club(session: Session, activity: Activity) -> Club | None:
    return session.get(Club, activity.club_id) if activity.club_id else None


def _sees(session: Session, viewer: Viewer, activity: Activity) -> bool:
    if viewer.is_member:
        return False
    club = _club(session, activity)
    return viewer.sees_club(
        club_id=activity.club_id,
        region_code=activity.region_code,
        dealer_id=club.dealer_id if club else None,
    )


def _activity(request, session, viewer, code: str, action: str) -> Activity:
    activity = session.execute(select(Activity).where(Activity.code == code)).scalar_one_or_none()
    if activity is None:
        require(
            request,
            session,
            viewer,
            not viewer.is_member,
            action=action,
            subject=f"activity:{code}",
            reason=f"{viewer.actor} 不能查看活动 (members have no activity pages)",
        )
        raise HTTPException(status_code=404)
    require(
        request,
        session,
        viewer,
        _sees(session, viewer, activity),
        action=action,
        subject=f"activity:{code}",
        reason=f"{viewer.actor} 不能查看活动 {code} (not their club or region)",
    )
    return activity


def _club_actor(request, session, viewer, activity: Activity, action: str, what: str) -> None:
    """Recap and claim are the club's own: its admins or its dealer (refusal recorded)."""
    reason = club_actor_refusal(session=session, activity=activity, by=viewer.actor, action=what)
    if reason is not None:
        raise refuse(
            request,
            session,
            viewer,
            action=action,
            subject=f"activity:{activity.code}",
            reason=reason,
        )


# ---------------------------------------------------------------- the list


@router.get("/activities")
def activity_list(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    require(
        request,
        session,
        viewer,
        not viewer.is_member,
        action="activity.list",
        subject="activities",
        reason=f"{viewer.actor} 不能查看活动列表 (members have no activity pages)",
    )
    query = select(Activity).order_by(Activity.starts_on.desc(), Activity.id.desc())
    if not viewer.is_hq:
        if viewer.role == Role.regional_specialist:
            query = query.where(Activity.region_code == viewer.region_code)
        elif viewer.role in (Role.club_admin, Role.dealer):
            query = query.where(Activity.club_id == viewer.club_id)
    rows = [a for a in session.execute(query).scalars() if _sees(session, viewer, a)]
    audit(request, session, viewer, "activity.list", "activities", detail=f"{len(rows)} shown")
    return render(
        request,
        "activities.html",
        activities=rows,
        may_propose=viewer.role == Role.club_admin and viewer.club_id is not None,
        notice=request.query_params.get("notice", ""),
    )


# ---------------------------------------------------------------- proposing


def _new_form(request, *, values: dict, errors: dict[str, list[str]], status_code: int = 200):
    return render(
        request,
        "activity_new.html",
        status_code=status_code,
        values=values,
        errors=errors,
        classes=CLUB_CLASSES,
        regions=REGIONS,
        budget_rows=BUDGET_ROWS,
    )


def _may_propose(request, session, viewer) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role == Role.club_admin and viewer.club_id is not None,
        action="activity.propose",
        subject="activities",
        reason=f"{viewer.actor} 不是俱乐部管理员，不能提报活动 (only a club admin proposes)",
    )


@router.get("/activities/new")
def new_activity(request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB):
    _may_propose(request, session, viewer)
    return _new_form(request, values={"activity_class": "C"}, errors={})


def proposal_data(form: dict, viewer: Viewer, region: str) -> dict[str, Any]:
    """The proposal as typed; the proposer and the club are the signed-in person's."""
    budget = []
    for n in range(1, BUDGET_ROWS + 1):
        item = str(form.get(f"item-{n}", "")).strip()
        amount = str(form.get(f"amount-{n}", "")).strip()
        if item or amount:  # blank rows are ignored
            budget.append({"item": item, "amount": amount or None})
    invited = str(form.get("invited_regions", "")).replace("，", ",").replace(" ", ",")
    return {
        "title": str(form.get("title", "")),
        "activity_class": str(form.get("activity_class", "")),
        "theme": str(form.get("theme", "")).strip(),
        "region": region,
        "club": viewer.club_code,
        "starts_on": str(form.get("starts_on", "")) or None,
        "ends_on": str(form.get("ends_on", "")) or None,
        "place": str(form.get("place", "")).strip(),
        "expected_participants": str(form.get("expected_participants", "")).strip() or 0,
        "budget": budget,
        "subsidy_requested": str(form.get("subsidy_requested", "")).strip() or 0,
        "invited_regions": [r for r in invited.split(",") if r.strip()],
        "proposed_by": viewer.username,
        "late": form.get("late") in ("on", "true", "1"),
        "safety_plan": str(form.get("safety_plan", "")).strip(),
        "support_vehicle": str(form.get("support_vehicle", "")).strip(),
        # Tier-only activity: the ticked tiers (none ticked: every member may register).
        "tiers": [t for t in ("ordinary", "silver", "gold") if form.get(f"tier-{t}") == "on"],
    }


def _validation_problems(exc: ValidationError) -> list[Problem]:
    out = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        where = f"第 {int(loc[1]) + 1} 行 " if loc[0] == "budget" and len(loc) > 1 else ""
        out.append(Problem(loc[0] if loc else "form", f"{where}{error['msg']}"))
    return out


def dry_run_proposal(proposal: ActivityProposal, *, now: datetime, settings: Settings) -> str:
    """The store's checks without keeping anything (as `clubflow activity propose`): the
    activity's code, or ProposalRefused."""
    from tasks.activities.store import register_proposal

    with Session(get_engine(settings.database_url)) as session:
        try:
            return register_proposal(
                session=session, proposal=proposal, now=now, settings=settings
            ).code
        finally:
            session.rollback()


@router.post("/activities/new")
def propose_activity(
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    p = portal(request)
    _may_propose(request, session, viewer)
    club = session.get(Club, viewer.club_id)
    data = proposal_data(form, viewer, club.region_code)
    values = {k: v for k, v in form.items() if k != "csrf"}
    problems: list[Problem] = []
    proposal = None
    if data["activity_class"] not in CLUB_CLASSES:
        problems.append(Problem("activity_class", "俱乐部只能提报 B–E 类活动（A 类由总部创建）"))
    else:
        try:
            proposal = ActivityProposal.model_validate(data)
        except ValidationError as exc:
            problems = _validation_problems(exc)
    code = None
    if proposal is not None:
        try:
            code = dry_run_proposal(proposal, now=p.now(), settings=p.settings)
        except ProposalRefused as exc:
            problems = exc.problems
    if problems:
        reason = "; ".join(map(str, problems))
        record_refusal(
            session=session,
            action="activity.propose",
            subject=f"club:{viewer.club_code}",
            actor=viewer.actor,
            reason=reason,
            now=p.now(),
        )
        audit(
            request,
            session,
            viewer,
            "activity.propose",
            f"club:{viewer.club_code}",
            outcome="refused",
            detail=reason,
        )
        errors: dict[str, list[str]] = {}
        for problem in problems:
            errors.setdefault(problem.field, []).append(problem.reason)
        return _new_form(request, values=values, errors=errors, status_code=422)
    try:
        run_id = start_run(
            "activity-lifecycle",
            {"proposal": proposal.model_dump(mode="json"), "now": p.now().isoformat()},
        )
    except RunNotStarted as exc:
        audit(
            request,
            session,
            viewer,
            "activity.propose",
            f"activity:{code}",
            outcome="failed",
            detail=str(exc),
        )
        return _new_form(request, values=values, errors={"form": [str(exc)]}, status_code=503)
    audit(
        request,
        session,
        viewer,
        "activity.propose",
        f"activity:{code}",
        detail=f"class {proposal.activity_class}; lifecycle run {run_id}",
    )
    return render(
        request,
        "activity_started.html",
        code=code,
        title=proposal.title,
        what="活动提报已提交，审核流程已启动",
        run_id=run_id,
    )


# ---------------------------------------------------------------- where it stands


@dataclass
class Stand:
    """What the activity page shows besides the activity row."""

    participants: int
    recap: Recap | None
    claim: Any
    gates: list[Gate]
    points: list[dict]
    points_total: int
    evidence: dict[str, EvidenceFile]
    recap_due: bool
    claim_due: bool


def _categories(settings: Settings, klass: str) -> dict[str, str]:
    policy = settings.subsidy_policy
    return {
        name: policy.categories[name].label_zh
        for name in policy.classes[klass].caps
        if name in policy.categories
    }


def stand_of(*, session: Session, activity: Activity, today, settings: Settings) -> Stand:
    from tasks.activities.claims import read_claim

    recap = session.execute(
        select(Recap).where(Recap.activity_id == activity.id)
    ).scalar_one_or_none()
    try:
        claim = read_claim(session=session, code=activity.code)
    except LookupError:
        claim = None
    gates = list(
        session.execute(
            select(Gate)
            .where(
                or_(
                    (Gate.subject_type == "activity") & (Gate.subject_id == activity.id),
                    (Gate.subject_type == "claim") & (Gate.subject_code == activity.code),
                )
            )
            .order_by(Gate.id)
        ).scalars()
    )
    rows = session.execute(
        select(Member.member_no, Member.name, Member.phone, PointsEntry.amount, PointsEntry.reason)
        .join(Member, Member.id == PointsEntry.member_id)
        .where(PointsEntry.activity_id == activity.id)
        .order_by(Member.member_no)
    ).all()
    points = [
        {
            "member_no": no,
            "name": name,
            "phone": mask_phone(phone),
            "amount": amount,
            "reason": reason,
        }
        for no, name, phone, amount, reason in rows
    ]
    evidence = {
        e.location: e
        for e in session.execute(
            select(EvidenceFile).where(EvidenceFile.activity_id == activity.id)
        ).scalars()
    }
    live = activity.status in ("approved", "announced")
    return Stand(
        participants=participant_count(session=session, activity_id=activity.id),
        recap=recap,
        claim=claim,
        gates=gates,
        points=points,
        points_total=sum(p["amount"] for p in points),
        evidence=evidence,
        recap_due=live and recap is None and today >= activity.ends_on,
        claim_due=recap is not None
        and claim is None
        and bool(_categories(settings, str(activity.klass))),
    )


@router.get("/activities/{code}")
def activity_page(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    from tasks.activities.store import ActivityView, upcoming_steps

    p = portal(request)
    activity = _activity(request, session, viewer, code, "activity.view")
    view = ActivityView.of(activity)
    stand = stand_of(
        session=session, activity=activity, today=business_date(p.now()), settings=p.settings
    )
    club = _club(session, activity)
    is_club = (
        club_actor_refusal(session=session, activity=activity, by=viewer.actor, action="view")
        is None
    )
    audit(request, session, viewer, "activity.view", f"activity:{code}")
    return render(
        request,
        "activity.html",
        activity=activity,
        view=view,
        club=club,
        steps=upcoming_steps(view),
        stand=stand,
        is_club=is_club,
        total_budget=sum(float(b.get("amount", 0)) for b in activity.budget or []),
        notice=request.query_params.get("notice", ""),
    )


# ---------------------------------------------------------------- recap


def _recap_form(request, activity, *, values, errors, status_code=200):
    return render(
        request,
        "activity_recap.html",
        status_code=status_code,
        activity=activity,
        values=values,
        errors=errors,
        photo_fields=PHOTO_FIELDS,
        video_fields=VIDEO_FIELDS,
    )


def _recap_state_problem(session: Session, activity: Activity, today) -> str | None:
    if session.execute(select(Recap.id).where(Recap.activity_id == activity.id)).first():
        return f"活动 {activity.code} 的总结已提交 (the recap was already filed)"
    if activity.status not in ("approved", "announced"):
        return f"活动 {activity.code} 状态为 {activity.status}，不能提交总结"
    if today < activity.ends_on:
        return f"活动 {activity.code} 于 {activity.ends_on} 结束，结束后再提交总结"
    return None


@router.get("/activities/{code}/recap")
def recap_form(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    activity = _activity(request, session, viewer, code, "activity.recap")
    _club_actor(request, session, viewer, activity, "activity.recap", "the recap")
    problem = _recap_state_problem(session, activity, business_date(portal(request).now()))
    return _recap_form(request, activity, values={}, errors={"form": [problem]} if problem else {})


def _is_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and " " not in value


def recap_data(form: dict) -> tuple[dict[str, Any], dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    links = []
    names = [f"photo-{n}" for n in range(1, PHOTO_FIELDS + 1)]
    names += [f"video-{n}" for n in range(1, VIDEO_FIELDS + 1)]
    for name in names:
        value = str(form.get(name, "")).strip()
        if not value:
            continue
        if _is_url(value):
            links.append(value)
        else:
            errors.setdefault(name, []).append(f"「{value}」不是 http(s) 链接")
    data: dict[str, Any] = {"media_links": links, "notes": str(form.get("notes", "")).strip()}
    for name, kind in (("media_posts", int), ("media_reads", int), ("feedback_score", float)):
        value = str(form.get(name, "")).strip()
        if not value:
            continue
        try:
            data[name] = kind(value)
        except ValueError:
            errors.setdefault(name, []).append(f"「{value}」不是数字")
    return data, errors


@router.post("/activities/{code}/recap")
def file_recap(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    from flows.activities.recap import activity_recap
    from tasks.activities.refusals import ActivityError

    p = portal(request)
    activity = _activity(request, session, viewer, code, "activity.recap")
    _club_actor(request, session, viewer, activity, "activity.recap", "the recap")
    values = {k: v for k, v in form.items() if k != "csrf"}
    data, errors = recap_data(form)
    recap = None
    if not errors:
        try:
            recap = RecapInput.model_validate({**data, "filed_by": viewer.actor})
        except ValidationError as exc:
            for problem in _validation_problems(exc):
                errors.setdefault(problem.field, []).append(problem.reason)
    problem = _recap_state_problem(session, activity, business_date(p.now()))
    if problem:
        errors.setdefault("form", []).append(problem)
    if not errors:
        try:
            activity_recap(code, recap, now=p.now())
        except (ActivityError, LookupError) as exc:
            errors["form"] = [str(exc)]
    if errors:
        detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items())
        audit(
            request,
            session,
            viewer,
            "activity.recap",
            f"activity:{code}",
            outcome="refused",
            detail=detail,
        )
        return _recap_form(request, activity, values=values, errors=errors, status_code=422)
    audit(
        request,
        session,
        viewer,
        "activity.recap",
        f"activity:{code}",
        detail=f"{len(recap.media_links)} links",
    )
    session.expire_all()
    return _activity_redirect(code, "活动总结已提交")


def _activity_redirect(code: str, notice: str):
    from urllib.parse import quote

    from fastapi.responses import RedirectResponse

    return RedirectResponse(f"/activities/{code}?notice={quote(notice)}", status_code=303)


# ---------------------------------------------------------------- claim


def _claim_form(request, activity, *, values, errors, categories, status_code=200):
    s = portal(request).settings
    return render(
        request,
        "activity_claim.html",
        status_code=status_code,
        activity=activity,
        values=values,
        errors=errors,
        categories=categories,
        claim_rows=CLAIM_ROWS,
        max_mb=s.evidence_max_mb,
        accept=",".join(s.evidence_types),
    )


def _claim_state_problem(session: Session, activity: Activity, categories) -> str | None:
    from tasks.activities.claims import read_claim

    if not categories:
        return f"{activity.klass} 类活动没有补贴可申报"
    if not session.execute(select(Recap.id).where(Recap.activity_id == activity.id)).first():
        return f"活动 {activity.code} 尚未提交总结；补贴申报须在总结之后"
    try:
        claim = read_claim(session=session, code=activity.code)
    except LookupError:
        return None
    return f"活动 {activity.code} 已有补贴申报（{claim.status}）"


async def uploads(request: Request):
    """The parsed multipart form (cached by Starlette: the same one checked_form read)."""
    return await request.form()


@router.get("/activities/{code}/claim")
def claim_form(
    code: str, request: Request, viewer: Viewer = Depends(signed_in), session: Session = DB
):
    activity = _activity(request, session, viewer, code, "activity.claim")
    _club_actor(request, session, viewer, activity, "activity.claim", "the subsidy claim")
    categories = _categories(portal(request).settings, str(activity.klass))
    problem = _claim_state_problem(session, activity, categories)
    return _claim_form(
        request,
        activity,
        values={},
        errors={"form": [problem]} if problem else {},
        categories=categories,
    )


@router.post("/activities/{code}/claim")
def file_claim(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    files=Depends(uploads),
    viewer: Viewer = Depends(signed_in),
    session: Session = DB,
):
    p = portal(request)
    activity = _activity(request, session, viewer, code, "activity.claim")
    _club_actor(request, session, viewer, activity, "activity.claim", "the subsidy claim")
    categories = _categories(p.settings, str(activity.klass))
    values = {k: v for k, v in form.items() if k != "csrf" and isinstance(v, str)}
    errors: dict[str, list[str]] = {}
    problem = _claim_state_problem(session, activity, categories)
    if problem:
        errors["form"] = [problem]

    # Lines as typed; every file checked before any is stored.
    lines, checked = [], []
    for n in range(1, CLAIM_ROWS + 1):
        category = str(form.get(f"category-{n}", "")).strip()
        amount = str(form.get(f"amount-{n}", "")).strip()
        note = str(form.get(f"note-{n}", "")).strip()
        attached = [f for f in files.getlist(f"evidence-{n}") if getattr(f, "filename", "")]
        if not (category or amount or attached):
            continue
        if category not in categories:
            errors.setdefault(f"line-{n}", []).append(f"类别 {category or '(空)'} 不可申报")
        try:
            value = float(amount)
        except ValueError:
            errors.setdefault(f"line-{n}", []).append(f"金额「{amount}」不是数字")
            value = 0.0
        mine = []
        for upload in attached:
            try:
                data, kind = read_checked(
                    upload.file,
                    filename=upload.filename,
                    declared=upload.content_type or "",
                    settings=p.settings,
                )
            except EvidenceRefused as exc:
                errors.setdefault(f"line-{n}", []).append(str(exc))
                continue
            mine.append((upload.filename, kind, data))
        lines.append({"category": category, "amount": value, "description": note})
        checked.append(mine)
    if not lines and not errors:
        errors["form"] = ["请至少填写一行补贴申报"]
    if errors:
        detail = "; ".join(" ".join(v) for v in errors.values())
        record_refusal(
            session=session,
            action="activity.claim",
            subject=f"activity:{code}",
            actor=viewer.actor,
            reason=detail,
            now=p.now(),
        )
        audit(
            request,
            session,
            viewer,
            "activity.claim",
            f"activity:{code}",
            outcome="refused",
            detail=detail,
        )
        return _claim_form(
            request, activity, values=values, errors=errors, categories=categories, status_code=422
        )

    store = store_for(p.settings)
    try:
        for line, mine in zip(lines, checked, strict=True):
            locations = [
                save_evidence(
                    session=session,
                    activity_id=activity.id,
                    activity_code=code,
                    filename=name,
                    content_type=kind,
                    data=data,
                    store=store,
                    uploaded_by=viewer.actor,
                    now=p.now(),
                ).location
                for name, kind, data in mine
            ]
            line["evidence"] = list(dict.fromkeys(locations))  # the same file twice: once
    except EvidenceRefused as exc:
        session.rollback()
        audit(
            request,
            session,
            viewer,
            "activity.claim",
            f"activity:{code}",
            outcome="failed",
            detail=str(exc),
        )
        return _claim_form(
            request,
            activity,
            values=values,
            errors={"form": [str(exc)]},
            categories=categories,
            status_code=502,
        )
    claim = ClaimInput(submitted_by=viewer.actor, lines=lines)
    session.commit()  # the files are kept even if the run cannot start
    try:
        run_id = start_run(
            "activity-claim",
            {"code": code, "claim": claim.model_dump(mode="json"), "now": p.now().isoformat()},
        )
    except RunNotStarted as exc:
        audit(
            request,
            session,
            viewer,
            "activity.claim",
            f"activity:{code}",
            outcome="failed",
            detail=str(exc),
        )
        return _claim_form(
            request,
            activity,
            values=values,
            errors={"form": [str(exc)]},
            categories=categories,
            status_code=503,
        )
    files_count = sum(len(line["evidence"]) for line in lines)
    audit(
        request,
        session,
        viewer,
        "activity.claim",
        f"activity:{code}",
        detail=f"{len(lines)} lines, {files_count} evidence files; claim run {run_id}",
    )
    return render(
        request,
        "activity_started.html",
        code=code,
        title=activity.title,
        what="补贴申报已提交，区域专员将逐行审批",
        run_id=run_id,
    )
