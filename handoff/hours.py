"""Business hours: when a person can be expected to answer.

``always``, or comma-separated day ranges with times, in one time zone::

    mon-fri 09:00-18:00, sat 10:00-14:00
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
PART = re.compile(
    r"^(?P<first>[a-z]{3})(?:-(?P<last>[a-z]{3}))?\s+"
    r"(?P<open>\d{1,2}:\d{2})-(?P<close>\d{1,2}:\d{2})$"
)


@dataclass(frozen=True)
class BusinessHours:
    """Opening windows per weekday (0 = Monday); ``None`` means always open."""

    windows: tuple[tuple[int, dt.time, dt.time], ...] | None
    timezone: ZoneInfo
    text: str

    @classmethod
    def parse(cls, text: str, timezone: str = "UTC") -> BusinessHours:
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {timezone!r}") from None
        if text.strip().lower() == "always":
            return cls(None, zone, "always")
        windows = []
        for part in filter(None, (p.strip().lower() for p in text.split(","))):
            windows.extend(_windows(part, text))
        if not windows:
            raise ValueError(f"business hours {text!r} name no opening times")
        return cls(tuple(windows), zone, text)

    def is_open(self, when: dt.datetime) -> bool:
        """Whether ``when`` (naive UTC) falls inside a window."""
        if self.windows is None:
            return True
        local = when.replace(tzinfo=dt.timezone.utc).astimezone(self.timezone)
        return any(
            day == local.weekday() and start <= local.time() < end
            for day, start, end in self.windows
        )


def _windows(part: str, text: str) -> list[tuple[int, dt.time, dt.time]]:
    match = PART.match(part)
    days = match and [match["first"], match["last"] or match["first"]]
    if not match or not days or any(d not in DAYS for d in days):
        raise ValueError(
            f"business hours {text!r}: cannot read {part!r} (try 'mon-fri 09:00-18:00')"
        )
    start, end = _time(match["open"], text), _time(match["close"], text)
    if end <= start:
        raise ValueError(f"business hours {text!r}: {part!r} closes before it opens")
    first, last = DAYS.index(days[0]), DAYS.index(days[1])
    span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
    return [(day, start, end) for day in span]


def _time(value: str, text: str) -> dt.time:
    hours, minutes = map(int, value.split(":"))
    if hours > 23 or minutes > 59:
        raise ValueError(f"business hours {text!r}: {value!r} is not a time of day")
    return dt.time(hours, minutes)
