"""File routes of media fields, on local disk and on an S3-compatible server (moto).

`files_app.json` ("files", served at files.test): private documents in folders (cascade),
an `attachment` taking PDF or plain text up to 2048 bytes, a `photo` image up to 4096,
a `multiple` gallery, a readonly `stamp`, and a `confidential` file readers cannot see.
Each test stores into its own folder (or bucket); deletions after commit are run with
`django_capture_on_commit_callbacks`.
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from pathlib import Path

import pytest
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.audit.models import AuditEvent
from apps.objectql import files as file_services
from apps.security.principal import forget_memberships
from objectos_site.file_storage import files_storage
from tests import factories

FILES = "files"
ARTIFACT = Path(__file__).with_name("files_app.json")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\n" + bytes(range(256)) + b"\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
USERS = {
    "owner": ["fx_editor"],
    "stranger": ["fx_editor"],  # same rights, but the rows are private to their owner
    "reader": ["fx_reader"],  # reads every row, edits none, never sees `confidential`
    "limited": ["fx_limited"],  # edits own rows, never sees `confidential`
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]


@pytest.fixture(autouse=True)
def _forget_memberships():
    forget_memberships()
    yield
    forget_memberships()


@pytest.fixture(autouse=True)
def local_files(settings, tmp_path) -> Path:
    """The `files` storage of this test: a fresh folder (the default configuration)."""
    root = tmp_path / "files"
    settings.STORAGES = {**settings.STORAGES, "files": files_storage("", root)}
    return root


@pytest.fixture(scope="session")
def files_session(publish_session):
    return publish_session(FILES, json.loads(ARTIFACT.read_text()))


@pytest.fixture
def project(files_session, db):
    files_session.refresh_from_db()
    return files_session


@pytest.fixture
def users(project):
    return {
        name: factories.make_user(f"{name}@{FILES}.test", project, permission_sets=sets)
        for name, sets in USERS.items()
    }


@pytest.fixture
def clients(project, users):
    return {name: factories.api_client(project, user) for name, user in users.items()}


def create(client, object_name: str = "fx_doc", **values) -> str:
    response = client.post(f"/api/v1/data/{object_name}", {"name": "x", **values}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def files_url(record_id: str, field: str, object_name: str = "fx_doc") -> str:
    return f"/api/v1/data/{object_name}/{record_id}/files/{field}"


def upload(client, record_id, field, name, content, content_type, object_name="fx_doc"):
    part = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(files_url(record_id, field, object_name), {"file": part}, format="multipart")


def upload_raw(client, record_id, field, name, content, content_type):
    return client.post(
        f"{files_url(record_id, field)}?name={name}", content, content_type=content_type
    )


def content_of(response) -> bytes:
    """The streamed body (the test client closes the response once it is consumed)."""
    return b"".join(response.streaming_content)


def stored(key: str) -> bool:
    return storages["files"].exists(key)


def test_upload_and_download_round_trip(project, users, clients, local_files):
    owner = clients["owner"]
    doc = create(owner)
    response = upload(owner, doc, "attachment", "Q3 report.pdf", PDF, "application/pdf")
    assert response.status_code == 201, response.content
    body = response.json()
    entry = body["record"]["attachment"]
    key = entry["key"]
    prefix = f"{FILES}/fx_doc/{doc}/attachment/"
    assert key.startswith(prefix) and key.endswith("-Q3_report.pdf")
    url = f"{files_url(doc, 'attachment')}/{key.rsplit('/', 1)[-1]}"
    assert entry == {
        "name": "Q3 report.pdf",
        "key": key,
        "size": len(PDF),
        "mimeType": "application/pdf",
        "url": url,
    }
    assert body["object"] == "fx_doc" and body["id"] == doc
    assert response["Location"] == url
    assert (local_files / key).read_bytes() == PDF
    assert oct((local_files / key).stat().st_mode & 0o777) == "0o600"

    download = owner.get(url)
    assert download.status_code == 200
    assert content_of(download) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Length"] == str(len(PDF))
    assert download["Content-Disposition"] == 'inline; filename="Q3 report.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Cache-Control"] == "private, no-cache"
    by_index = owner.get(f"{files_url(doc, 'attachment')}/0")
    assert content_of(by_index) == PDF

    # Records everywhere carry the download route, never a storage URL.
    assert owner.get(f"/api/v1/data/fx_doc/{doc}").json()["record"]["attachment"]["url"] == url
    listed = owner.get("/api/v1/data/fx_doc").json()["records"]
    assert [r["attachment"]["url"] for r in listed] == [url]

    # Written through the update path: one audit row with the stored descriptor.
    events = AuditEvent.objects.filter(chain=FILES, object_name="fx_doc", record_id=doc)
    update = events.get(action="update")
    stored_entry = {k: v for k, v in entry.items() if k != "url"}
    assert update.changes == [["attachment", None, stored_entry]]
    assert update.actor_user_id == users["owner"].pk


def test_raw_body_upload_is_served_as_attachment(clients):
    owner = clients["owner"]
    doc = create(owner)
    text = b"plain notes\nline two\n"
    response = upload_raw(owner, doc, "attachment", "notes.txt", text, "text/plain; charset=utf-8")
    assert response.status_code == 201, response.content
    entry = response.json()["record"]["attachment"]
    assert (entry["name"], entry["size"], entry["mimeType"]) == (
        "notes.txt",
        len(text),
        "text/plain",
    )
    download = owner.get(entry["url"])
    assert content_of(download) == text
    assert download["Content-Type"] == "text/plain"
    assert download["Content-Disposition"] == 'attachment; filename="notes.txt"'


def test_type_is_sniffed_when_the_client_declares_none(clients):
    owner = clients["owner"]
    doc = create(owner)
    response = upload(owner, doc, "photo", "picture", PNG, "application/octet-stream")
    assert response.status_code == 201, response.content
    assert response.json()["record"]["photo"]["mimeType"] == "image/png"


def test_permissions(project, clients):
    owner, reader, stranger = clients["owner"], clients["reader"], clients["stranger"]
    doc = create(owner)
    entry = upload(owner, doc, "attachment", "a.pdf", PDF, "application/pdf").json()["record"][
        "attachment"
    ]
    secret = upload(owner, doc, "confidential", "s.pdf", PDF, "application/pdf").json()["record"][
        "confidential"
    ]

    # Reads every row, edits none: download yes, upload and delete no (403).
    assert content_of(reader.get(entry["url"])) == PDF
    refused = upload(reader, doc, "attachment", "b.pdf", PDF, "application/pdf")
    assert refused.status_code == 403
    assert refused.json() == {"error": "you may not edit fx_doc", "code": "FORBIDDEN"}
    assert reader.delete(entry["url"]).status_code == 403
    # ... and the confidential field does not exist for it.
    assert "confidential" not in reader.get(f"/api/v1/data/fx_doc/{doc}").json()["record"]
    assert reader.get(secret["url"]).status_code == 404

    # Outside the row scope: 404 on both routes, nothing stored.
    assert stranger.get(entry["url"]).status_code == 404
    assert stranger.get(entry["url"]).json()["code"] == "NOT_FOUND"
    missing = upload(stranger, doc, "attachment", "b.pdf", PDF, "application/pdf")
    assert missing.status_code == 404
    assert stranger.delete(entry["url"]).status_code == 404

    # Anonymous: 401.
    assert factories.api_client(project).get(entry["url"]).status_code == 401


def test_field_refusals(clients):
    owner, limited = clients["owner"], clients["limited"]
    doc = create(owner)
    readonly = upload(owner, doc, "stamp", "a.pdf", PDF, "application/pdf")
    assert readonly.status_code == 403
    assert readonly.json()["fields"] == [
        {"field": "stamp", "code": "not_editable", "message": "this field cannot be set"}
    ]
    not_media = upload(owner, doc, "name", "a.pdf", PDF, "application/pdf")
    assert (not_media.status_code, not_media.json()["code"]) == (400, "INVALID_FIELD")
    unknown = upload(owner, doc, "nothing", "a.pdf", PDF, "application/pdf")
    assert unknown.json() == {
        "error": "unknown field 'nothing'",
        "code": "INVALID_FIELD",
        "field": "nothing",
    }
    own = create(limited)
    hidden = upload(limited, own, "confidential", "a.pdf", PDF, "application/pdf")
    assert (hidden.status_code, hidden.json()["field"]) == (400, "confidential")
    empty = owner.post(files_url(doc, "attachment"), {}, format="multipart")
    assert (empty.status_code, empty.json()["code"]) == (400, "VALIDATION_FAILED")


def _problem(response) -> tuple[int, str, str]:
    body = response.json()
    assert body["code"] == "VALIDATION_FAILED", body
    [problem] = body["fields"]
    return response.status_code, problem["field"], problem["code"]


def test_max_size_is_enforced_while_streaming(clients, local_files):
    owner = clients["owner"]
    doc = create(owner)
    big = PDF + b"0" * (2049 - len(PDF))
    assert _problem(upload(owner, doc, "attachment", "big.pdf", big, "application/pdf")) == (
        400, "attachment", "file_too_large",
    )  # fmt: skip
    assert _problem(upload_raw(owner, doc, "attachment", "big.pdf", big, "application/pdf")) == (
        400, "attachment", "file_too_large",
    )  # fmt: skip
    # Far over the limit: refused by its length before a byte is stored.
    huge = PDF + b"0" * 200_000
    assert _problem(upload(owner, doc, "attachment", "huge.pdf", huge, "application/pdf")) == (
        400, "attachment", "file_too_large",
    )  # fmt: skip
    # The limit itself is fine.
    exact = PDF + b"0" * (2048 - len(PDF))
    assert upload(owner, doc, "attachment", "ok.pdf", exact, "application/pdf").status_code == 201
    assert len(list((local_files / FILES / "fx_doc" / doc / "attachment").iterdir())) == 1


def test_accept_is_checked_against_the_declared_type_and_the_bytes(clients, local_files):
    owner = clients["owner"]
    doc = create(owner)
    # `attachment` accepts .pdf and text/plain only.
    refused = upload(owner, doc, "attachment", "p.png", PNG, "image/png")
    assert refused.json()["fields"] == [{
        "field": "attachment",
        "code": "invalid_file_type",
        "message": "attachment: 'image/png' is not an accepted type",
    }]  # fmt: skip
    # An HTML page called a PNG is not an image; neither is a PDF.
    html = b"<!DOCTYPE html><script>alert(1)</script>"
    refused = upload(owner, doc, "photo", "evil.png", html, "image/png")
    assert refused.json()["fields"] == [{
        "field": "photo",
        "code": "invalid_file_type",
        "message": "photo: declared as image/png, but its content is text/html",
    }]  # fmt: skip
    assert _problem(upload(owner, doc, "photo", "x.png", PDF, "image/png")) == (
        400, "photo", "invalid_file_type",
    )  # fmt: skip
    # A PNG named .pdf and declared as a PDF is refused by its bytes.
    assert _problem(upload(owner, doc, "attachment", "x.pdf", PNG, "application/pdf")) == (
        400, "attachment", "invalid_file_type",
    )  # fmt: skip
    assert _problem(upload(owner, doc, "recording", "a.mp3", PNG, "image/png")) == (
        400, "recording", "invalid_file_type",
    )  # fmt: skip
    assert not local_files.exists() or not any(local_files.rglob("*.*"))


def test_replace_deletes_the_old_file_after_commit(clients, django_capture_on_commit_callbacks):
    owner = clients["owner"]
    doc = create(owner)
    first = upload(owner, doc, "photo", "one.png", PNG, "image/png").json()["record"]["photo"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = upload(owner, doc, "photo", "two.png", PNG + b"2", "image/png")
    second = response.json()["record"]["photo"]
    assert second["name"] == "two.png" and len(callbacks) == 1
    assert not stored(first["key"]) and stored(second["key"])
    assert owner.get(first["url"]).status_code == 404
    assert content_of(owner.get(second["url"])) == PNG + b"2"


def test_multiple_appends_and_delete_removes_one(clients, django_capture_on_commit_callbacks):
    owner = clients["owner"]
    doc = create(owner)
    upload(owner, doc, "gallery", "a.png", PNG, "image/png")
    gallery = upload(owner, doc, "gallery", "b.png", PNG + b"b", "image/png").json()["record"][
        "gallery"
    ]
    assert [g["name"] for g in gallery] == ["a.png", "b.png"]
    assert content_of(owner.get(f"{files_url(doc, 'gallery')}/1")) == PNG + b"b"
    with django_capture_on_commit_callbacks(execute=True):
        response = owner.delete(gallery[0]["url"])
    assert response.status_code == 200
    assert [g["name"] for g in response.json()["record"]["gallery"]] == ["b.png"]
    assert not stored(gallery[0]["key"]) and stored(gallery[1]["key"])
    assert owner.get(gallery[0]["url"]).status_code == 404
    assert owner.delete(gallery[0]["url"]).status_code == 404


def test_record_delete_removes_its_files_and_those_of_its_cascade(
    clients, django_capture_on_commit_callbacks
):
    owner = clients["owner"]
    folder = create(owner, "fx_folder")
    cover = upload(owner, folder, "cover", "c.png", PNG, "image/png", "fx_folder")
    doc = create(owner, folder=folder)
    entries = [
        cover.json()["record"]["cover"],
        upload(owner, doc, "attachment", "a.pdf", PDF, "application/pdf").json()["record"][
            "attachment"
        ],
        *upload(owner, doc, "gallery", "g.png", PNG, "image/png").json()["record"]["gallery"],
    ]
    keys = [e["key"] for e in entries]
    assert all(stored(k) for k in keys)
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.delete(f"/api/v1/data/fx_folder/{folder}").status_code == 200
    assert not any(stored(k) for k in keys)


def test_rolled_back_delete_keeps_the_files(clients, django_capture_on_commit_callbacks):
    owner = clients["owner"]
    doc = create(owner)
    key = upload(owner, doc, "attachment", "a.pdf", PDF, "application/pdf").json()["record"][
        "attachment"
    ]["key"]
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = owner.post(
            "/api/v1/data/fx_doc/deleteMany", {"ids": [doc, "f" * 32]}, format="json"
        )
    assert response.status_code == 404  # all or nothing: the first delete is undone
    assert callbacks == [] and stored(key)
    assert owner.get(f"/api/v1/data/fx_doc/{doc}").status_code == 200


def test_a_key_written_by_hand_is_neither_served_nor_deleted(
    clients, django_capture_on_commit_callbacks
):
    owner = clients["owner"]
    victim = create(owner)
    key = upload(owner, victim, "attachment", "a.pdf", PDF, "application/pdf").json()["record"][
        "attachment"
    ]["key"]
    thief = create(owner)
    patched = owner.patch(
        f"/api/v1/data/fx_doc/{thief}",
        {"confidential": {"name": "a.pdf", "key": key, "mimeType": "application/pdf"}},
        format="json",
    )
    assert patched.status_code == 200
    assert "url" not in patched.json()["record"]["confidential"]
    assert owner.get(f"{files_url(thief, 'confidential')}/0").status_code == 404
    assert (
        owner.get(f"{files_url(thief, 'confidential')}/{key.rsplit('/', 1)[-1]}").status_code == 404
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert owner.delete(f"/api/v1/data/fx_doc/{thief}").status_code == 200
    assert stored(key)


def test_a_failed_update_removes_the_new_file(clients, monkeypatch, local_files):
    owner = clients["owner"]
    doc = create(owner)

    def refuse(*args, **kwargs):
        raise RuntimeError("update failed")

    monkeypatch.setattr(file_services.write, "update_record", refuse)
    with pytest.raises(RuntimeError):
        upload(owner, doc, "attachment", "a.pdf", PDF, "application/pdf")
    assert list((local_files / FILES / "fx_doc" / doc / "attachment").iterdir()) == []


def test_storage_url_configuration(tmp_path, monkeypatch):
    for name in ("AWS_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("AWS_S3_REGION_NAME", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    local = files_storage("", tmp_path)
    assert local["BACKEND"] == "django.core.files.storage.FileSystemStorage"
    assert local["OPTIONS"]["location"] == str(tmp_path)
    assert files_storage(f"file://{tmp_path}/x", tmp_path)["OPTIONS"]["location"] == str(
        tmp_path / "x"
    )
    s3 = files_storage(
        "s3://bucket/pre/fix?endpoint=http://127.0.0.1:9000&region=eu-west-1", tmp_path
    )
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    options = s3["OPTIONS"]
    assert (options["bucket_name"], options["location"]) == ("bucket", "pre/fix")
    assert (options["endpoint_url"], options["region_name"]) == (
        "http://127.0.0.1:9000",
        "eu-west-1",
    )
    assert (options["addressing_style"], options["default_acl"]) == ("path", None)
    assert "access_key" not in options  # credentials come from the AWS environment
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        files_storage("ftp://host/x", tmp_path)
    with pytest.raises(ImproperlyConfigured):
        files_storage("s3://bucket?secret=x", tmp_path)


# --- S3-compatible storage: moto's server on loopback -----------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint, settings, monkeypatch):
    """A fresh bucket on the moto server, configured as the `files` storage."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"fx-{uuid.uuid4().hex[:12]}"
    s3 = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    url = f"s3://{bucket}/objectos?endpoint={s3_endpoint}&region=us-east-1"
    settings.STORAGES = {**settings.STORAGES, "files": files_storage(url, Path("/nonexistent"))}
    return s3, bucket


