"""The root of a request's context tree: its budget, and the current context reset.

Runs after apps.projects' RequestContextMiddleware (request id, project route). When the
project's budget (apps.kernel.budgets.project_budget) has any limit, the request gets a
root Budget (`request.os_budgets`, picked up by the API's Context) and its queries are
counted from here on; when every limit is 0 nothing is installed. An over-budget error
raised outside DRF (whose handler maps it, apps.api.errors) is answered here.
"""

from __future__ import annotations

from collections.abc import Callable

import orjson
from django.http import HttpRequest, HttpResponse

from apps.kernel.budgets import BudgetExceeded, project_budget, watching
from apps.projects.context import current_context


def budget_response(error: BudgetExceeded, request_id: str) -> HttpResponse:
    error.owner.release()  # the answer is out: let the request finish its bookkeeping
    response = HttpResponse(
        orjson.dumps(error.body()), status=error.status, content_type="application/json"
    )
    response["X-Request-Id"] = request_id
    return response


class BudgetMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_context.set(None)  # nothing of the thread's previous request
        try:
            route = getattr(request, "route", None)
            budget = None
            if route is not None:
                budget = project_budget(route.project_name, request.request_id)
            if budget is None:
                request.os_budgets = ()
                return self.get_response(request)
            request.os_budgets = (budget,)
            try:
                with watching(request.os_budgets):
                    return self.get_response(request)
            except BudgetExceeded as error:  # spent outside any view (a middleware)
                return budget_response(error, request.request_id)
        finally:
            current_context.reset(token)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, BudgetExceeded):
            return budget_response(exception, getattr(request, "request_id", ""))
        return None
