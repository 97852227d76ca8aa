"""Months and quarters as steps: rows a calendar month (or three) apart, whose length in seconds
varies. A series' `step` is then the sentinel `MONTH` or `QUARTER` (their mean length in
seconds, so that anything that only compares or orders steps still works), and times advance
by calendar months: from the 1st of a month to the 1st of the next, from a month's last day to
the next month's last day.

Plain numpy and the standard library (no TensorFlow).
"""

from __future__ import annotations

import calendar
import datetime
import re

import numpy as np

EPOCH = datetime.datetime(1970, 1, 1)
MONTH = 2_629_746  # seconds in a mean Gregorian month (365.2425 days / 12)
QUARTER = 3 * MONTH
CALENDAR_STEPS = {MONTH: 1, QUARTER: 3}  # months per step
YEAR_MONTH = re.compile(r"^\d{4}-\d{2}$")


def months_per_step(step: int) -> int:
    """1 for `MONTH`, 3 for `QUARTER`, 0 for a step of fixed seconds."""
    return CALENDAR_STEPS.get(step, 0)


def step_name(step: int) -> str:
    """ "month", "quarter", or the step as a duration ("0:30:00", "1 day, 0:00:00")."""
    names = {MONTH: "month", QUARTER: "quarter"}
    return names.get(step) or str(datetime.timedelta(seconds=step))


def time_axis(step: int) -> tuple[float, str]:
    """How plots count rows `step` apart: (size of a step, unit): hours for sub-daily rows,
    days for daily or longer ones, months or quarters."""
    if months_per_step(step):
        return 1.0, step_name(step) + "s"
    if step < 86_400:
        return step / 3600, "hours"
    return step / 86_400, "days"


def parse_moment(text: str) -> datetime.datetime:
    """An ISO date/time; `YYYY-MM` is the first of that month."""
    text = text.strip()
    if YEAR_MONTH.match(text):
        text += "-01"
    return datetime.datetime.fromisoformat(text)


def _moment(seconds: int) -> datetime.datetime:
    return EPOCH + datetime.timedelta(seconds=int(seconds))


def month_index(seconds: int) -> int:
    """Months since January 1970 of the time `seconds` (seconds since 1970)."""
    moment = _moment(seconds)
    return (moment.year - 1970) * 12 + moment.month - 1


def is_month_end(seconds: int) -> bool:
    moment = _moment(seconds)
    return moment.day == calendar.monthrange(moment.year, moment.month)[1]


def calendar_step(times: np.ndarray) -> int | None:
    """`MONTH` or `QUARTER` if `times` (seconds, sorted, two or more) fall on the same day of
    consecutive months or quarters (or each on its month's last day) at the same time of day;
    None otherwise (the grid is then checked in seconds)."""
    moments = [_moment(t) for t in times]
    month_ends = all(is_month_end(t) for t in times)
    if not month_ends and len({m.day for m in moments}) > 1:
        return None
    if len({m.time() for m in moments}) > 1:
        return None
    gaps = set(np.diff([month_index(t) for t in times]).tolist())
    for step, months in CALENDAR_STEPS.items():
        if gaps == {months}:
            return step
    return None


def advance(seconds: int, steps: np.ndarray | int, step: int) -> np.ndarray:
    """The times `steps` rows after the time `seconds` on a grid of `step`: seconds apart, or
    calendar months apart (keeping the day of month, or the month's last day)."""
    steps = np.asarray(steps, dtype="int64")
    months = months_per_step(step)
    if not months:
        return int(seconds) + step * steps
    start = _moment(seconds)
    last_day = is_month_end(seconds)
    out = []
    for k in steps.reshape(-1).tolist():
        index = start.year * 12 + start.month - 1 + k * months
        year, month = divmod(index, 12)
        days = calendar.monthrange(year, month + 1)[1]
        day = days if last_day else min(start.day, days)
        moment = start.replace(year=year, month=month + 1, day=day)
        out.append(int((moment - EPOCH).total_seconds()))
    return np.asarray(out, dtype="int64").reshape(steps.shape)
