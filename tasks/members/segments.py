"""Weekly segmentation (active / sleeping / lost), snapshots per club, and the reactivation
campaign: one invitation per sleep episode to the club's next activity."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from sqlalchemy import and_, delete, func, select, update
from sqlmodel import Session

from clubflow.core.db import insert_ignoring_conflicts
from clubflow.core.settings import Settings
from domain.calendar import business_date
from domain.consent import Purpose
from domain.members import MemberStatus, Segment, recipient, segment_for, sleeping_since, zh_date
from domain.models import Activity, Club, Member, Region, Registration
from domain.models_members import MemberInteraction, ReactivationInvitation, SegmentSnapshot
from domain.models_retention import MemberCallback
from domain.retention import CHURN_LABELS, ChurnReason
from tasks.common import chunks, data_task
from tasks.outbox import NotificationRequest, queue_notifications

# Activities a member can still be invited to (the activities area's statuses).
INVITABLE_STATUSES = ("approved", "announced")


@dataclass
class ClubSegments:
    club_id: int | None
    club: str
    region_code: str | None
    region: str
    counts: dict[str, int] = field(default_factory=dict)
    reactivated: int = 0
    newly_sleeping: int = 0
    # Lost members called back who came back (counted in `reactivated` too).
    reactivated_after_callback: int = 0
    churn: dict[str, int] = field(default_factory=dict)  # churn reason → call-backs


@dataclass
class SegmentReport:
    as_of: date
    clubs: list[ClubSegments] = field(default_factory=list)
    changed: int = 0
    reactivated: int = 0

    def by_region(self) -> dict[str, dict[str, int]]:
        out: dict[str, Counter] = defaultdict(Counter)
        for club in self.clubs:
            out[club.region].update(club.counts)
            out[club.region]["newly_sleeping"] += club.newly_sleeping
            out[club.region]["reactivated"] += club.reactivated
            for reason, n in club.churn.items():
                out[club.region][f"churn:{reason}"] += n
        return {region: dict(counts) for region, counts in sorted(out.items())}


@dataclass
class InvitationReport:
    invited: list[str] = field(default_factory=list)
    to_activity: int = 0
    generic: int = 0
    no_consent: int = 0  # sleeping members not invited: no marketing consent


def last_interactions(
    *, session: Session
) -> list[tuple[int, int | None, str | None, date | None, date]]:
    """(member id, club id, segment, segment since, last interaction day) of active members.

    The last interaction is the latest of: joining, activation, a recorded interaction, an
    activity check-in, and `last_interaction_at` as other areas set it.
    """
    interactions = (
        select(MemberInteraction.member_id, func.max(MemberInteraction.occurred_at).label("at"))
        .group_by(MemberInteraction.member_id)
        .subquery()
    )
    checkins = (
        select(Registration.member_id, func.max(Registration.checked_in_at).label("at"))
        .where(Registration.checked_in_at.is_not(None))
        .group_by(Registration.member_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Member.id,
            Member.club_id,
            Member.segment,
            Member.segment_since,
            Member.joined_at,
            Member.activated_at,
            Member.last_interaction_at,
            interactions.c.at,
            checkins.c.at,
        )
        .outerjoin(interactions, interactions.c.member_id == Member.id)
        .outerjoin(checkins, checkins.c.member_id == Member.id)
        .where(Member.status == MemberStatus.active)
    ).all()
    out = []
    for member_id, club_id, segment, since, *moments in rows:
        # Aggregates over a TypeDecorator column come back raw on SQLite: normalise them.
        last = max(_aware(m) for m in moments if m is not None)
        out.append((member_id, club_id, segment, since, business_date(last)))
    return out


def _aware(moment: datetime | str) -> datetime:
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def segment_members(
    *, session: Session, as_of: date, now: datetime, settings: Settings
) -> SegmentReport:
    """Put every active member in a segment as of `as_of`, mark invitations of members who came
    back as reactivated, and store this week's counts per club (a re-run replaces them)."""
    active_days, lost_days = settings.segment_active_days, settings.segment_lost_days
    counts: dict[int | None, Counter] = defaultdict(Counter)
    newly_sleeping: Counter = Counter()
    updates, came_back = [], {}
    for member_id, club_id, old, old_since, last in last_interactions(session=session):
        new = segment_for(last, as_of, active_days=active_days, lost_days=lost_days)
        counts[club_id][new] += 1
        since = {
            Segment.active: last,
            Segment.sleeping: sleeping_since(last, active_days=active_days),
            Segment.lost: last + timedelta(days=lost_days + 1),
        }[new]
        if (old, old_since) != (new, since):
            updates.append({"id": member_id, "segment": new, "segment_since": since})
        if new == Segment.sleeping and old != Segment.sleeping:
            newly_sleeping[club_id] += 1
        if new == Segment.active and old in (Segment.sleeping, Segment.lost):
            came_back[member_id] = last
    for batch in chunks(updates):
        session.execute(update(Member), batch)

    reactivated: Counter = Counter()
    after_callback: Counter = Counter()
    for member_id, day in came_back.items():
        result = session.execute(
            update(ReactivationInvitation)
            .where(
                ReactivationInvitation.member_id == member_id,
                ReactivationInvitation.reactivated_on.is_(None),
            )
            .values(reactivated_on=day)
            .returning(ReactivationInvitation.club_id)
        ).all()
        for (club_id,) in result:
            reactivated[club_id] += 1
        # A lost member called back who interacts again is reactivated too (once per episode).
        called_back = session.execute(
            update(MemberCallback)
            .where(MemberCallback.member_id == member_id, MemberCallback.reactivated_on.is_(None))
            .values(reactivated_on=day)
            .returning(MemberCallback.club_id)
        ).all()
        if called_back and not result:
            reactivated[called_back[0][0]] += 1
        for (club_id,) in called_back[:1]:
            after_callback[club_id] += 1

    churn = churn_reasons_by_club(session=session)
    clubs = {c.id: c for c in session.execute(select(Club.id, Club.name, Club.region_code)).all()}
    regions = dict(session.execute(select(Region.code, Region.name_zh)).all())
    report = SegmentReport(as_of=as_of, changed=len(updates), reactivated=sum(reactivated.values()))
    snapshots = []
    for club_id in sorted(set(counts) | set(churn), key=lambda c: (c is None, c or 0)):
        club = clubs.get(club_id)
        region_code = club.region_code if club else None
        entry = ClubSegments(
            club_id=club_id,
            club=club.name if club else "（未归属俱乐部）",
            region_code=region_code,
            region=regions.get(region_code, "—"),
            counts={s.value: counts[club_id][s] for s in Segment},
            reactivated=reactivated[club_id],
            newly_sleeping=newly_sleeping[club_id],
            reactivated_after_callback=after_callback[club_id],
            churn=dict(churn.get(club_id, {})),
        )
        report.clubs.append(entry)
        for segment in Segment:
            snapshots.append(
                {
                    "as_of": as_of,
                    "club_id": club_id,
                    "region_code": region_code,
                    "segment": segment.value,
                    "members": counts[club_id][segment],
                    "newly_sleeping": newly_sleeping[club_id] if segment == Segment.sleeping else 0,
                    "reactivated": reactivated[club_id] if segment == Segment.active else 0,
                }
            )
    session.execute(delete(SegmentSnapshot).where(SegmentSnapshot.as_of == as_of))
    insert_ignoring_conflicts(
        session, SegmentSnapshot, snapshots, on=["as_of", "club_id", "segment"]
    )
    return report