def test_round_trip_on_s3(clients, s3_bucket, django_capture_on_commit_callbacks):
    s3, bucket = s3_bucket
    owner, reader, stranger = clients["owner"], clients["reader"], clients["stranger"]
    doc = create(owner)
    response = upload(owner, doc, "attachment", "report.pdf", PDF, "application/pdf")
    assert response.status_code == 201, response.content
    entry = response.json()["record"]["attachment"]
    stored_object = s3.get_object(Bucket=bucket, Key=f"objectos/{entry['key']}")
    assert stored_object["Body"].read() == PDF
    assert "/api/v1/data/fx_doc/" in entry["url"] and bucket not in json.dumps(entry)

    download = reader.get(entry["url"])
    assert download.status_code == 200
    assert content_of(download) == PDF
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Length"] == str(len(PDF))
    assert download["Content-Disposition"] == 'inline; filename="report.pdf"'
    assert stranger.get(entry["url"]).status_code == 404

    big = upload_raw(owner, doc, "attachment", "big.pdf", PDF + b"0" * 2048, "application/pdf")
    assert _problem(big) == (400, "attachment", "file_too_large")

    with django_capture_on_commit_callbacks(execute=True):
        assert owner.delete(f"/api/v1/data/fx_doc/{doc}").status_code == 200
    listed = s3.list_objects_v2(Bucket=bucket, Prefix="objectos/")
    assert listed.get("KeyCount", 0) == 0


