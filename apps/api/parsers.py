"""orjson request parsing; malformed JSON is a 400 with code INVALID_JSON, a body over
OS_MAX_BODY_BYTES a 413 PAYLOAD_TOO_LARGE (also when it came without a Content-Length)."""

from __future__ import annotations

from typing import Any

import orjson
from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from apps.objectql.exceptions import ObjectQLError


class PayloadTooLarge(ObjectQLError):
    status = 413
    code = "PAYLOAD_TOO_LARGE"


class ORJSONParser(BaseParser):
    media_type = "application/json"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> Any:
        limit = settings.OS_MAX_BODY_BYTES
        body = stream.read(limit + 1)
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            raise ParseError(f"malformed JSON: {error}") from None
