"""Webhooks of the artifact: record events POSTed to outside URLs, signed, retried.

At kernel build each active webhook (`isActive` not false) subscribes the kernel to
`data.<object>.<created|updated|deleted>` for its `triggers` (create, update, delete).
Events reach subscribers after the write commits (the transactional outbox), so a
rolled-back write sends nothing. The subscriber stores one `WebhookDelivery` per
(event, webhook) (idempotent: an event the outbox redelivers finds its row) and hands it
to a job; the job makes one attempt. Each attempt POSTs (or `method`) the JSON body

    {"webhook", "event": "data.<object>.<kind>", "object", "id", "record", "previous",
     "deliveryId", "project", "timestamp"}

(`record`/`previous` cut to `payloadFields` when given) with headers `Content-Type:
application/json`, `X-ObjectOS-Event`, `X-ObjectOS-Delivery`, `Idempotency-Key`, the
webhook's `headers`, `Authorization: Bearer` for `authentication: {type: bearer}` and,
with a `secret`, `X-ObjectOS-Signature: sha256=<hex HMAC-SHA256 of the body>`. Secrets
and tokens written `env:NAME` are read from the environment when sending.

A 2xx answer delivers. Anything else (another status, a timeout, a refused connection)
is retried with `retryPolicy` (`maxRetries`, default 3; `backoffStrategy` exponential,
linear or fixed; `initialDelayMs`, default 10 s; `maxDelayMs`, default 1 h) by the
once-a-minute schedule `objectos.webhooks` (`deliver_due`); after the last attempt the
delivery is dead. Redirects are not followed. Loopback, private, link-local and reserved
addresses are refused (the delivery is dead at once) unless `OS_WEBHOOK_ALLOW_PRIVATE`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import logging
import os
import socket
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.automation.models_webhooks import WebhookDelivery
from apps.kernel.kernel import Kernel
from apps.projects.context import Context, new_request_id

logger = logging.getLogger("objectos.webhooks")
TRIGGERS = {"create": "created", "update": "updated", "delete": "deleted"}
RESERVED_HEADERS = frozenset(
    {"content-type", "x-objectos-event", "x-objectos-delivery", "x-objectos-signature"}
)
DEFAULT_RETRIES = 3
DEFAULT_INITIAL_DELAY_MS = 10_000
DEFAULT_MAX_DELAY_MS = 3_600_000
MAX_TIMEOUT_MS = 30_000


class DeliveryRefused(Exception):
    """An attempt that must not be made (and will never work): the delivery is dead."""


# -- subscribing ------------------------------------------------------------------------


def active_webhooks(kernel: Kernel) -> list[dict[str, Any]]:
    return [
        hook
        for hook in kernel.artifact.webhooks
        if isinstance(hook, dict)
        and hook.get("isActive", True) is not False
        and hook.get("object") in kernel.objects
        and isinstance(hook.get("url"), str)
        and isinstance(hook.get("name"), str)
    ]


def attach_webhooks(kernel: Kernel) -> None:
    """`on_kernel_build` hook: subscribe the kernel to its active webhooks' events."""
    for hook in active_webhooks(kernel):
        for trigger in hook.get("triggers") or TRIGGERS:
            kind = TRIGGERS.get(trigger)
            if kind is None:
                logger.warning("webhook %s: unknown trigger %r ignored", hook["name"], trigger)
                continue
            topic = f"data.{hook['object']}.{kind}"
            kernel.subscribe(topic, _subscriber(kernel, hook), name=f"webhook:{hook['name']}")


def _subscriber(kernel: Kernel, hook: dict[str, Any]):
    def on_event(event: Any) -> None:
        delivery = record_delivery(kernel, hook, event)
        if delivery is not None:
            enqueue(kernel, delivery)

    return on_event


def _cut(record: Mapping[str, Any] | None, fields: Any) -> Any:
    if record is None or not isinstance(fields, list) or not fields:
        return record
    return {name: record.get(name) for name in fields}


def record_delivery(kernel: Kernel, hook: dict[str, Any], event: Any) -> WebhookDelivery | None:
    """The delivery row of (event, webhook), created once; None when it existed already."""
    payload = event.payload or {}
    key = f"{event.idempotency_key}:{hook['name']}"[:200]
    delivery = WebhookDelivery(
        project=kernel.project_name,
        webhook=hook["name"],
        topic=event.topic,
        object_name=str(payload.get("object") or ""),
        record_id=str(payload.get("id") or ""),
        idempotency_key=key,
        request_id=event.request_id or "",
        max_attempts=1 + _retry_policy(hook)[0],
        next_attempt_at=timezone.now(),
        payload={
            "webhook": hook["name"],
            "event": event.topic,
            "object": payload.get("object"),
            "id": payload.get("id"),
            "record": _cut(payload.get("record"), hook.get("payloadFields")),
            "previous": _cut(payload.get("previous"), hook.get("payloadFields")),
            "project": kernel.project_name,
        },
    )
    try:
        with transaction.atomic():
            delivery.save(force_insert=True)
    except IntegrityError:
        return None  # the outbox delivered this event before: its delivery exists
    return delivery


