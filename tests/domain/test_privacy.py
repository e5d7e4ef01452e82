import pytest

from domain.privacy import mask_phone, mask_text


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("13812341234", "138****1234"),
        ("+8613812341234", "+86138****1234"),
        ("138 1234 1234", "138****1234"),
        ("010-62345678", "010-****5678"),
        ("02162345678", "021-****5678"),
        ("0931-8123456", "0931-****3456"),
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
