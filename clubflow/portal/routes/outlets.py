"""Second-tier outlets (二网) in the portal.

/outlets lists the outlets a viewer may see (HQ — the campaign manager, IT, finance, legal —
all, a specialist their region's, a dealer's staff their own) with each review's state and
the documents' expiry; /outlets/new is where a dealer's staff register an outlet with its
three documents (a link or an uploaded scan), which starts the same `outlet-qualification`
run the CLI starts; /outlets/{code} is one outlet: the three reviews with links to their gate
pages (each decided there by its owner), the documents, and the renewal of a document that
expires soon or has expired (it starts the qualification re-review run). The rules live in
the store (`tasks.outlets.store`); refusals are recorded there and in the portal audit.
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session

from clubflow.outlets import RunNotStarted, start_qualification
from clubflow.portal.evidence import EXTENSIONS, EvidenceRefused, read_checked, store_for
from clubflow.portal.viewer import Viewer
from clubflow.portal.web import DB, Forbidden, audit, checked_form, portal, render, require
from clubflow.portal.web import signed_in as signed_in_viewer
from domain.calendar import business_date
from domain.models import Role
from domain.models_outlets import DocumentKind
from domain.outlets import DOCUMENT_TITLES, REVIEWS, days_left
from tasks.audit import Refused
from tasks.outlets.store import (
    DocumentIn,
    OutletError,
    OutletIn,
    OutletView,
    list_outlets,
    load_outlet,
    register_outlet,
    renew_document,
    review_states,
)

router = APIRouter()
# HQ reads every outlet: the campaign manager, IT, and the two HQ reviewers.
HQ_READERS = (Role.campaign_manager, Role.it, Role.finance, Role.legal)
LIST_ROLES = (*HQ_READERS, Role.regional_specialist, Role.dealer)
STATES = {"passed": "已通过", "open": "待审核", "returned": "已退回", "rejected": "已驳回"}
STATES["waiting"] = "未开始"
STATUSES = {"pending": "审核中", "active": "已生效", "suspended": "已暂停", "rejected": "已驳回"}


def _sees(viewer: Viewer, view: OutletView) -> bool:
    if viewer.role in HQ_READERS:
        return True
    if viewer.role == Role.regional_specialist:
        return view.region_code == viewer.region_code
    return viewer.role == Role.dealer and view.dealer_code == viewer.dealer_code


def _own_dealer(viewer: Viewer, view: OutletView) -> bool:
    return viewer.role == Role.dealer and view.dealer_code == viewer.dealer_code


def _documents(request: Request, view: OutletView) -> list[dict]:
    today = business_date(portal(request).now())
    remind = portal(request).settings.outlet_document_reminder_days
    rows = []
    for d in view.documents:
        left = days_left(d.expires_on, today=today)
        rows.append(
            {
                "kind": d.kind,
                "title": DOCUMENT_TITLES.get(DocumentKind(d.kind), d.kind),
                "number": d.number,
                "link": d.link,
                "expires_on": d.expires_on,
                "days_left": left,
                "expired": left < 0,
                "renewable": left <= remind,
            }
        )
    return rows


@router.get("/outlets")
def outlets_page(
    request: Request, viewer: Viewer = Depends(signed_in_viewer), session: Session = DB
):
    require(
        request,
        session,
        viewer,
        viewer.role in LIST_ROLES,
        action="outlets.list",
        subject="outlets",
        reason=f"{viewer.actor} 不能查看二网 (for HQ, the specialists and dealer staff)",
    )
    views = [v for v in list_outlets(session=session) if _sees(viewer, v)]
    rows = [(v, review_states(session=session, code=v.code), _documents(request, v)) for v in views]
    audit(request, session, viewer, "outlets.list", f"outlets:{len(rows)}")
    return render(
        request,
        "outlets.html",
        rows=rows,
        states=STATES,
        statuses=STATUSES,
        may_register=viewer.role == Role.dealer and viewer.dealer_code is not None,
    )


def _dealer_staff(request: Request, session: Session, viewer: Viewer) -> None:
    require(
        request,
        session,
        viewer,
        viewer.role == Role.dealer and viewer.dealer_code is not None,
        action="outlet.register",
        subject="outlets",
        reason=f"{viewer.actor} 不是经销商员工，不能登记二网 (registering is the dealer's)",
    )


def _new_page(request: Request, values: dict, error: str = "", status: int = 200):
    return render(
        request,
        "outlet_new.html",
        status_code=status,
        kinds=[(k.value, DOCUMENT_TITLES[k]) for k in DocumentKind],
        values=values,
        error=error,
    )


@router.get("/outlets/new")
def new_outlet_page(
    request: Request, viewer: Viewer = Depends(signed_in_viewer), session: Session = DB
):
    _dealer_staff(request, session, viewer)
    return _new_page(request, {"code": f"O-{viewer.dealer_code}-"})


async def uploads(request: Request):
    """The parsed multipart form (cached by Starlette: the same one checked_form read)."""
    return await request.form()


def _scan(request: Request, files, name: str, *, code: str) -> str | None:
    """The uploaded scan of field `name`, checked and stored; its location, or None."""
    upload = files.get(name)
    if upload is None or not getattr(upload, "filename", ""):
        return None
    settings = portal(request).settings
    data, kind = read_checked(
        upload.file, filename=upload.filename, declared=upload.content_type or "", settings=settings
    )
    digest = hashlib.sha256(data).hexdigest()
    return store_for(settings).put(f"outlets/{code}/{digest}.{EXTENSIONS[kind]}", data, kind)


def _problems(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '(input)'}: {e['msg']}" for e in exc.errors()
    )


@router.post("/outlets/new")
def register_outlet_page(
    request: Request,
    form: dict = Depends(checked_form),
    files=Depends(uploads),
    viewer: Viewer = Depends(signed_in_viewer),
    session: Session = DB,
):
    _dealer_staff(request, session, viewer)
    p = portal(request)
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf" and isinstance(v, str)}
    code = values.get("code", "")
    subject = f"outlet:{code}"

    def failed(message: str, status: int = 422):
        session.rollback()
        audit(request, session, viewer, "outlet.register", subject, outcome="failed",
              detail=message)  # fmt: skip
        return _new_page(request, values, error=message, status=status)

    documents = []
    try:
        for kind in DocumentKind:
            link = values.get(f"link_{kind.value}", "")
            stored = _scan(request, files, f"file_{kind.value}", code=code or "new")
            documents.append(
                {
                    "kind": kind.value,
                    "number": values.get(f"number_{kind.value}", ""),
                    "expires_on": values.get(f"expires_{kind.value}", "") or None,
                    "link": stored or link,
                }
            )
    except EvidenceRefused as exc:
        return failed(str(exc))
    cities = [c.strip() for c in values.get("cities", "").replace("、", ",").split(",")]
    try:
        outlet = OutletIn(
            code=code,
            name=values.get("name", ""),
            cities=[c for c in cities if c],
            contact_name=values.get("contact_name", ""),
            contact_phone=values.get("contact_phone", ""),
            documents=documents,
        )
    except ValidationError as exc:
        return failed(f"outlet {code}: {_problems(exc)}")
    try:
        view = register_outlet(
            session=session, outlet=outlet, by=viewer.username or viewer.actor, now=p.now()
        )
    except Refused as exc:
        _refused(request, session, viewer, "outlet.register", subject, exc)
    except OutletError as exc:
        return failed(f"outlet {code}: {exc}")
    # The run reads the outlet from the store: it must be there before the run starts.
    session.commit()
    try:
        run_id = start_qualification(view.code, now=p.now().isoformat())
    except RunNotStarted as exc:
        audit(request, session, viewer, "outlet.register", subject, outcome="failed",
              detail=str(exc))  # fmt: skip
        return RedirectResponse(f"/outlets/{view.code}?done=not_started", status_code=303)
    audit(
        request, session, viewer, "outlet.register", subject, detail=f"qualification run {run_id}"
    )
    return RedirectResponse(f"/outlets/{view.code}?done=registered", status_code=303)


def _refused(request, session, viewer, action: str, subject: str, exc: Refused):
    """The store recorded the refusal; the portal's audit too, then the 403 page."""
    audit(request, session, viewer, action, subject, outcome="refused", detail=str(exc))
    session.commit()
    raise Forbidden(str(exc))


