"""The wait node (timer): pauses the run until a time, then a django-q2 schedule made
for it (`apps.automation.flows.tasks.resume_waiting`, run once at that time by a worker)
resumes it.

Duration: `waitEventConfig.timerDuration` or `config.duration` (ISO 8601 such as `PT1M`,
`P1D`, or seconds), `seconds`/`minutes`/`hours`/`days`, or `until` (an ISO date or
datetime, templated). A time already past resumes on the next scheduler tick.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from apps.automation.flows.definition import Node
from apps.automation.flows.exceptions import NodeFailed, NotAnApprover, RunNotWaiting
from apps.automation.flows.nodes.base import Outcome, node_type

_ISO = re.compile(
    r"^P(?:(?P<days>\d+)D)?(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)
RESUME_TASK = "apps.automation.flows.tasks.resume_waiting"


def parse_duration(value) -> timedelta | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        text = value.strip().upper()
        if text.replace(".", "", 1).isdigit():
            return timedelta(seconds=float(text))
        match = _ISO.match(text)
        if match and text not in ("P", "PT"):
            parts = {k: float(v) for k, v in match.groupdict().items() if v}
            return timedelta(**parts)
    return None


def due_time(execution, node: Node) -> datetime:
    event = node.setting("waitEventConfig") or {}
    until = execution.render(node.setting("until") or event.get("until"))
    if until:
        moment = parse_datetime(str(until))
        if moment is None and parse_date(str(until)) is not None:
            moment = datetime.combine(parse_date(str(until)), datetime.min.time())
        if moment is None:
            raise NodeFailed(f"wait '{node.id}': until {until!r} is not a date or datetime")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)
    raw = event.get("timerDuration") or node.setting("duration")
    delay = parse_duration(execution.render(raw)) if raw is not None else None
    if delay is None:
        units = {u: node.setting(u) for u in ("seconds", "minutes", "hours", "days")}
        given = {u: float(v) for u, v in units.items() if v is not None}
        delay = timedelta(**given) if given else None
    if delay is None:
        raise NodeFailed(f"wait '{node.id}' says neither how long nor until when")
    return timezone.now() + delay


def schedule_resume(run_id: str, due: datetime) -> None:
    from django_q.models import Schedule

    Schedule.objects.create(
        name=f"objectos.flow.wait.{run_id}",
        func=RESUME_TASK,
        args=repr((run_id,)),
        schedule_type=Schedule.ONCE,
        repeats=1,
        next_run=due,
    )


@node_type("wait", "timer", "delay")
class Wait:
    def run(self, execution, node: Node) -> Outcome:
        due = due_time(execution, node)
        schedule_resume(execution.run.id, due)
        stamp = due.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return Outcome(pause={"kind": "wait", "until": stamp}, output={"until": stamp})

    def resume(self, execution, node: Node, waiting, payload, actor) -> Outcome:
        if not actor.is_system:
            raise NotAnApprover("a waiting timer is resumed by the scheduler, not by people")
        due = parse_datetime(waiting.get("until", ""))
        if due is not None and timezone.now() < due:
            raise RunNotWaiting(f"the run waits until {waiting['until']}")
        return Outcome(output={"waited until": waiting.get("until")})
