"""Issue 23, point 1: the one module that knows how each engine takes a statement's {name} markers."""

from app.sql import for_piccolo, for_plpgsql, for_sqlite

STATEMENT = "UPDATE event SET places_taken = places_taken + 1, updated_at = {now} WHERE id = {event} AND {now} < starts_at"


def test_one_statement_three_ways_with_its_values_in_order():
    assert for_piccolo(STATEMENT, now="t", event=7) == (
        "UPDATE event SET places_taken = places_taken + 1, updated_at = {} WHERE id = {} AND {} < starts_at",
        ["t", 7, "t"])
    assert for_sqlite(STATEMENT).endswith("updated_at = :now WHERE id = :event AND :now < starts_at")
    assert for_plpgsql(STATEMENT, {"now": "v_now"}).endswith(
        "updated_at = v_now WHERE id = (p->>'event') AND v_now < starts_at")


def test_a_marker_without_a_value_is_an_error_not_a_silent_null():
    import pytest

    with pytest.raises(KeyError):
        for_piccolo(STATEMENT, now="t")
