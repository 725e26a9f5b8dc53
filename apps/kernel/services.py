"""The service registry: named services with validated input and output, called through
middleware (validation, structured logging with the request id, timing, tracing).

    registry.provide("inventory.check_stock", handler, input=Query, output=Stock)
    registry.call(ctx, "inventory.check_stock", {"sku": "A-1"})

A provider can be replaced at runtime (`provide` again); callers resolve the name on
every call, so nobody restarts. Tracing spans use OpenTelemetry when it is installed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from apps.projects.context import Context

logger = logging.getLogger("objectos.services")

try:  # optional dependency
    from opentelemetry import trace as _otel_trace

    _tracer = _otel_trace.get_tracer("objectos")
except ImportError:  # pragma: no cover - depends on the environment
    _tracer = None


class ServiceError(Exception):
    """A service call that could not be made or whose result was invalid: a fault of
    the deployment or of the calling code, never of the client (5xx)."""

    code = "SERVICE_ERROR"
    status = 500


class UnknownService(ServiceError, LookupError):
    code = "UNKNOWN_SERVICE"
    status = 503

    def __init__(self, name: str, known: list[str]) -> None:
        hint = f"; known: {', '.join(known)}" if known else "; no service is provided"
        super().__init__(f"unknown service '{name}'{hint}")
        self.name = name


class InvalidServiceInput(ServiceError):
    code = "INVALID_SERVICE_INPUT"


class InvalidServiceOutput(ServiceError):
    code = "INVALID_SERVICE_OUTPUT"


@dataclass(frozen=True)
class Provider:
    name: str
    handler: Callable[[Context, Any], Any]
    input: type[BaseModel] | None = None
    output: type[BaseModel] | None = None


Middleware = Callable[[Context, Provider, Any, Callable[[Context, Any], Any]], Any]


def _validate(
    model: type[BaseModel] | None, value: Any, error: type[ServiceError], name: str
) -> Any:
    if model is None or isinstance(value, model):
        return value
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '$'}: {e['msg']}" for e in exc.errors()
        )
        raise error(f"{name}: {problems}") from None


def validation_middleware(ctx: Context, provider: Provider, payload: Any, call_next) -> Any:
    payload = _validate(provider.input, payload, InvalidServiceInput, provider.name)
    result = call_next(ctx, payload)
    return _validate(provider.output, result, InvalidServiceOutput, provider.name)


def logging_middleware(ctx: Context, provider: Provider, payload: Any, call_next) -> Any:
    started = time.perf_counter()
    outcome = "error"
    try:
        result = call_next(ctx, payload)
        outcome = "ok"
        return result
    finally:
        logger.info(
            "service call",
            extra={
                "service": provider.name,
                "request_id": getattr(ctx, "request_id", ""),
                "context": getattr(ctx, "context_id", ""),
                "project": getattr(ctx, "project_name", ""),
                "outcome": outcome,
                "duration_ms": round((time.perf_counter() - started) * 1000, 3),
            },
        )


def tracing_middleware(ctx: Context, provider: Provider, payload: Any, call_next) -> Any:
    if _tracer is None:
        return call_next(ctx, payload)
    with _tracer.start_as_current_span(f"service {provider.name}") as span:
        span.set_attribute("objectos.request_id", getattr(ctx, "request_id", ""))
        span.set_attribute("objectos.context", getattr(ctx, "context_id", ""))
        return call_next(ctx, payload)


DEFAULT_MIDDLEWARE: tuple[Middleware, ...] = (
    tracing_middleware,
    logging_middleware,
    validation_middleware,
)


class ServiceRegistry:
    """Providers by name; `call` runs the middleware chain around the provider."""

    def __init__(self, middleware: tuple[Middleware, ...] = DEFAULT_MIDDLEWARE) -> None:
        self._providers: dict[str, Provider] = {}
        self._lock = threading.Lock()
        self.middleware = middleware

    def provide(
        self,
        name: str,
        handler: Callable[[Context, Any], Any],
        *,
        input: type[BaseModel] | None = None,
        output: type[BaseModel] | None = None,
    ) -> Provider:
        """Register or replace the provider of `name` (callers see it on their next call)."""
        provider = Provider(name, handler, input, output)
        with self._lock:
            self._providers = {**self._providers, name: provider}
        return provider

    def withdraw(self, name: str) -> None:
        with self._lock:
            self._providers = {k: v for k, v in self._providers.items() if k != name}

    def names(self) -> list[str]:
        return sorted(self._providers)

    def providers(self) -> dict[str, Provider]:
        """A snapshot of the providers by name (see `restore`)."""
        return dict(self._providers)

    def restore(self, providers: dict[str, Provider]) -> None:
        """Put back a snapshot (a failed plugin's services are taken back this way)."""
        with self._lock:
            self._providers = dict(providers)

    def call(self, ctx: Context, name: str, payload: Any = None) -> Any:
        provider = self._providers.get(name)
        if provider is None:
            raise UnknownService(name, self.names())

        def run(index: int, current_ctx: Context, current_payload: Any) -> Any:
            if index == len(self.middleware):
                return provider.handler(current_ctx, current_payload)
            return self.middleware[index](
                current_ctx, provider, current_payload, lambda c, p: run(index + 1, c, p)
            )

        try:
            return run(0, ctx, payload)
        except Exception as error:
            if not hasattr(error, "objectos_context"):  # the innermost call names the chain
                error.objectos_context = getattr(ctx, "context_id", "")
                error.add_note(f"in service '{name}' (context {error.objectos_context})")
            raise