def enqueue(kernel: Kernel, delivery: WebhookDelivery) -> None:
    """One attempt as a job now; failed attempts are picked up by `deliver_due`."""
    try:
        from apps.jobs import submit
    except ImportError:  # pragma: no cover - jobs are part of the install
        return
    ctx = Context(
        request_id=delivery.request_id or new_request_id(),
        project_name=kernel.project_name,
        kernel=kernel,
        is_system=True,
    )
    try:
        with transaction.atomic():
            submit(
                ctx,
                "apps.automation.webhooks.delivery_task",
                {"delivery_id": delivery.id},
                kind="webhook",
                max_attempts=1,
            )
    except Exception:  # noqa: BLE001 - the schedule retries a delivery that was not queued
        logger.exception("webhook delivery %s could not be queued", delivery.id)


def delivery_task(ctx: Context, delivery_id: str) -> dict[str, Any]:
    """Job entry point: one attempt of one delivery."""
    delivery = attempt(delivery_id)
    return {"delivery": delivery_id, "status": delivery.status if delivery else "missing"}


# -- attempts ---------------------------------------------------------------------------


def _retry_policy(hook: Mapping[str, Any]) -> tuple[int, str, int, int]:
    policy = hook.get("retryPolicy") if isinstance(hook.get("retryPolicy"), dict) else {}
    retries = policy.get("maxRetries", DEFAULT_RETRIES)
    retries = retries if isinstance(retries, int) and 0 <= retries <= 20 else DEFAULT_RETRIES
    strategy = str(policy.get("backoffStrategy") or "exponential")
    initial = policy.get("initialDelayMs", DEFAULT_INITIAL_DELAY_MS)
    largest = policy.get("maxDelayMs", DEFAULT_MAX_DELAY_MS)
    initial = initial if isinstance(initial, int) and initial >= 0 else DEFAULT_INITIAL_DELAY_MS
    largest = largest if isinstance(largest, int) and largest >= initial else DEFAULT_MAX_DELAY_MS
    return retries, strategy, initial, largest


def backoff(hook: Mapping[str, Any], failed_attempts: int) -> dt.timedelta:
    """The wait after the `failed_attempts`-th failure."""
    _, strategy, initial, largest = _retry_policy(hook)
    if strategy == "fixed":
        delay = initial
    elif strategy == "linear":
        delay = initial * failed_attempts
    else:
        delay = initial * 2 ** (failed_attempts - 1)
    return dt.timedelta(milliseconds=min(delay, largest))


def _secret(value: Any) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    if value.startswith("env:"):
        return os.environ.get(value[4:]) or None
    return value


