"""/api/v1/openapi.json: an OpenAPI 3.0 document for the request's project and actor."""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.context import request_context
from apps.kernel.grants import grant_model
from apps.kernel.kernel import Kernel, ObjectRuntime
from apps.objectql.filemeta import media_fields
from apps.security.access import object_access

ERROR = {"$ref": "#/components/schemas/Error"}
LIST_PARAMETERS = [
    {"name": "top", "in": "query", "schema": {"type": "integer", "minimum": 0},
     "description": "page size (alias limit), capped by the server"},
    {"name": "skip", "in": "query", "schema": {"type": "integer", "minimum": 0},
     "description": "rows to skip (alias offset)"},
    {"name": "sort", "in": "query", "schema": {"type": "string"},
     "description": "fields, '-' for descending (alias orderBy)"},
    {"name": "select", "in": "query", "schema": {"type": "string"},
     "description": "comma-separated fields (alias fields)"},
    {"name": "filter", "in": "query", "schema": {"type": "string"},
     "description": "JSON filter, Mongo-style or array form (alias where)"},
    {"name": "expand", "in": "query", "schema": {"type": "string"}},
    {"name": "search", "in": "query", "schema": {"type": "string"}},
    {"name": "count", "in": "query", "schema": {"type": "boolean"}},
]  # fmt: skip
SYSTEM_PROPERTIES = {
    "id": {"type": "string", "readOnly": True},
    "owner_id": {"type": "integer", "nullable": True},
    "created_by": {"type": "integer", "nullable": True, "readOnly": True},
    "updated_by": {"type": "integer", "nullable": True, "readOnly": True},
    "created_at": {"type": "string", "format": "date-time", "readOnly": True},
    "updated_at": {"type": "string", "format": "date-time", "readOnly": True},
}


SHARE_REQUEST = {
    "type": "object",
    "required": ["user", "accessLevel"],
    "properties": {
        "user": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
        "accessLevel": {"type": "string", "enum": ["read", "edit"]},
    },
}


def _json(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(s): _json(ERROR, "error") for s in statuses}


def object_schema(runtime: ObjectRuntime, readable: frozenset[str]) -> dict[str, Any]:
    properties = dict(SYSTEM_PROPERTIES)
    required = []
    for name, field in runtime.fields.items():
        if name not in readable or not field.type.returned:
            continue
        schema = dict(field.type.openapi_schema(field.definition))
        schema["nullable"] = True  # a record may hold no value (required is checked on write)
        if "enum" in schema:  # OpenAPI 3.0: a nullable enum lists null among its values
            schema["enum"] = [*schema["enum"], None]
        if field.type.computed:
            schema["readOnly"] = True
        if field.definition.label:
            schema.setdefault("title", field.definition.label)
        properties[name] = schema
        if field.definition.required and not field.type.computed:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def object_paths(runtime: ObjectRuntime) -> dict[str, Any]:
    name = runtime.name
    ref = {"$ref": f"#/components/schemas/{name}"}
    patch = {"$ref": f"#/components/schemas/{name}.patch"}  # "." never occurs in object names
    record = {
        "type": "object",
        "properties": {"object": {"type": "string"}, "id": {"type": "string"}, "record": ref},
    }
    listing = {
        "type": "object",
        "properties": {
            "object": {"type": "string"},
            "records": {"type": "array", "items": ref},
            "total": {"type": "integer", "nullable": True},
            "hasMore": {"type": "boolean"},
        },
    }
    record_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    tag = [name]
    return {
        f"/api/v1/data/{name}": {
            "get": {
                "tags": tag,
                "operationId": f"list_{name}",
                "parameters": LIST_PARAMETERS,
                "responses": {"200": _json(listing), **_errors(400, 401, 403)},
            },
            "post": {
                "tags": tag,
                "operationId": f"create_{name}",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": {"201": _json(record), **_errors(400, 401, 403)},
            },
        },
        f"/api/v1/data/{name}/query": {
            "post": {
                "tags": tag,
                "operationId": f"query_{name}",
                "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
                "responses": {"200": _json(listing), **_errors(400, 401, 403)},
            },
        },
        f"/api/v1/data/{name}/{{id}}": {
            "parameters": [record_id],
            "get": {
                "tags": tag,
                "operationId": f"get_{name}",
                "responses": {"200": _json(record), **_errors(401, 404)},
            },
            "patch": {
                "tags": tag,
                "operationId": f"update_{name}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": patch}},
                },
                "responses": {"200": _json(record), **_errors(400, 401, 403, 404)},
            },
            "delete": {
                "tags": tag,
                "operationId": f"delete_{name}",
                "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404, 409)},
            },
        },
    }


