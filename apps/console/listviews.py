"""List views beyond the grid: a calendar month by the view's date field, gallery cards.

The rows come from the same secured objectql query as the grid (apps.console.views.records
builds it); these helpers only choose the month's bounds and lay the rows out. Views the
Console does not draw (timeline, gantt, map, tree) show the grid with a note saying so.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from apps.objectql.exceptions import InvalidQuery

DRAWN = frozenset({"grid", "kanban", "calendar", "gallery", "chart"})
CALENDAR_LIMIT = 500


@dataclass
class Day:
    date: dt.date
    in_month: bool
    today: bool
    events: list[dict[str, Any]] = field(default_factory=list)


def month_of(param: str | None, today: dt.date) -> dt.date:
    """The first day of the month `YYYY-MM` (default: this month); 400 when malformed."""
    if not param:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in param.split("-"))
        return dt.date(year, month, 1)
    except ValueError:
        raise InvalidQuery("m must be a month as YYYY-MM", field="m") from None


def next_month(first: dt.date) -> dt.date:
    return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def previous_month(first: dt.date) -> dt.date:
    return (first - dt.timedelta(days=1)).replace(day=1)


def month_filter(date_field: str, first: dt.date) -> dict[str, Any]:
    """Rows whose date falls in the month (a datetime compares by its UTC date)."""
    return {date_field: {"$gte": first.isoformat(), "$lt": next_month(first).isoformat()}}


def _day_of(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and len(value) >= 10:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None
    return None


def month_grid(
    first: dt.date, today: dt.date, records: list[dict[str, Any]], date_field: str, title_of: Any
) -> list[list[Day]]:
    """Weeks (Monday first) of the month, each day holding its records as `{id, title}`."""
    weeks = [
        [Day(day, day.month == first.month, day == today) for day in week]
        for week in calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    ]
    by_day = {day.date: day for week in weeks for day in week}
    for record in records:
        day = _day_of(record.get(date_field))
        if day in by_day:
            by_day[day].events.append({"id": record["id"], "title": title_of(record)})
    return weeks


def gallery_cards(
    records: list[dict[str, Any]], rows: list[dict[str, Any]], cover_field: str | None
) -> list[dict[str, Any]]:
    """Cards of the grid's rows: the first cell is the title; a cover image when the
    record's cover field holds an image file the reader may read."""
    cards = []
    for record, row in zip(records, rows, strict=True):
        cover = record.get(cover_field) if cover_field else None
        if isinstance(cover, list):
            cover = cover[0] if cover else None
        url = cover.get("url") if isinstance(cover, dict) else None
        cards.append(
            {**row, "cover": url if isinstance(url, str) and url.startswith("/") else None}
        )
    return cards
