"""What a DSL or an API client is told when the booking details are wrong."""

import pytest

from app.bookings.validation import InvalidBooking, booking_from_form, validate_booking

GOOD = {"name": "Jo Barclay", "email": "Jo.Barclay@School.example.org", "role": "dsl",
        "setting": {"name": "Little Acorns Nursery", "urn": "ey123456"}}


def errors_for(data):
    with pytest.raises(InvalidBooking) as info:
        validate_booking(data)
    return info.value.errors


def test_a_good_request_is_cleaned():
    r = validate_booking(GOOD)
    assert r.name == "Jo Barclay"
    assert r.setting.urn == "EY123456"
    assert r.role.value == "dsl"


def test_each_bad_field_gets_its_own_message():
    errors = errors_for({"name": "  ", "email": "not-an-email", "role": "boss",
                         "setting": {"name": "", "urn": "12"}})
    assert errors == {
        "name": "Enter your full name",
        "email": "Enter an email address in the correct format, like name@example.com",
        "role": "Select your role",
        "setting.name": "Enter the name of your school or setting",
        "setting.urn": "Enter a URN of 6 or 7 digits, or an Ofsted number like EY123456",
    }


def test_missing_fields_are_named():
    assert set(errors_for({})) == {"name", "email", "role", "setting"}


def test_over_long_fields_are_refused():
    errors = errors_for({**GOOD, "name": "x" * 201})
    assert errors == {"name": "Full name must be 200 characters or fewer"}


def test_unknown_fields_are_refused_not_stored():
    assert errors_for({**GOOD, "date_of_birth": "2000-01-01"}) == {"date_of_birth": "Unknown field: date_of_birth"}


def test_a_body_that_is_not_an_object_is_refused():
    assert errors_for(["a"]) == {"body": "Send a JSON object"}


def test_school_urns_and_ofsted_numbers_are_accepted():
    for urn in ["115678", "2012345", "EY123456"]:
        assert validate_booking({**GOOD, "setting": {"name": "A", "urn": urn}}).setting.urn == urn


def test_the_form_treats_an_empty_urn_as_none():
    r = booking_from_form({"name": "Jo", "email": "jo@example.org", "role": "deputy_dsl",
                           "setting_name": "Oak Primary", "setting_urn": "  "})
    assert r.setting.urn is None
