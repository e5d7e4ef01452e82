"""The seven regions of the alliance and the season table (the seasons are policy)."""

from __future__ import annotations

from dataclasses import dataclass

from domain.models import Terrain

SEASON_OF_MONTH: dict[int, str] = {
    12: "winter", 1: "winter", 2: "winter",
    3: "spring", 4: "spring", 5: "spring",
    6: "summer", 7: "summer", 8: "summer",
    9: "autumn", 10: "autumn", 11: "autumn",
}  # fmt: skip


@dataclass(frozen=True)
class RegionInfo:
    code: str
    name: str
    name_zh: str
    signature_crossing: str
    signature_crossing_zh: str
    terrain: Terrain
    seasons: tuple[str, ...]


REGIONS: tuple[RegionInfo, ...] = (
    RegionInfo("beijing", "Beijing", "北京卫", "grassland raid", "草原奔袭", Terrain.grassland,
               ("summer", "autumn")),
    RegionInfo("lanzhou", "Lanzhou", "兰州卫", "desert crossing", "沙漠穿越", Terrain.desert,
               ("spring", "autumn")),
    RegionInfo("chengdu", "Chengdu", "成都卫", "rainforest crossing", "雨林穿越",
               Terrain.rainforest, ("spring", "autumn", "winter")),
    RegionInfo("guangzhou", "Guangzhou", "广州卫", "beach landing", "抢滩登陆", Terrain.beach,
               ("spring", "autumn", "winter")),
    RegionInfo("nanjing", "Nanjing", "南京卫", "river and valley wading", "急流勇进",
               Terrain.water, ("summer",)),
    RegionInfo("jinan", "Jinan", "济南卫", "mountain switchbacks", "峰回路转", Terrain.mountain,
               ("spring", "autumn")),
    RegionInfo("shenyang", "Shenyang", "沈阳卫", "snow and ice expedition", "雪地探险",
               Terrain.snow, ("winter",)),
)  # fmt: skip

REGION_CODES: frozenset[str] = frozenset(r.code for r in REGIONS)


class UnknownRegionError(ValueError):
    pass


def region_info(code: str) -> RegionInfo:
    for region in REGIONS:
        if region.code == code or region.name_zh == code:
            return region
    raise UnknownRegionError(
        f"unknown region {code!r}; known regions: {', '.join(sorted(REGION_CODES))}"
    )
