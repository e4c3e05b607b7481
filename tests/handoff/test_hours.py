"""Business hours: parsed once, with clear errors, and honoured when a handoff arrives."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from handoff.hours import BusinessHours
from handoff.settings import Settings
from handoff.state import STORE
from tests.helpers.service import Api, record, start

SATURDAY_NOON_UTC = dt.datetime(2026, 11, 28, 12, 0)
MONDAY_NOON_UTC = dt.datetime(2026, 11, 23, 12, 0)


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        (MONDAY_NOON_UTC, False),  # 07:00 in New York: not yet
        (MONDAY_NOON_UTC + dt.timedelta(hours=2), True),
        (SATURDAY_NOON_UTC, False),
        (dt.datetime(2026, 11, 24, 22, 59), True),  # 17:59 in New York
        (dt.datetime(2026, 11, 24, 23, 0), False),  # 18:00: closed
    ],
)
def test_opening_windows_are_read_in_the_business_time_zone(
    when: dt.datetime, is_open: bool
) -> None:
    hours = BusinessHours.parse("mon-fri 09:00-18:00", "America/New_York")
    assert hours.is_open(when) is is_open


def test_always_is_always_open() -> None:
    assert BusinessHours.parse("always").is_open(SATURDAY_NOON_UTC)


@pytest.mark.parametrize(
    ("text", "zone", "message"),
    [
        ("weekdays 9-5", "UTC", "cannot read"),
        ("mon-fri 18:00-09:00", "UTC", "closes before it opens"),
        ("mon-fri 09:00-25:00", "UTC", "not a time of day"),
        ("mon-fri 09:00-17:00", "Mars/Olympus", "unknown time zone"),
    ],
)
def test_a_bad_schedule_is_a_clear_error_at_start(text: str, zone: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(business_hours=text, business_timezone=zone)


async def test_outside_hours_the_customer_hears_so_even_with_agents_online(
    settings: Settings,
) -> None:
    client = await start(replace(settings, business_hours="mon-fri 09:00-17:00"))
    try:
        api = Api(client)
        client.app[STORE].clock = lambda: SATURDAY_NOON_UTC
        await api.agent("ana")  # signed in and available, but it is Saturday
        handoff = await api.escalate(record())
        assert (handoff["offline"], handoff["offline_reason"]) == (True, "outside_hours")
        assert handoff["position"] == 1 and handoff["estimated_wait_s"] is None
    finally:
        await client.close()
