import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.privacy import mask_phone, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+8613812341234", "+86138****1234"),
        ("138 1234 1234", "138****1234"),
        ("010-62345678", "010-****5678"),
        ("02162345678", "021****5678"),
        ("0931-8123456", "0931-***3456"),  # as many stars as hidden digits: never longer
        ("30821", "***21"),
        ("62345678", "****5678"),
        ("1234", "****"),
        ("", ""),
        (None, ""),
    ],
)
def test_phone_numbers_are_masked(raw, masked):
    assert mask_phone(raw) == masked


def test_phones_and_id_numbers_inside_text_are_masked_and_other_numbers_kept():
    text = "车主王伟 13812341234，身份证 11010119900307123X，订单 20260101，预算 45000 元"
    assert mask_text(text) == (
        "车主王伟 138****1234，身份证 110101********123X，订单 20260101，预算 45000 元"
    )


@given(st.text(alphabet="0123456789 -+", min_size=1, max_size=20))
def test_a_masked_number_is_never_longer_and_shows_at_most_a_prefix_and_last_four(raw):
    masked = mask_phone(raw)
    assert len(masked) <= len(raw)
    digits = re.sub(r"\D", "", raw)
    visible = re.sub(r"\D", "", masked)
    # What stays visible is a prefix of at most 3 (+86 and the network or area code) plus
    # the last 4 digits: never the middle of the number.
    assert len(visible) <= min(len(digits), 4 + 3 + 2) or not digits
    if 4 < len(digits) < 11:
        assert len(visible) < len(digits)


def test_a_landline_with_a_three_digit_exchange_keeps_its_length():
    # Found by the property above: 010 + 000 + 0000 came out as 010****0000, one longer.
    assert mask_phone("0100000000") == "010***0000"
    assert mask_phone("010-12345678") == "010-****5678"