def _seen(request, session, viewer: Viewer, code: str, action: str) -> OutletView:
    require(
        request,
        session,
        viewer,
        viewer.role in LIST_ROLES,
        action=action,
        subject=f"outlet:{code}",
        reason=f"{viewer.actor} 不能查看二网 (for HQ, the specialists and dealer staff)",
    )
    try:
        view = load_outlet(session=session, code=code)
    except OutletError as exc:
        raise HTTPException(status_code=404) from exc
    require(
        request,
        session,
        viewer,
        _sees(viewer, view),
        action=action,
        subject=f"outlet:{code}",
        reason=f"{viewer.actor} 不能查看二网 {code} (not their region or dealer)",
    )
    return view


NOTICES = {
    "registered": (
        "二网已登记，三项审核流程已启动：资质审核（区域专员）→ 风险评估（总部财务）"
        "→ 合同审核（总部法务）。"
    ),
    "not_started": "二网已登记，但审核流程未能启动（系统未运行）：请联系总部 IT。",
    "renewed": "证照已更新，资质复审流程已启动（区域专员审核）。",
}


def _outlet_page(request, session, viewer: Viewer, view: OutletView, *, error="", status=200):
    done = request.query_params.get("done", "")
    return render(
        request,
        "outlet.html",
        status_code=status,
        outlet=view,
        reviews=review_states(session=session, code=view.code),
        documents=_documents(request, view),
        owners={review: role for review, (role, _title) in REVIEWS.items()},
        states=STATES,
        statuses=STATUSES,
        may_renew=_own_dealer(viewer, view) and view.status != "rejected",
        error=error,
        notice=NOTICES.get(done, ""),
    )


