"""Who hosts each quarter's cross-region crossing, and in which month (七大区域轮流坐庄).

The rule (the brand's crossing rotation), pure and deterministic:

- The host's terrain must suit the season of the event month. A quarter holds two seasons
  (Q1: Jan–Feb winter + Mar spring, Q2: Apr–May spring + Jun summer, ...), so the month is
  chosen together with the host.
- Every region hosts once in each cycle of seven hostings.
- Among the regions that may host, the one that has waited longest goes first.
- Look-ahead: a region "may host" only if the rest of the cycle can still be completed in the
  quarters that follow (Nanjing only hosts in summer and Shenyang only in winter, so a greedy
  choice can strand one of them at the end of a cycle). The search is a small memoised
  backtracking over (quarter of the year, regions still due).
- A manual override (host and reason) is recorded as such; the cycle adapts: an override host
  still due in the cycle counts as its hosting, one that already hosted is an extra
  (off-cycle) hosting and the cycle carries on around it.
- A history that already strands a region (e.g. a past override) is repaired with the fewest
  *stand-in* hostings: a region that already hosted this cycle hosts again, off-cycle, in a
  quarter where no region still due can. From a fresh cycle this never happens: any seven
  consecutive quarters can seat all seven regions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import total_ordering

from domain.regions import REGIONS, SEASON_OF_MONTH, region_info

# Which month of the quarter to prefer when the host fits several (positions 1..3). The middle
# month first: the quarter plan goes out a month ahead, so the middle month gives the host and
# the invited regions at least six weeks to prepare, and it stays clear of the New Year and
# National Day holidays at the quarter edges; the first month is the last resort.
DEFAULT_MONTH_PREFERENCE: tuple[int, ...] = (2, 3, 1)

_QUARTER_RE = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")


class RotationError(ValueError):
    """The rotation cannot be planned as asked; the message names the quarter and region."""


@total_ordering
@dataclass(frozen=True)
class Quarter:
    year: int
    q: int

    def __post_init__(self) -> None:
        if self.q not in (1, 2, 3, 4):
            raise RotationError(f"quarter number must be 1..4, got {self.q} (year {self.year})")

    @classmethod
    def parse(cls, text: str | Quarter) -> Quarter:
        """'2027Q2', '2027-Q2' or '2027q2'."""
        if isinstance(text, Quarter):
            return text
        match = _QUARTER_RE.match(str(text))
        if not match:
            raise RotationError(f"quarter {text!r}: expected YYYYQn, e.g. 2027Q2")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @classmethod
    def from_index(cls, index: int) -> Quarter:
        return cls(index // 4, index % 4 + 1)

    @property
    def index(self) -> int:
        """Consecutive quarters have consecutive indexes (the waiting time is a difference)."""
        return self.year * 4 + self.q - 1

    @property
    def months(self) -> tuple[int, int, int]:
        first = 3 * (self.q - 1) + 1
        return (first, first + 1, first + 2)

    @property
    def first_day(self) -> date:
        return date(self.year, self.months[0], 1)

    @property
    def last_day(self) -> date:
        nxt = self.next()
        return date.fromordinal(nxt.first_day.toordinal() - 1)

    def next(self, n: int = 1) -> Quarter:
        return Quarter.from_index(self.index + n)

    def __lt__(self, other: Quarter) -> bool:
        return self.index < other.index

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"


@dataclass(frozen=True)
class Hosting:
    """One quarter's crossing host, past (history) or planned."""

    quarter: Quarter
    region: str
    month: int
    override: bool = False
    reason: str = ""
    # Filled in by the rule: whether this hosting counts as the region's turn in its cycle.
    on_cycle: bool = True
    cycle: int = 0


@dataclass(frozen=True)
class Override:
    region: str
    reason: str
    month: int | None = None


@dataclass(frozen=True)
class SeasonTable:
    """The season policy: the season of each month, the seasons each region's terrain suits."""

    season_of_month: Mapping[int, str]
    region_seasons: Mapping[str, frozenset[str]]
    order: tuple[str, ...]  # region order, the last tie-break

    @classmethod
    def default(cls) -> SeasonTable:
        return cls(
            season_of_month=dict(SEASON_OF_MONTH),
            region_seasons={r.code: frozenset(r.seasons) for r in REGIONS},
            order=tuple(r.code for r in REGIONS),
        )

    def fits(self, region: str, month: int) -> bool:
        return self.season_of_month[month] in self.region_seasons[region]

    def months_for(
        self, region: str, quarter: Quarter, preference: Sequence[int] = DEFAULT_MONTH_PREFERENCE
    ) -> list[int]:
        months = quarter.months
        return [months[p - 1] for p in preference if self.fits(region, months[p - 1])]


