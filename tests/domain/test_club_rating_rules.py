"""Monthly club scores, national and regional places, yearly awards."""

from __future__ import annotations

from domain.club_rating import ClubFigures, awards, rank, score

W = {"activity_participants": 1.0, "content_pieces": 5.0, "referral_share": 50.0}


def test_the_score_is_the_weighted_sum():
    assert score({"activity_participants": 40, "content_pieces": 2, "referral_share": 0.2}, W) == 60
    assert score({}, W) == 0


def test_places_national_and_per_region_ties_share_a_place():
    clubs = [
        ClubFigures(1, "chengdu", {"activity_participants": 10}),
        ClubFigures(2, "chengdu", {"activity_participants": 30}),
        ClubFigures(3, "xian", {"activity_participants": 30}),
        ClubFigures(4, "xian", {"activity_participants": 5}),
    ]
    placed = {p.club_id: p for p in rank(clubs, W)}
    assert [(placed[i].national_place, placed[i].region_place) for i in (1, 2, 3, 4)] == [
        (3, 2),
        (1, 1),
        (1, 1),
        (4, 2),
    ]


def test_awards_top_n_nationally_and_per_region():
    yearly = {1: ("chengdu", 100.0), 2: ("chengdu", 300.0), 3: ("xian", 200.0)}
    assert awards(yearly, national=2, regional=1) == [
        ("national", 1, 2, 300.0),
        ("national", 2, 3, 200.0),
        ("chengdu", 1, 2, 300.0),
        ("xian", 1, 3, 200.0),
    ]