def test_openapi_lists_the_file_routes_of_readable_media_fields(clients):
    from openapi_spec_validator import validate

    document = clients["reader"].get("/api/v1/openapi.json").json()
    validate(document)
    route = document["paths"]["/api/v1/data/fx_doc/{id}/files/{field}"]
    [_, field] = route["parameters"]
    assert field["schema"]["enum"] == ["attachment", "photo", "gallery", "recording", "stamp"]
    assert set(document["paths"]["/api/v1/data/fx_doc/{id}/files/{field}/{ref}"]) == {
        "parameters", "get", "delete",
    }  # fmt: skip


def test_clearing_the_field_with_patch_deletes_the_file(
    clients, django_capture_on_commit_callbacks
):
    owner = clients["owner"]
    doc = create(owner)
    key = upload(owner, doc, "photo", "p.png", PNG, "image/png").json()["record"]["photo"]["key"]
    with django_capture_on_commit_callbacks(execute=True):
        patched = owner.patch(f"/api/v1/data/fx_doc/{doc}", {"photo": None}, format="json")
    assert patched.status_code == 200 and patched.json()["record"]["photo"] is None
    assert not stored(key)


def test_uploads_are_limited_by_the_field_not_by_the_json_body_limit(clients, settings):
    settings.OS_MAX_BODY_BYTES = 1000
    owner = clients["owner"]
    doc = create(owner)
    png = PNG + b"\0" * 2000
    response = upload_raw(owner, doc, "photo", "big.png", png, "image/png")
    assert response.status_code == 201, response.content
    assert content_of(owner.get(response.json()["record"]["photo"]["url"])) == png
    too_big = owner.patch(f"/api/v1/data/fx_doc/{doc}", {"name": "x" * 2000}, format="json")
    assert too_big.status_code == 413