def check_address(url: str) -> None:
    """Refuse URLs that are not http(s) or that resolve to a non-public address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise DeliveryRefused(f"not an http(s) URL: {url!r}")
    if settings.OS_WEBHOOK_ALLOW_PRIVATE:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as error:
        raise DeliveryRefused(f"cannot resolve {parts.hostname}: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise DeliveryRefused(
                f"{parts.hostname} resolves to {address}, a private or reserved address "
                "(set OS_WEBHOOK_ALLOW_PRIVATE to allow it)"
            )


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a redirect is an answer like any other non-2xx


_opener = urllib.request.build_opener(_NoRedirects)


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _request(hook: Mapping[str, Any], delivery: WebhookDelivery) -> urllib.request.Request:
    body = orjson.dumps(
        {
            **delivery.payload,
            "deliveryId": delivery.id,
            "timestamp": timezone.now().isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
    )
    headers = {
        str(k): str(v)
        for k, v in (hook.get("headers") or {}).items()
        if str(k).lower() not in RESERVED_HEADERS
    }
    headers.update(
        {
            "Content-Type": "application/json",
            "User-Agent": "ObjectOS-Webhooks/1",
            "X-ObjectOS-Event": delivery.topic,
            "X-ObjectOS-Delivery": delivery.id,
            "Idempotency-Key": delivery.idempotency_key,
        }
    )
    auth = hook.get("authentication")
    if isinstance(auth, dict) and auth.get("type") == "bearer":
        token = _secret((auth.get("credentials") or {}).get("token"))
        if token:
            headers["Authorization"] = f"Bearer {token}"
    secret = _secret(hook.get("secret"))
    if secret:
        headers["X-ObjectOS-Signature"] = signature(secret, body)
    method = str(hook.get("method") or "POST").upper()
    return urllib.request.Request(hook["url"], data=body, headers=headers, method=method)


def _hook(delivery: WebhookDelivery) -> dict[str, Any] | None:
    """The webhook's definition in the project's published kernel."""
    from apps.kernel.cache import kernels
    from apps.projects.models import Project

    project = Project.objects.filter(name=delivery.project).first()
    if project is None or project.published_version_id is None:
        return None
    kernel = kernels.get_version(project.name, project.published_version_id)
    return next((h for h in active_webhooks(kernel) if h["name"] == delivery.webhook), None)


def attempt(delivery_id: str) -> WebhookDelivery | None:
    """Make one attempt now (unless delivered or dead) and record its outcome."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update()
            .filter(pk=delivery_id, status__in=["pending", "retrying"])
            .first()
        )
        if delivery is None:
            return WebhookDelivery.objects.filter(pk=delivery_id).first()
        delivery.attempts += 1
        delivery.next_attempt_at = None  # claimed: no other attempt picks it meanwhile
        delivery.save(update_fields=["attempts", "next_attempt_at", "updated_at"])
    hook = _hook(delivery)
    status_code, error, final = None, "", False
    try:
        if hook is None:
            raise DeliveryRefused("the webhook is no longer active in the published version")
        check_address(hook["url"])
        timeout = min(int(hook.get("timeoutMs") or 10_000), MAX_TIMEOUT_MS) / 1000
        with _opener.open(_request(hook, delivery), timeout=timeout) as response:
            status_code = response.status
    except DeliveryRefused as refused:
        error, final = str(refused), True
    except urllib.error.HTTPError as answer:
        status_code, error = answer.code, f"HTTP {answer.code}"
    except (OSError, ValueError) as failure:
        error = f"{type(failure).__name__}: {failure}"
    return _record(delivery, hook or {}, status_code, error, final)


def _record(
    delivery: WebhookDelivery,
    hook: Mapping[str, Any],
    status_code: int | None,
    error: str,
    final: bool,
) -> WebhookDelivery:
    now = timezone.now()
    delivery.last_status_code = status_code
    if status_code is not None and 200 <= status_code < 300 and not error:
        delivery.status, delivery.delivered_at, delivery.last_error = "delivered", now, ""
    elif final or delivery.attempts >= delivery.max_attempts:
        delivery.status, delivery.last_error = "dead", error or f"HTTP {status_code}"
    else:
        delivery.status, delivery.last_error = "retrying", error or f"HTTP {status_code}"
        delivery.next_attempt_at = now + backoff(hook, delivery.attempts)
    delivery.save()
    log = logger.info if delivery.status == "delivered" else logger.warning
    log(
        "webhook %s %s attempt %s: %s",
        delivery.webhook,
        delivery.topic,
        delivery.attempts,
        delivery.status
        if not delivery.last_error
        else f"{delivery.status} ({delivery.last_error})",
        extra={"request_id": delivery.request_id},
    )
    return delivery


def deliver_due(now: dt.datetime | None = None, limit: int = 100) -> int:
    """Attempt every delivery whose time has come (the `objectos.webhooks` schedule);
    returns how many were attempted."""
    due = WebhookDelivery.objects.filter(
        status__in=["pending", "retrying"], next_attempt_at__lte=now or timezone.now()
    ).order_by("next_attempt_at", "id")
    ids = list(due.values_list("pk", flat=True)[:limit])
    for delivery_id in ids:
        attempt(delivery_id)
    return len(ids)


def redeliver(delivery: WebhookDelivery) -> WebhookDelivery:
    """Give a dead (or any) delivery a fresh set of attempts, starting now."""
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.last_error = ""
    delivery.save()
    return delivery


def describe(delivery: WebhookDelivery) -> dict[str, Any]:
    def iso(value: dt.datetime | None) -> str | None:
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z") if value else None

    return {
        "id": delivery.id,
        "webhook": delivery.webhook,
        "event": delivery.topic,
        "object": delivery.object_name,
        "recordId": delivery.record_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "maxAttempts": delivery.max_attempts,
        "nextAttemptAt": iso(delivery.next_attempt_at),
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error,
        "createdAt": iso(delivery.created_at),
        "deliveredAt": iso(delivery.delivered_at),
        "requestId": delivery.request_id,
    }