def churn_reasons_by_club(*, session: Session) -> dict[int | None, Counter]:
    """club id → Counter of the churn reasons (labels, e.g. 价格) recorded on call-backs."""
    out: dict[int | None, Counter] = defaultdict(Counter)
    rows = session.execute(
        select(MemberCallback.club_id, MemberCallback.churn_reason, func.count())
        .where(MemberCallback.churn_reason.is_not(None))
        .group_by(MemberCallback.club_id, MemberCallback.churn_reason)
    ).all()
    for club_id, reason, n in rows:
        out[club_id][CHURN_LABELS[ChurnReason(reason)]] += n
    return out


def next_activities(*, session: Session, club_ids: set[int], after: date) -> dict[int, Activity]:
    """The next invitable activity of each club starting after `after`."""
    out: dict[int, Activity] = {}
    if not club_ids:
        return out
    rows = session.execute(
        select(Activity)
        .where(
            Activity.club_id.in_(club_ids),
            Activity.starts_on > after,
            Activity.status.in_(INVITABLE_STATUSES),
        )
        .order_by(Activity.starts_on, Activity.id)
    ).scalars()
    for activity in rows:
        out.setdefault(activity.club_id, activity)
    return out


def invite_sleeping_members(
    *, session: Session, as_of: date, now: datetime, settings: Settings
) -> InvitationReport:
    """Invite every sleeping member not yet invited in this sleep episode: to the club's next
    activity, or (none planned) a generic invitation back to the club."""
    invited = ReactivationInvitation
    rows = session.execute(
        select(
            Member.id,
            Member.member_no,
            Member.name,
            Member.club_id,
            Member.segment_since,
            Club.name,
        )
        .outerjoin(Club, Club.id == Member.club_id)
        .outerjoin(
            invited,
            and_(invited.member_id == Member.id, invited.sleeping_since == Member.segment_since),
        )
        .where(
            Member.status == MemberStatus.active,
            Member.segment == Segment.sleeping,
            invited.id.is_(None),
        )
        .order_by(Member.id)
    ).all()
    report = InvitationReport()
    if not rows:
        return report
    upcoming = next_activities(
        session=session, club_ids={r[3] for r in rows if r[3] is not None}, after=as_of
    )
    invitations, requests = [], []
    for member_id, no, name, club_id, since, club in rows:
        activity = upcoming.get(club_id)
        invitations.append(
            {
                "member_id": member_id,
                "club_id": club_id,
                "sleeping_since": since,
                "activity_id": activity.id if activity else None,
                "invited_at": now,
            }
        )
        context = {"name": name, "club": club or "羽林车友俱乐部", "activity": None}
        if activity is not None:
            context["activity"] = {
                "title": activity.title,
                "day": zh_date(activity.starts_on),
                "place": activity.place,
            }
            report.to_activity += 1
        else:
            report.generic += 1
        report.invited.append(no)
        requests.append(
            NotificationRequest(
                recipient=recipient(no),
                template="member_reactivation",
                context=context,
                idem_key=f"member:{no}:reactivation:{since.isoformat()}",
                purpose=Purpose.marketing,
            )
        )
    # Marketing: a member without consent is not invited (and is asked again next week).
    queued = queue_notifications(session=session, requests=requests, now=now, settings=settings)
    refused = {r.recipient for r in requests if r.idem_key in queued.refused}
    if refused:
        kept = [r.recipient not in refused for r in requests]
        invitations = [i for i, keep in zip(invitations, kept, strict=True) if keep]
        report.invited = [no for no, keep in zip(report.invited, kept, strict=True) if keep]
        report.to_activity -= sum(
            1 for r, keep in zip(requests, kept, strict=True) if not keep and r.context["activity"]
        )
        report.generic -= sum(
            1
            for r, keep in zip(requests, kept, strict=True)
            if not keep and not r.context["activity"]
        )
        report.no_consent = len(refused)
    insert_ignoring_conflicts(
        session, ReactivationInvitation, invitations, on=["member_id", "sleeping_since"]
    )
    return report


