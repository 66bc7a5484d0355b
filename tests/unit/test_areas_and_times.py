"""Terms, academic years and London times, including either side of the clock changes."""

import datetime as dt

from app.areas import Term, academic_year_of, term_of
from app.formats import clock_time, long_date, time_range
from app.programme.seeding import demo_shift
from tests.support import utc


def test_academic_year_runs_september_to_august():
    assert academic_year_of(dt.date(2023, 9, 1)) == "2023/24"
    assert academic_year_of(dt.date(2024, 3, 13)) == "2023/24"
    assert academic_year_of(dt.date(2024, 8, 31)) == "2023/24"
    assert academic_year_of(dt.date(1999, 9, 1)) == "1999/00"


def test_terms():
    assert term_of(dt.date(2024, 3, 13)) is Term.spring
    assert term_of(dt.date(2024, 7, 3)) is Term.summer
    assert term_of(dt.date(2023, 11, 1)) is Term.autumn


def test_times_show_in_london_time_in_winter_and_summer():
    # 09:30 GMT is 09:30 in London; 08:30 UTC in July is 09:30 BST.
    assert clock_time(utc(2024, 3, 13, 9, 30)) == "9:30am"
    assert clock_time(utc(2024, 7, 3, 8, 30)) == "9:30am"
    assert time_range(utc(2024, 7, 9, 17, 0), utc(2024, 7, 9, 18, 30)) == "6pm to 7:30pm"
    assert clock_time(utc(2024, 3, 13, 12, 0)) == "12pm"


def test_either_side_of_the_spring_clock_change():
    # Clocks go forward at 01:00 UTC on Sunday 31 March 2024.
    assert clock_time(utc(2024, 3, 31, 0, 59)) == "12:59am"
    assert clock_time(utc(2024, 3, 31, 1, 0)) == "2am"
    assert long_date(utc(2024, 3, 30, 23, 30)) == "Saturday 30 March 2024"


def test_either_side_of_the_autumn_clock_change():
    # Clocks go back at 01:00 UTC on Sunday 27 October 2024.
    assert clock_time(utc(2024, 10, 27, 0, 30)) == "1:30am"
    assert clock_time(utc(2024, 10, 27, 1, 30)) == "1:30am"
    assert long_date(utc(2024, 10, 26, 23, 30)) == "Sunday 27 October 2024"


def test_demo_shift_is_whole_years_of_weeks_into_the_future():
    dates = [dt.date(2024, 3, 5), dt.date(2024, 7, 10)]
    shift = demo_shift(dates, utc(2026, 11, 26))
    assert shift.days % 7 == 0 and shift.days % 364 == 0
    assert dates[0] + shift > dt.date(2026, 11, 26)
    assert (dates[0] + shift).weekday() == dates[0].weekday()
    # the smallest such shift: one step less would not be in the future
    assert dates[0] + shift - dt.timedelta(weeks=52) < dt.date(2026, 12, 10)