@router.get("/outlets/{code}")
def outlet_page(
    code: str, request: Request, viewer: Viewer = Depends(signed_in_viewer), session: Session = DB
):
    view = _seen(request, session, viewer, code, "outlets.view")
    audit(request, session, viewer, "outlets.view", f"outlet:{code}")
    return _outlet_page(request, session, viewer, view)


@router.post("/outlets/{code}/renew")
def renew_document_page(
    code: str,
    request: Request,
    form: dict = Depends(checked_form),
    files=Depends(uploads),
    viewer: Viewer = Depends(signed_in_viewer),
    session: Session = DB,
):
    view = _seen(request, session, viewer, code, "outlet.renew")
    p = portal(request)
    subject = f"outlet:{code}"
    require(
        request,
        session,
        viewer,
        _own_dealer(viewer, view),
        action="outlet.renew",
        subject=subject,
        reason=f"{viewer.actor} 不是 {view.dealer_code} 的员工，不能更新二网证照 (the parent's)",
    )
    values = {k: str(v).strip() for k, v in form.items() if k != "csrf" and isinstance(v, str)}

    def failed(message: str):
        session.rollback()
        audit(request, session, viewer, "outlet.renew", subject, outcome="failed",
              detail=message)  # fmt: skip
        return _outlet_page(request, session, viewer, view, error=message, status=422)

    try:
        stored = _scan(request, files, "file", code=code)
        document = DocumentIn(
            kind=values.get("kind", ""),
            number=values.get("number", ""),
            expires_on=values.get("expires_on", "") or None,
            link=stored or values.get("link", ""),
        )
    except EvidenceRefused as exc:
        return failed(str(exc))
    except ValidationError as exc:
        return failed(f"outlet {code}: {_problems(exc)}")
    renewable = {d["kind"] for d in _documents(request, view) if d["renewable"]}
    if document.kind.value not in renewable:
        return failed(
            f"outlet {code}: {document.kind.value} 未临近到期，无需更新 (not expiring soon)"
        )
    try:
        renewed = renew_document(
            session=session,
            code=code,
            document=document,
            by=viewer.username or viewer.actor,
            today=business_date(p.now()),
            now=p.now(),
        )
    except Refused as exc:
        _refused(request, session, viewer, "outlet.renew", subject, exc)
    except (OutletError, LookupError) as exc:
        return failed(f"outlet {code}: {exc}")
    session.commit()
    try:
        run_id = start_qualification(renewed.code, renewed.renewals, now=p.now().isoformat())
    except RunNotStarted as exc:
        audit(request, session, viewer, "outlet.renew", subject, outcome="failed",
              detail=str(exc))  # fmt: skip
        return RedirectResponse(f"/outlets/{code}?done=not_started", status_code=303)
    audit(
        request,
        session,
        viewer,
        "outlet.renew",
        subject,
        detail=f"{document.kind.value} until {document.expires_on}; renewal run {run_id}",
    )
    return RedirectResponse(f"/outlets/{code}?done=renewed", status_code=303)
