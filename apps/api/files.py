"""File routes of media fields. Thin: stream the body, call objectql.files, answer.

- `POST /api/v1/data/<object>/<id>/files/<field>`: multipart/form-data with the file in
  the part `file` (an optional form field `name` renames it), or the file as the raw
  body with its Content-Type and `?name=`. 201 with the updated record, as PATCH answers.
- `GET .../files/<field>/<ref>` (`ref`: the last segment of the file's key, as in its
  `url`, or its index): the bytes, with the stored type, `nosniff`, and
  `Content-Disposition: inline` for raster images and PDF, `attachment` otherwise.
- `DELETE .../files/<field>/<ref>`: takes the file out of the field; the updated record.

The body is streamed to a temporary file and refused as soon as it passes the field's
limit (maxSize, at most OS_MAX_UPLOAD_BYTES): 400 VALIDATION_FAILED naming the field.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.http import FileResponse, HttpRequest
from django.utils.datastructures import MultiValueDict
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, DataAndFiles, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.kernel.cache import kernels
from apps.kernel.exceptions import NoPublishedVersion, ObjectNotFound
from apps.objectql import files
from apps.objectql.exceptions import ValidationFailed
from apps.objectql.filemeta import download_path

FILE_PART = "file"
CHUNK_BYTES = 64 * 1024
# Room for the multipart framing and a `name` field around the file part.
MULTIPART_SLACK = 64 * 1024


def _limit_for(request: Request, object_name: str, field_name: str) -> int:
    """The field's upload limit, known before authentication (it is not a secret)."""
    route = getattr(request._request, "route", None)
    if route is None:
        return settings.OS_MAX_UPLOAD_BYTES
    try:
        runtime = kernels.get(route).object(object_name)
    except (NoPublishedVersion, ObjectNotFound):
        return settings.OS_MAX_UPLOAD_BYTES
    field = runtime.fields.get(field_name)
    return files.upload_limit(field.definition if field is not None else None)


class LimitedUploadHandler(FileUploadHandler):
    """Streams the multipart part `file` to a temporary file; other file parts are
    dropped; past `limit` bytes the upload stops with 400 (file_too_large)."""

    def __init__(self, request: HttpRequest, view: RecordFilesView) -> None:
        super().__init__(request)
        self.view = view
        self.file: TemporaryUploadedFile | None = None
        self.taking = False
        self.received = 0

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length > self.view.upload_limit() + MULTIPART_SLACK:
            raise self.view.too_large()

    def new_file(self, field_name, file_name, *args: Any, **kwargs: Any) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.taking = field_name == FILE_PART and self.file is None
        if self.taking:
            self.file = TemporaryUploadedFile(
                self.file_name, self.content_type, 0, self.charset, self.content_type_extra
            )

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if not self.taking or self.file is None:
            return None
        self.received += len(raw_data)
        if self.received > self.view.upload_limit():
            self.upload_interrupted()
            raise self.view.too_large()
        self.file.write(raw_data)
        return None

    def file_complete(self, file_size: int) -> TemporaryUploadedFile | None:
        if not self.taking or self.file is None:
            return None
        self.taking = False
        self.file.seek(0)
        self.file.size = file_size
        return self.file

    def upload_interrupted(self) -> None:
        if self.file is not None:
            self.file.close()  # a NamedTemporaryFile: closing removes it
            self.file = None


class RawFileParser(BaseParser):
    """Any other content type: the body is the file, streamed to a temporary file."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None) -> DataAndFiles:
        context = parser_context or {}
        view, request = context["view"], context["request"]
        limit = view.upload_limit()
        if int(request.META.get("CONTENT_LENGTH") or 0) > limit:
            raise view.too_large()
        name = request.query_params.get("name") or FILE_PART
        upload = TemporaryUploadedFile(name, media_type, 0, None)
        size = 0
        while chunk := stream.read(CHUNK_BYTES):
            size += len(chunk)
            if size > limit:
                upload.close()
                raise view.too_large()
            upload.write(chunk)
        upload.seek(0)
        upload.size = size
        return DataAndFiles({}, MultiValueDict({FILE_PART: [upload]}))


class AnyContentNegotiation(BaseContentNegotiation):
    """Downloads answer whatever the client accepts: the file is what it is."""

    def select_parser(self, request, parsers):
        return None

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


class RecordFilesView(APIView):
    """POST uploads a file into a media field of a record."""

    parser_classes = [MultiPartParser, RawFileParser]

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before authentication: a session's CSRF check reads the form, so the upload
        # handler must be in place first.
        self.route_kwargs = kwargs
        self.limit: int | None = None
        if request.method == "POST":
            request.upload_handlers = [LimitedUploadHandler(request, self)]
        return super().initialize_request(request, *args, **kwargs)

    def upload_limit(self) -> int:
        """The field's upload limit (looked up once, when the body is first read)."""
        if self.limit is None:
            self.limit = _limit_for(
                self.request, self.route_kwargs["object_name"], self.route_kwargs["field_name"]
            )
        return self.limit

    def too_large(self) -> ValidationFailed:
        return files.too_large(self.route_kwargs["field_name"], self.upload_limit())

    def post(self, request: Request, object_name: str, record_id: str, field_name: str) -> Response:
        ctx = request_context(request)
        files.check_upload(ctx, object_name, record_id, field_name)  # before the body is read
        upload = request.FILES.get(FILE_PART)
        if upload is None:
            raise ValidationFailed(
                f"send the file as the multipart part '{FILE_PART}' or as the request body",
                field=field_name,
            )
        name = request.query_params.get("name") or request.data.get("name") or upload.name
        try:
            result = files.upload_file(
                ctx, object_name, record_id, field_name, upload,
                name=name, content_type=upload.content_type,
            )  # fmt: skip
        finally:
            upload.close()
        headers = {}
        stored = _new_file_key(result, field_name)
        if stored:
            headers["Location"] = download_path(object_name, result["id"], field_name, stored)
        return Response(result, status=status.HTTP_201_CREATED, headers=headers)


def _new_file_key(result: dict[str, Any], field_name: str) -> str | None:
    """The key of the file just stored (the last one of the field), when returned."""
    value = result.get("record", {}).get(field_name)
    entry = value[-1] if isinstance(value, list) and value else value
    key = entry.get("key") if isinstance(entry, dict) else None
    return key if isinstance(key, str) else None


class RecordFileView(APIView):
    """GET downloads one file of a record's media field; DELETE removes it."""

    content_negotiation_class = AnyContentNegotiation

    def get(
        self, request: Request, object_name: str, record_id: str, field_name: str, file_ref: str
    ) -> FileResponse:
        ctx = request_context(request)
        stored = files.open_file(ctx, object_name, record_id, field_name, file_ref)
        response = FileResponse(
            stored.file,
            content_type=stored.mime_type,
            as_attachment=not stored.inline,
            filename=stored.name,
        )
        if stored.size is not None:
            response["Content-Length"] = str(stored.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-cache"
        return response

    def delete(
        self, request: Request, object_name: str, record_id: str, field_name: str, file_ref: str
    ) -> Response:
        ctx = request_context(request)
        return Response(files.remove_file(ctx, object_name, record_id, field_name, file_ref))
