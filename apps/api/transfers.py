"""Exports and imports over HTTP: checked at once, run as jobs, answered 202 `{job_id}`.

POST /data/<object>/export `{format: csv|json, filter?, sort?, select?}` takes the list
route's parameters and is refused (400/403/404) exactly as that route would refuse them,
before anything is queued; the job (apps.objectql.exports) writes the file and
GET /exports/<job_id> streams it to the job's owner or a project admin (404 for others).
POST /data/<object>/import takes `{records: [...]}` or a CSV body (`text/csv`, header row
= field names), at most OS_MAX_BODY_BYTES; the job (apps.objectql.imports) creates the
records in all-or-nothing chunks and reports `{created, failed: [{row, fields}]}`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.api.errors import error_response
from apps.api.files import AnyContentNegotiation
from apps.api.jobs import accepted, is_project_admin
from apps.api.parsers import ORJSONParser, PayloadTooLarge
from apps.jobs import submit
from apps.jobs.models import Job
from apps.objectql.exceptions import Forbidden, RecordNotFound, ValidationFailed
from apps.objectql.exports import EXPORT_KIND, FORMATS, check_export, export_params
from apps.objectql.filestore import open_stored
from apps.objectql.imports import IMPORT_KIND, parse_import
from apps.security.access import object_access


class CSVTextParser(BaseParser):
    """`text/csv` bodies as text (UTF-8, a BOM dropped), capped at OS_MAX_BODY_BYTES."""

    media_type = "text/csv"

    def parse(
        self, stream: Any, media_type: str | None = None, parser_context: dict | None = None
    ) -> str:
        limit = settings.OS_MAX_BODY_BYTES
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise PayloadTooLarge(f"the request body is larger than {limit} bytes")
        try:
            return body.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed("the CSV body must be UTF-8 text") from None


class ExportView(APIView):
    """POST /data/<object>/export: 202 with the export job."""

    def post(self, request: Request, object_name: str) -> Response:
        ctx = request_context(request)
        file_format, list_params = export_params(request.data)
        check_export(ctx, object_name, list_params)
        job = submit(
            ctx,
            "apps.objectql.exports.export_records",
            {"object_name": object_name, "file_format": file_format, "list_params": list_params},
            kind=EXPORT_KIND,
        )
        return accepted(job)


class ExportDownloadView(APIView):
    """GET /exports/<job_id>: the exported file, for the job's owner or a project admin."""

    content_negotiation_class = AnyContentNegotiation

    def get(self, request: Request, job_id: str) -> FileResponse | Response:
        ctx = request_context(request)
        job = Job.objects.filter(pk=job_id, project_id=ctx.project_id, kind=EXPORT_KIND).first()
        if job is None or (job.user_id != ctx.user_id and not is_project_admin(ctx)):
            raise RecordNotFound(f"export {job_id} not found")
        if job.status != "completed" or not isinstance(job.result, dict):
            return error_response(
                409, "NOT_READY", f"export {job_id} is {job.status}; its file is not ready"
            )
        try:
            handle, size = open_stored(job.result["file"])
        except FileNotFoundError:
            raise RecordNotFound(f"the file of export {job_id} is gone") from None
        file_format = job.result["format"]
        response = FileResponse(
            handle,
            content_type=FORMATS[file_format],
            as_attachment=True,
            filename=f"{job.result['object']}-{job.id}.{file_format}",
        )
        if size is not None:
            response["Content-Length"] = str(size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-cache"
        return response


class ImportView(APIView):
    """POST /data/<object>/import (JSON or CSV): 202 with the import job."""

    parser_classes = [ORJSONParser, CSVTextParser]

    def post(self, request: Request, object_name: str) -> Response:
        ctx = request_context(request)
        runtime = ctx.kernel.object(object_name)
        if not object_access(ctx, runtime).can_create:
            raise Forbidden(f"you may not create {object_name}")
        records = parse_import(request.data)
        job = submit(
            ctx,
            "apps.objectql.imports.import_records",
            {
                "object_name": object_name,
                "records": records,
                "from_csv": isinstance(request.data, str),
            },
            kind=IMPORT_KIND,
            max_attempts=1,  # a retry would create the chunks that succeeded twice
        )
        return accepted(job)
