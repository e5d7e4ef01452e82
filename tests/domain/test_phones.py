"""The one phone rule (domain.phones): one E.164 form everywhere; members may hold a foreign
number, a lead's callback must be a mainland one."""

from __future__ import annotations

import pytest

from domain.phones import PhoneError, mainland_phone, normalise_phone, phone_key
from domain.privacy import mask_phone

# Mainland numbers: the same form for members, leads and check-in lookups.
MAINLAND = [
    ("13800138000", "+8613800138000"),
    ("138 0013 8000", "+8613800138000"),
    ("138-0013-8000", "+8613800138000"),
    ("+86 138 0013 8000", "+8613800138000"),
    ("+86-13800138000", "+8613800138000"),
    ("8613800138000", "+8613800138000"),
    ("008613800138000", "+8613800138000"),
    ("0086 138 0013 8000", "+8613800138000"),
    ("13812341234", "+8613812341234"),
    ("138 1234 1234", "+8613812341234"),
    ("+86-138-1234-1234", "+8613812341234"),
    ("0086 13812341234", "+8613812341234"),
    ("010-12345678", "+861012345678"),
    ("(010) 1234 5678", "+861012345678"),
    ("+86 10 1234 5678", "+861012345678"),
    ("0086 10 12345678", "+861012345678"),
    ("021-5555 1234", "+862155551234"),
    ("0755-88881234", "+8675588881234"),
    ("028 8765 4321", "+862887654321"),
]
FOREIGN = [
    ("+1 415 555 2671", "+14155552671"),
    ("001 415 555 2671", "+14155552671"),
    ("+1 650 253 0000", "+16502530000"),
]
REFUSED = [
    ("", "no phone"),
    ("   ", "no phone"),
    (None, "no phone"),
    ("12345", "invalid"),
    ("10000000000", "invalid mobile"),
    ("1380013800", "invalid"),
    ("1381234123", "invalid"),
    ("abc", "not a phone number"),
    ("400-800-1234", "not a mobile or landline"),
]


@pytest.mark.parametrize(("raw", "e164"), MAINLAND)
def test_a_mainland_number_has_one_form_for_every_use(raw, e164):
    assert normalise_phone(raw) == e164
    assert mainland_phone(raw) == e164
    assert phone_key(raw) == e164


@pytest.mark.parametrize(("raw", "e164"), FOREIGN)
def test_a_member_may_hold_a_foreign_number_a_lead_may_not(raw, e164):
    assert normalise_phone(raw) == e164
    assert phone_key(raw) == e164  # check-in finds the member by the same form
    with pytest.raises(PhoneError, match="not a mainland number"):
        mainland_phone(raw)


@pytest.mark.parametrize(("raw", "reason"), REFUSED)
def test_bad_phones_are_refused_with_a_reason_for_every_use(raw, reason):
    for normalise in (normalise_phone, mainland_phone):
        with pytest.raises(PhoneError, match=reason):
            normalise(raw)
    assert phone_key(raw) is None


def test_a_phone_error_is_a_value_error():
    assert issubclass(PhoneError, ValueError)


@pytest.mark.parametrize("raw", ["10012345678", "+1 555 000 0000 1", "1380013800"])
def test_a_refused_phone_is_masked_in_its_reason(raw):
    for normalise in (normalise_phone, mainland_phone):
        with pytest.raises(PhoneError) as err:
            normalise(raw)
        assert raw not in str(err.value)


@pytest.mark.parametrize(("raw", "e164"), MAINLAND + FOREIGN)
def test_normalised_numbers_stay_maskable(raw, e164):
    masked = mask_phone(e164)
    assert masked != e164 and len(masked) <= len(e164)
    assert masked.endswith(e164[-4:])
    assert e164[-8:-4] not in masked[-8:-4]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("", "is empty"),
        ("12345", "is not a valid number"),
        ("10000000000", "is not a valid mobile number"),
        ("abc", "is not a phone number"),
        ("400-800-1234", "is not a mobile or landline"),
    ],
)
def test_the_reason_alone_names_no_value_for_a_caller_that_names_it(raw, reason):
    with pytest.raises(PhoneError) as err:
        normalise_phone(raw)
    assert err.value.reason.startswith(reason)
    assert raw.strip() == "" or raw not in err.value.reason