def reactivated_in_month(*, session: Session, year: int, month: int) -> dict[int | None, int]:
    """Members who came back after an invitation, by club, in one month (monthly report)."""
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    rows = session.execute(
        select(ReactivationInvitation.club_id, func.count())
        .where(ReactivationInvitation.reactivated_on >= start)
        .where(ReactivationInvitation.reactivated_on < end)
        .group_by(ReactivationInvitation.club_id)
    ).all()
    return dict(rows)


@task(name="publish-member-segments")
def publish_segments(as_of: date, report: SegmentReport, invitations: InvitationReport) -> None:
    """A table per region (its clubs' segments) and one markdown table of every region."""
    for region_code in sorted({c.region_code for c in report.clubs if c.region_code}):
        create_table_artifact(
            key=f"member-segments-{region_code}",
            table=[
                {
                    "club": c.club,
                    "active": c.counts["active"],
                    "sleeping": c.counts["sleeping"],
                    "lost": c.counts["lost"],
                    "newly sleeping": c.newly_sleeping,
                    "reactivated": c.reactivated,
                    "reactivated after call-back": c.reactivated_after_callback,
                    "churn reasons": ", ".join(f"{k} {v}" for k, v in sorted(c.churn.items()))
                    or "—",
                }
                for c in report.clubs
                if c.region_code == region_code
            ],
            description=f"Member segments per club, {as_of.isoformat()}",
        )
    lines = [
        "| region | active | sleeping | lost | newly sleeping | reactivated |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for region, counts in report.by_region().items():
        lines.append(
            f"| {region} | {counts.get('active', 0)} | {counts.get('sleeping', 0)} | "
            f"{counts.get('lost', 0)} | {counts.get('newly_sleeping', 0)} | "
            f"{counts.get('reactivated', 0)} |"
        )
    reasons = [CHURN_LABELS[r] for r in ChurnReason]
    lines += [
        "",
        "Churn reasons of lost members called back (流失原因):",
        "",
        "| region | " + " | ".join(reasons) + " |",
        "|---|" + "---:|" * len(reasons),
    ]
    for region, counts in report.by_region().items():
        lines.append(
            f"| {region} | " + " | ".join(str(counts.get(f"churn:{r}", 0)) for r in reasons) + " |"
        )
    create_markdown_artifact(
        key="member-segments",
        markdown=(
            f"### Member segments by region, {as_of.isoformat()}\n\n"
            + "\n".join(lines)
            + f"\n\nReactivation invitations sent: {len(invitations.invited)} "
            f"({invitations.to_activity} to a planned activity, {invitations.generic} generic); "
            f"{invitations.no_consent} not invited without marketing consent."
        ),
        description="Active / sleeping / lost members by region",
    )


segment_members_task = data_task(
    segment_members, name="assign-member-segments", retries=2, retry_delay_seconds=5
)
invite_sleeping_members_task = data_task(invite_sleeping_members, retries=2, retry_delay_seconds=5)