@dataclass
class RotationState:
    """Where the rotation stands after a history: the cycle, who is still due, who waited."""

    table: SeasonTable
    cycle: int = 1
    due: frozenset[str] = frozenset()
    last_hosted: dict[str, int] = field(default_factory=dict)  # region -> quarter index
    last_quarter: Quarter | None = None
    hostings: list[Hosting] = field(default_factory=list)

    def waited(self, region: str, quarter: Quarter) -> int | None:
        """Quarters since the region last hosted; None if it never hosted."""
        last = self.last_hosted.get(region)
        return None if last is None else quarter.index - last

    def preference(self, regions: Iterable[str], quarter: Quarter) -> list[str]:
        """Longest-waiting first; never-hosted before all; then the fixed region order."""
        order = {code: i for i, code in enumerate(self.table.order)}

        def key(region: str) -> tuple[int, int]:
            waited = self.waited(region, quarter)
            return (-(10**9 if waited is None else waited), order[region])

        return sorted(regions, key=key)

    def record(self, hosting: Hosting) -> Hosting:
        """Apply one hosting (past or planned); returns it with on_cycle and cycle filled in."""
        if hosting.region not in self.table.region_seasons:
            raise RotationError(
                f"quarter {hosting.quarter}: unknown host region {hosting.region!r}"
            )
        if self.last_quarter is not None and hosting.quarter <= self.last_quarter:
            raise RotationError(
                f"quarter {hosting.quarter}: already has a host or is before {self.last_quarter}"
            )
        on_cycle = hosting.region in self.due
        recorded = replace(hosting, on_cycle=on_cycle, cycle=self.cycle)
        if on_cycle:
            self.due = self.due - {hosting.region}
            if not self.due:
                self.cycle += 1
                self.due = frozenset(self.table.order)
        self.last_hosted[hosting.region] = hosting.quarter.index
        self.last_quarter = hosting.quarter
        self.hostings.append(recorded)
        return recorded


def replay(history: Iterable[Hosting], table: SeasonTable | None = None) -> RotationState:
    """The state after the past hostings, in quarter order (the given order does not matter)."""
    table = table or SeasonTable.default()
    state = RotationState(table=table, due=frozenset(table.order))
    past = sorted(history, key=lambda h: h.quarter)
    for earlier, later in zip(past, past[1:], strict=False):
        if earlier.quarter == later.quarter:
            raise RotationError(
                f"history lists quarter {later.quarter} twice ({earlier.region}, {later.region})"
            )
    for hosting in past:
        state.record(hosting)
    return state


class _Lookahead:
    """Memoised search: can the regions still due be seated from a quarter of the year on,
    one per consecutive quarter, using at most k stand-in quarters?"""

    def __init__(self, table: SeasonTable) -> None:
        self.all = frozenset(table.order)
        # Quarters of the year (1..4) each region can host in.
        self.fits = {
            region: frozenset(
                q
                for q in (1, 2, 3, 4)
                if any(table.fits(region, m) for m in Quarter(2000, q).months)
            )
            for region in table.order
        }
        self._memo: dict[tuple[int, frozenset[str], int], bool] = {}

    def can_host(self, region: str, q: int) -> bool:
        return q in self.fits[region]

    def standin_possible(self, q: int, due: frozenset[str]) -> bool:
        return any(self.can_host(r, q) for r in self.all - due)

    def feasible(self, q: int, due: frozenset[str], k: int) -> bool:
        if not due:
            return True
        key = (q, due, k)
        if key not in self._memo:
            nxt = q % 4 + 1
            ok = any(
                self.can_host(r, q) and self.feasible(nxt, due - {r}, k) for r in sorted(due)
            ) or (k > 0 and self.standin_possible(q, due) and self.feasible(nxt, due, k - 1))
            self._memo[key] = ok
        return self._memo[key]

    def min_standins(self, q: int, due: frozenset[str]) -> int:
        for k in range(0, 4 * len(self.all) + 1):
            if self.feasible(q, due, k):
                return k
        raise RotationError(f"no season table seats regions {sorted(due)}")  # pragma: no cover


@dataclass(frozen=True)
class HostChoice:
    hosting: Hosting
    why: str  # one line for the artifact: why this region, why this month


