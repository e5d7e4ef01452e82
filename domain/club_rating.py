"""Monthly club score and rankings, and the yearly awards. Pure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClubFigures:
    club_id: int
    region_code: str
    figures: dict[str, float]


@dataclass(frozen=True)
class Placed:
    club_id: int
    region_code: str
    score: float
    national_place: int
    region_place: int


def score(figures: dict[str, float], weights: dict[str, float]) -> float:
    """Sum of weight x figure over the weighted KPIs (a missing figure counts 0)."""
    return round(sum(w * float(figures.get(k, 0) or 0) for k, w in weights.items()), 2)


def rank(clubs: list[ClubFigures], weights: dict[str, float]) -> list[Placed]:
    """National and regional places; ties share a place (1, 1, 3), then by club id."""
    scored = sorted(
        ((score(c.figures, weights), c) for c in clubs), key=lambda t: (-t[0], t[1].club_id)
    )
    national = _places([s for s, _ in scored])
    by_region: dict[str, list[float]] = {}
    for s, c in scored:
        by_region.setdefault(c.region_code, []).append(s)
    region_places = {r: _places(v) for r, v in by_region.items()}
    seen: dict[str, int] = {}
    out = []
    for i, (s, c) in enumerate(scored):
        j = seen.get(c.region_code, 0)
        seen[c.region_code] = j + 1
        out.append(
            Placed(c.club_id, c.region_code, s, national[i], region_places[c.region_code][j])
        )
    return out


def _places(scores: list[float]) -> list[int]:
    places: list[int] = []
    for i, s in enumerate(scores):
        places.append(places[-1] if i and scores[i - 1] == s else i + 1)
    return places


def awards(
    yearly: dict[int, tuple[str, float]], *, national: int, regional: int
) -> list[tuple[str, int, int, float]]:
    """(scope, place, club_id, score): the year's top clubs nationally and per region,
    from each club's summed monthly scores."""
    ordered = sorted(yearly.items(), key=lambda kv: (-kv[1][1], kv[0]))
    out = [("national", i + 1, cid, s) for i, (cid, (_, s)) in enumerate(ordered[:national])]
    regions: dict[str, list[tuple[int, float]]] = {}
    for cid, (region, s) in ordered:
        regions.setdefault(region, []).append((cid, s))
    for region in sorted(regions):
        for i, (cid, s) in enumerate(regions[region][:regional]):
            out.append((region, i + 1, cid, s))
    return out