def test_session_upload_streams_through_the_limit_before_the_csrf_check(project, users):
    from django.middleware.csrf import _get_new_csrf_string
    from rest_framework.test import APIClient

    host = project.domains.values_list("hostname", flat=True).first()
    client = APIClient(HTTP_HOST=host, enforce_csrf_checks=True)
    assert client.login(username=users["owner"].username, password=factories.PASSWORD)
    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    doc = client.post(
        "/api/v1/data/fx_doc", {"name": "x"}, format="json", HTTP_X_CSRFTOKEN=token
    ).json()["id"]
    part = SimpleUploadedFile("a.pdf", PDF, content_type="application/pdf")
    url = files_url(doc, "attachment")
    ok = client.post(url, {"file": part}, format="multipart", HTTP_X_CSRFTOKEN=token)
    assert ok.status_code == 201, ok.content
    big = SimpleUploadedFile("b.pdf", PDF + b"0" * 4000, content_type="application/pdf")
    refused = client.post(url, {"file": big}, format="multipart", HTTP_X_CSRFTOKEN=token)
    assert _problem(refused) == (400, "attachment", "file_too_large")
    no_token = SimpleUploadedFile("c.pdf", PDF, content_type="application/pdf")
    assert client.post(url, {"file": no_token}, format="multipart").status_code == 403