class Rotation:
    """The planner: replays the history, then chooses hosts quarter by quarter."""

    def __init__(
        self,
        history: Iterable[Hosting] = (),
        *,
        table: SeasonTable | None = None,
        month_preference: Sequence[int] = DEFAULT_MONTH_PREFERENCE,
    ) -> None:
        self.table = table or SeasonTable.default()
        if sorted(month_preference) != [1, 2, 3]:
            raise RotationError(f"month_preference must order 1, 2, 3; got {month_preference}")
        self.month_preference = tuple(month_preference)
        self.state = replay(history, self.table)
        self.lookahead = _Lookahead(self.table)

    def choose(self, quarter: Quarter, override: Override | None = None) -> HostChoice:
        """Choose (and record) the host of `quarter`."""
        state = self.state
        if state.last_quarter is not None and quarter <= state.last_quarter:
            raise RotationError(
                f"quarter {quarter}: the history already runs to {state.last_quarter}"
            )
        if override is not None:
            return self._record(self._override(quarter, override))

        due = state.due
        k = self.lookahead.min_standins(quarter.q, due)
        after = quarter.q % 4 + 1
        candidates = [r for r in due if self.lookahead.can_host(r, quarter.q)]
        ranked = state.preference(candidates, quarter)
        for region in ranked:
            if not self.lookahead.feasible(after, due - {region}, k):
                continue
            month = self.table.months_for(region, quarter, self.month_preference)[0]
            waited = state.waited(region, quarter)
            why = "never hosted" if waited is None else f"waited {waited} quarters"
            why += f"; {self.table.season_of_month[month]} suits its terrain"
            if region != ranked[0]:
                why += f"; {ranked[0]} waited as long, but only this order completes the cycle"
            return self._record(HostChoice(Hosting(quarter, region, month), why))
        # The regions still due cannot host this quarter without stranding one: a stand-in
        # that already hosted this cycle takes the quarter (off-cycle).
        standins = [
            r for r in self.table.order if r not in due and self.lookahead.can_host(r, quarter.q)
        ]
        if not standins:  # pragma: no cover - a fresh cycle is always seatable
            raise RotationError(f"quarter {quarter}: no region can host")
        region = state.preference(standins, quarter)[0]
        month = self.table.months_for(region, quarter, self.month_preference)[0]
        stranded = ", ".join(sorted(due))
        why = f"stand-in: the regions still due ({stranded}) cannot all be seated in time"
        return self._record(HostChoice(Hosting(quarter, region, month, on_cycle=False), why))

    def _override(self, quarter: Quarter, override: Override) -> HostChoice:
        region = region_info(override.region).code if override.region else ""
        if not override.reason or not override.reason.strip():
            raise RotationError(f"quarter {quarter}: an override of the host needs a reason")
        if override.month is not None:
            if override.month not in quarter.months:
                raise RotationError(
                    f"quarter {quarter}: override month {override.month} is not in the quarter"
                )
            if not self.table.fits(region, override.month):
                season = self.table.season_of_month[override.month]
                raise RotationError(
                    f"quarter {quarter}: {region} cannot host in month {override.month} "
                    f"({season}); its terrain suits {sorted(self.table.region_seasons[region])}"
                )
            month = override.month
        else:
            months = self.table.months_for(region, quarter, self.month_preference)
            if not months:
                raise RotationError(
                    f"quarter {quarter}: {region} cannot host in any month of the quarter; "
                    f"its terrain suits {sorted(self.table.region_seasons[region])}"
                )
            month = months[0]
        hosting = Hosting(quarter, region, month, override=True, reason=override.reason.strip())
        return HostChoice(hosting, f"manual override: {override.reason.strip()}")

    def _record(self, choice: HostChoice) -> HostChoice:
        return HostChoice(self.state.record(choice.hosting), choice.why)

    def plan(
        self, start: Quarter, count: int, overrides: Mapping[Quarter, Override] | None = None
    ) -> list[HostChoice]:
        """Hosts of `count` consecutive quarters from `start`."""
        overrides = overrides or {}
        return [self.choose(start.next(i), overrides.get(start.next(i))) for i in range(count)]


def plan_rotation(
    history: Iterable[Hosting],
    start: Quarter,
    count: int = 1,
    *,
    overrides: Mapping[Quarter, Override] | None = None,
    table: SeasonTable | None = None,
    month_preference: Sequence[int] = DEFAULT_MONTH_PREFERENCE,
) -> list[HostChoice]:
    """The hosts of `count` quarters from `start`, after `history` (pure)."""
    rotation = Rotation(history, table=table, month_preference=month_preference)
    return rotation.plan(start, count, overrides)