def share_paths(runtime: ObjectRuntime) -> dict[str, Any]:
    """Share routes, for objects with a grant table (private and public_read objects)."""
    name = runtime.name
    record_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
    tag = [name]
    return {
        f"/api/v1/data/{name}/{{id}}/shares": {
            "parameters": [record_id],
            "get": {
                "tags": tag,
                "operationId": f"list_{name}_shares",
                "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)},
            },
            "post": {
                "tags": tag,
                "operationId": f"share_{name}",
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": SHARE_REQUEST}},
                },
                "responses": {
                    "200": _json({"type": "object"}),
                    "201": _json({"type": "object"}),
                    **_errors(400, 401, 403, 404),
                },
            },
        },
        f"/api/v1/data/{name}/{{id}}/shares/{{share_id}}": {
            "parameters": [
                record_id,
                {"name": "share_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "delete": {
                "tags": tag,
                "operationId": f"unshare_{name}",
                "responses": {"200": _json({"type": "object"}), **_errors(401, 403, 404)},
            },
        },
    }


def file_paths(runtime: ObjectRuntime, fields: list[str]) -> dict[str, Any]:
    """File routes of the object's media fields (apps.api.files)."""
    name, tag = runtime.name, [runtime.name]
    parameters = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "field", "in": "path", "required": True,
         "schema": {"type": "string", "enum": fields}},
    ]  # fmt: skip
    binary = {"type": "string", "format": "binary"}
    return {
        f"/api/v1/data/{name}/{{id}}/files/{{field}}": {
            "parameters": parameters,
            "post": {
                "tags": tag,
                "operationId": f"upload_{name}_file",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": binary, "name": {"type": "string"}},
                            }
                        },
                        "application/octet-stream": {"schema": binary},
                    },
                },
                "responses": {"201": _json({"type": "object"}), **_errors(400, 401, 403, 404)},
            },
        },
        f"/api/v1/data/{name}/{{id}}/files/{{field}}/{{ref}}": {
            "parameters": [
                *parameters,
                {"name": "ref", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "get": {
                "tags": tag,
                "operationId": f"download_{name}_file",
                "responses": {
                    "200": {"description": "the file", "content": {"*/*": {"schema": binary}}},
                    **_errors(401, 403, 404),
                },
            },
            "delete": {
                "tags": tag,
                "operationId": f"remove_{name}_file",
                "responses": {"200": _json({"type": "object"}), **_errors(400, 401, 403, 404)},
            },
        },
    }


def build_document(kernel: Kernel, readable_of) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error", "code"],
            "properties": {
                "error": {"type": "string"},
                "code": {"type": "string"},
                "field": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "field": {"type": "string"},
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                        },
                    },
                },
            },
        }
    }
    for runtime in kernel.objects.values():
        readable = readable_of(runtime)
        if readable is None:
            continue
        paths.update(object_paths(runtime))
        if grant_model(runtime.model) is not None:
            paths.update(share_paths(runtime))
        media = [field for field in media_fields(runtime) if field in readable]
        if media:
            paths.update(file_paths(runtime, media))
        schemas[runtime.name] = object_schema(runtime, readable)
        # An update names only the fields it changes: nothing is required.
        schemas[f"{runtime.name}.patch"] = {
            k: v for k, v in schemas[runtime.name].items() if k != "required"
        }
    manifest = kernel.artifact.manifest
    return {
        "openapi": "3.0.3",
        "info": {
            "title": manifest.name or kernel.project_name,
            "version": f"{manifest.version or '0'} (v{kernel.version_number})",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
            },
        },
        "security": [{"bearer": []}, {"apiKey": []}],
    }


class OpenAPIView(APIView):
    def get(self, request: Request) -> Response:
        ctx = request_context(request)

        def readable_of(runtime: ObjectRuntime) -> frozenset[str] | None:
            access = object_access(ctx, runtime)
            return access.readable if access.can_read else None

        return Response(build_document(ctx.kernel, readable_of))
