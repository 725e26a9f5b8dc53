"""OWASP API Security Top 10 (2023), one section per risk, against the matrix artifact.

Applies here: API1 object-level authorization, API2 authentication, API3 object property
level authorization, API4 resource consumption, API5 function-level authorization, API8
security misconfiguration, API9 inventory management, API10 unsafe consumption (of the
artifact, the one third-party input the runtime consumes).

Does not apply (yet), so no section:
- API6 unrestricted access to sensitive business flows: the runtime has no business flow
  of its own (no purchase, booking or referral flow); artifacts' actions and flows are
  not served yet. Sign-in abuse is API2 and throttling belongs to the deployment.
- API7 server-side request forgery: no request parameter makes the server fetch a URL.
  Artifacts come from a file, the Console upload or OS_CLOUD_URL (operator settings);
  webhooks and connectors of an artifact are reported at load and not run.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import timedelta

import orjson
import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.kernel.cache import kernels
from apps.projects import hosts
from apps.security.authentication import credentials
from apps.security.models import ApiKey, AuthToken, hash_secret
from tests import factories
from tests.security.conftest import SECFIX, SECFIX_ARTIFACT, email

pytestmark = pytest.mark.django_db

DEALS = "/api/v1/data/sec_deal"


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Overrides the conftest fixture: kernels stay built for the module; host routes and
    remembered credentials are forgotten around each test."""
    hosts.invalidate()
    credentials.clear()
    yield
    hosts.invalidate()
    credentials.clear()


@pytest.fixture(autouse=True, scope="module")
def _drop_kernels_after_module():
    yield
    kernels.clear()


def not_found(object_name: str, record_id: str) -> dict[str, str]:
    return {"error": f"{object_name} '{record_id}' not found", "code": "NOT_FOUND"}


def anonymous(project=None) -> APIClient:
    return APIClient(HTTP_HOST=f"{project.name if project else SECFIX}.test")


# === API1:2023 Broken Object Level Authorization ======================================


class TestAPI1ObjectLevelAuthorization:
    """Ids of other users' rows answer exactly like ids that do not exist."""

    @pytest.mark.parametrize("key", ["deal_b", "deal_won", "deal_emea"])
    def test_other_users_rows_are_404_on_every_record_route(self, secfix_world, key):
        world = secfix_world
        alice = world.client("alice")
        record_id = world.ids[key]
        url = f"{DEALS}/{record_id}"
        answers = [
            alice.get(url),
            alice.get(url, {"expand": "account"}),
            alice.patch(url, {"amount": 1}, format="json"),
            alice.put(url, {"amount": 1}, format="json"),
            alice.delete(url),
            alice.post(
                f"{DEALS}/updateMany", {"records": [{"id": record_id, "amount": 1}]}, format="json"
            ),
            alice.post(f"{DEALS}/deleteMany", {"ids": [record_id]}, format="json"),
            alice.post(
                f"{DEALS}/batch", {"operation": "delete", "ids": [record_id]}, format="json"
            ),
        ]
        for response in answers:
            assert response.status_code == 404
            assert response.json() == not_found("sec_deal", record_id)
        assert (
            world.client("bob").get(url).json()["record"]["amount"]
            == {
                "deal_b": 20,
                "deal_won": 30,
                "deal_emea": 40,
            }[key]
        )

    def test_an_existing_id_out_of_scope_is_indistinguishable_from_a_missing_one(
        self, secfix_world
    ):
        world = secfix_world
        alice = world.client("alice")
        missing = "0" * 32
        for record_id in (world.ids["deal_b"], missing):
            response = alice.get(f"{DEALS}/{record_id}")
            assert (response.status_code, response.json()) == (
                404,
                not_found("sec_deal", record_id),
            )
        for record_id in (world.ids["deal_b"], missing):
            query = alice.post(f"{DEALS}/query", {"filter": {"id": record_id}}, format="json")
            assert query.json() == {
                "object": "sec_deal",
                "records": [],
                "total": 0,
                "hasMore": False,
            }

    def test_a_child_cannot_be_attached_to_another_users_master(self, secfix_world):
        """Pointing a note at bob's deal answers like a deal that does not exist."""
        world = secfix_world
        alice = world.client("alice")
        for deal in (world.ids["deal_b"], "0" * 32):
            response = alice.post(
                "/api/v1/data/sec_deal_note", {"deal": deal, "body": "Note x"}, format="json"
            )
            assert response.status_code == 400
            assert response.json()["fields"] == [
                {
                    "field": "deal",
                    "code": "invalid_reference",
                    "message": f"no sec_deal with id {deal}",
                }
            ]
        moved = alice.patch(
            f"/api/v1/data/sec_deal_note/{world.ids['note_a']}",
            {"deal": world.ids["deal_b"]},
            format="json",
        )
        assert moved.status_code == 400
        assert moved.json()["fields"][0]["code"] == "invalid_reference"

    def test_expand_keeps_the_raw_id_of_a_row_out_of_scope(self, secfix_world):
        world = secfix_world
        record = (
            world.client("alice")
            .get(f"/api/v1/data/sec_ticket/{world.ids['t_agent']}", {"expand": "deal"})
            .json()["record"]
        )
        assert record["deal"] == world.ids["deal_b"]

    def test_users_of_another_project_can_be_neither_referenced_nor_expanded(
        self, secfix_world, demo_session
    ):
        """A user field takes members of this project only; a stranger's id answers like
        an id no user has, and an expand never shows a stranger's email."""
        world = secfix_world
        stranger = factories.make_user("stranger@demo.test", demo_session)
        alice = world.client("alice")
        url = "/api/v1/data/sec_ticket"
        for user_id in (stranger.pk, 987654321):
            response = alice.post(url, {"subject": "Ticket w", "watcher": user_id}, format="json")
            assert response.status_code == 400
            assert response.json()["fields"] == [
                {
                    "field": "watcher",
                    "code": "invalid_reference",
                    "message": f"no user with id {user_id}",
                }
            ]
        bob = world.users["bob"]
        created = alice.post(url, {"subject": "Ticket w", "watcher": bob.pk}, format="json")
        assert created.status_code == 201
        expanded = alice.get(f"{url}/{created.json()['id']}", {"expand": "watcher"}).json()
        assert expanded["record"]["watcher"] == {
            "id": bob.pk,
            "email": email("bob"),
            "first_name": "",
            "last_name": "",
            "username": email("bob"),
        }
        # a superuser may point anywhere; a plain reader still sees the raw id only
        world.create("sec_ticket", "t_stranger", "alice", subject="Ticket s", watcher=stranger.pk)
        record = alice.get(f"{url}/{world.ids['t_stranger']}", {"expand": "watcher"}).json()
        assert record["record"]["watcher"] == stranger.pk
        admin = world.client("admin").get(f"{url}/{world.ids['t_stranger']}", {"expand": "watcher"})
        assert admin.json()["record"]["watcher"]["email"] == "stranger@demo.test"

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_shares_of_another_users_row_are_404(self, secfix_world, method):
        world = secfix_world
        alice = world.client("alice")
        url = f"{DEALS}/{world.ids['deal_b']}/shares"
        if method == "get":
            response = alice.get(url)
        else:
            body = {"user": email("alice"), "accessLevel": "edit"}
            response = alice.post(url, body, format="json")
        assert response.status_code == 404
        assert response.json()["code"] == "NOT_FOUND"
        assert world.client("alice").get(f"{DEALS}/{world.ids['deal_b']}").status_code == 404


# === API2:2023 Broken Authentication ==================================================


class TestAPI2Authentication:
    """Every credential is checked for validity, expiry, revocation and its project."""

    def _token(self, project, user, **fields) -> str:
        raw = AuthToken.generate()
        AuthToken.objects.create(
            key_hash=hash_secret(raw),
            user=user,
            project=project,
            expires_at=fields.pop("expires_at", timezone.now() + timedelta(hours=1)),
            **fields,
        )
        return raw

    def _key(self, project, user, **fields) -> str:
        prefix, raw = ApiKey.generate()
        ApiKey.objects.create(
            prefix=prefix, key_hash=hash_secret(raw), user=user, project=project, **fields
        )
        return raw

    def _get(self, project, **headers):
        return anonymous(project).get(DEALS, **headers)

    def test_valid_token_and_key_work(self, secfix_world):
        project, alice = secfix_world.project, secfix_world.users["alice"]
        token = self._token(project, alice)
        key = self._key(project, alice)
        assert self._get(project, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
        assert self._get(project, HTTP_X_API_KEY=key).status_code == 200

    @pytest.mark.parametrize(
        "case,message",
        [
            ("garbage", "invalid or expired token"),
            ("expired", "invalid or expired token"),
            ("revoked", "invalid or expired token"),
            ("other_project", "token is not valid for this project"),
            ("inactive_user", "token is not valid for this project"),
        ],
    )
    def test_bad_tokens_are_401(self, secfix_world, demo_session, case, message):
        project, alice = secfix_world.project, secfix_world.users["alice"]
        now = timezone.now()
        if case == "garbage":
            token = "ost_" + "x" * 43
        elif case == "expired":
            token = self._token(project, alice, expires_at=now - timedelta(seconds=1))
        elif case == "revoked":
            token = self._token(project, alice, revoked_at=now)
        elif case == "other_project":
            token = self._token(demo_session, alice)
        else:
            alice.is_active = False
            alice.save(update_fields=["is_active"])
            token = self._token(project, alice)
        response = self._get(project, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401
        assert response.json() == {"error": message, "code": "UNAUTHENTICATED"}
        assert response["WWW-Authenticate"] == 'Bearer realm="api"'

    @pytest.mark.parametrize(
        "case,message",
        [
            ("garbage", "invalid API key"),
            ("revoked", "invalid API key"),
            ("other_project", "API key is not valid for this project"),
        ],
    )
    def test_bad_api_keys_are_401(self, secfix_world, demo_session, case, message):
        project, alice = secfix_world.project, secfix_world.users["alice"]
        if case == "garbage":
            key = "osk_deadbeef_" + "x" * 43
        elif case == "revoked":
            key = self._key(project, alice, revoked_at=timezone.now())
        else:
            key = self._key(demo_session, alice)
        response = self._get(project, HTTP_X_API_KEY=key)
        assert response.status_code == 401
        assert response.json() == {"error": message, "code": "UNAUTHENTICATED"}

    def test_a_session_of_another_project_is_401(self, secfix_world, demo_session):
        """A plain member of the demo project signs in there; its cookie does not open
        secfix, where it is no member."""
        factories.make_user("demo.member@demo.test", demo_session, permission_sets=["desk_member"])
        client = APIClient(HTTP_HOST="demo.test")
        signed_in = client.post(
            "/api/v1/auth/sign-in/email",
            {"email": "demo.member@demo.test", "password": factories.PASSWORD},
            format="json",
        )
        assert signed_in.status_code == 200
        assert client.get("/api/v1/data/demo_customer").status_code == 200
        response = client.get(DEALS, HTTP_HOST=f"{SECFIX}.test")
        assert response.status_code == 401
        assert response.json() == {
            "error": "not a member of this project",
            "code": "UNAUTHENTICATED",
        }

    def test_sign_in_does_not_tell_whether_the_email_exists(self, secfix_world, demo_session):
        factories.make_user("demo.member@demo.test", demo_session, permission_sets=["desk_member"])
        client = anonymous()
        refused = {"error": "invalid email or password", "code": "UNAUTHENTICATED"}
        for credentials_sent in (
            {"email": email("alice"), "password": "wrong password"},
            {"email": "nobody-at-all@secfix.test", "password": "wrong password"},
            # the right password of a user who is no member of this project
            {"email": "demo.member@demo.test", "password": factories.PASSWORD},
        ):
            response = client.post("/api/v1/auth/sign-in/email", credentials_sent, format="json")
            assert response.status_code == 401
            assert response.json() == refused
            assert "sessionid" not in response.cookies
        ok = client.post(
            "/api/v1/auth/sign-in/email",
            {"email": email("alice"), "password": factories.PASSWORD},
            format="json",
        )
        assert ok.status_code == 200

    def test_repeated_failed_sign_ins_are_throttled(self, secfix_world, settings):
        settings.OS_SIGN_IN_MAX_FAILURES = 5
        client = anonymous()
        wrong = {"email": email("alice"), "password": "wrong password"}
        answers = [
            client.post("/api/v1/auth/sign-in/email", wrong, format="json") for _ in range(7)
        ]
        assert [a.status_code for a in answers] == [401] * 5 + [429] * 2
        assert answers[-1].json() == {
            "error": "too many failed sign-ins; try again later",
            "code": "RATE_LIMITED",
        }
        assert answers[-1]["Retry-After"] == "300"
        right = {"email": email("alice"), "password": factories.PASSWORD}
        assert client.post("/api/v1/auth/sign-in/email", right, format="json").status_code == 429
        other = client.post(
            "/api/v1/auth/sign-in/email",
            {"email": email("bob"), "password": factories.PASSWORD},
            format="json",
        )
        assert other.status_code == 200

    @pytest.mark.parametrize(
        "method,url",
        [
            ("get", DEALS),
            ("post", DEALS),
            ("get", f"{DEALS}/x"),
            ("patch", f"{DEALS}/x"),
            ("delete", f"{DEALS}/x"),
            ("post", f"{DEALS}/query"),
            ("post", f"{DEALS}/createMany"),
            ("get", "/api/v1/meta/objects"),
            ("get", "/api/v1/openapi.json"),
            ("get", "/api/v1/auth/session"),
            ("get", "/api/v1/audit"),
            ("get", "/api/v1/security/explain"),
        ],
    )
    def test_anonymous_is_401_everywhere(self, secfix, method, url):
        response = getattr(anonymous(), method)(url, {}, format="json")
        assert response.status_code == 401
        assert response.json()["code"] == "UNAUTHENTICATED"


# === API3:2023 Broken Object Property Level Authorization ==============================


class TestAPI3PropertyLevelAuthorization:
    """Mass assignment of system fields, and hidden fields through every parameter."""

    @pytest.mark.parametrize(
        "field,value",
        [
            ("id", "f" * 32),
            ("owner_id", 1),
            ("created_by", 1),
            ("updated_by", 1),
            ("created_at", "2020-01-01T00:00:00Z"),
            ("updated_at", "2020-01-01T00:00:00Z"),
        ],
    )
    def test_system_fields_cannot_be_mass_assigned(self, secfix_world, field, value):
        world = secfix_world
        alice = world.client("alice")
        refused = {
            "error": f"you may not set {field}",
            "code": "FORBIDDEN",
            "fields": [
                {"field": field, "code": "not_editable", "message": "this field cannot be set"}
            ],
        }
        created = alice.post(DEALS, {"name": "Deal x", field: value}, format="json")
        assert (created.status_code, created.json()) == (403, refused)
        if field != "id":  # the id in an update body is the record's own id
            url = f"{DEALS}/{world.ids['deal_a']}"
            patched = alice.patch(url, {field: value}, format="json")
            assert (patched.status_code, patched.json()) == (403, refused)
            batch = alice.post(
                f"{DEALS}/updateMany",
                {"records": [{"id": world.ids["deal_a"], field: value}]},
                format="json",
            )
            assert batch.status_code == 403
        assert world.kernel.object("sec_deal").model._base_manager.count() == 4

    def test_the_id_in_an_update_body_does_not_retarget_the_update(self, secfix_world):
        world = secfix_world
        response = world.client("alice").patch(
            f"{DEALS}/{world.ids['deal_a']}",
            {"id": world.ids["deal_b"], "amount": 7},
            format="json",
        )
        assert response.status_code == 200
        assert response.json()["id"] == world.ids["deal_a"]
        amounts = dict(
            world.kernel.object("sec_deal").model._base_manager.values_list("name", "amount")
        )
        assert (amounts["Deal Alpha"], amounts["Deal Bravo"]) == (7, 20)

    def test_owner_id_is_set_only_by_who_may_transfer(self, secfix_world):
        """modifyAllRecords (the supervisor) may transfer; the owner may not."""
        world = secfix_world
        url = f"{DEALS}/{world.ids['deal_a']}"
        bob = world.users["bob"].pk
        assert world.client("alice").patch(url, {"owner_id": bob}, format="json").status_code == 403
        response = world.client("supervisor").patch(url, {"owner_id": bob}, format="json")
        assert response.status_code == 200
        assert response.json()["record"]["owner_id"] == bob
        assert world.client("alice").get(url).status_code == 404
        assert world.client("bob").get(url).status_code == 200

    def test_a_read_only_field_is_refused_naming_it(self, secfix_world):
        world = secfix_world
        response = world.client("alice").patch(
            f"/api/v1/data/sec_account/{world.ids['acc_a']}",
            {"industry": "ok", "revenue": 5},
            format="json",
        )
        assert response.status_code == 403
        assert response.json() == {
            "error": "you may not set revenue",
            "code": "FORBIDDEN",
            "fields": [
                {"field": "revenue", "code": "not_editable", "message": "this field cannot be set"}
            ],
        }

    @pytest.mark.parametrize(
        "params,field",
        [
            ({"filter": '{"margin": {"$gt": 0.3}}'}, "margin"),
            ({"filter": '["margin", ">", 0.3]'}, "margin"),
            ({"filter": '{"$and": [{"name": "Deal Alpha"}, {"margin": 0.5}]}'}, "margin"),
            ({"margin": "0.5"}, "margin"),
            ({"sort": "-margin"}, "margin"),
            ({"orderBy": "margin desc"}, "margin"),
            ({"select": "name,margin"}, "margin"),
            ({"fields": "margin"}, "margin"),
            ({"expand": "margin"}, "margin"),
            ({"filter": '{"account.internal_code": "IC-ACME"}'}, "account.internal_code"),
            ({"sort": "account.internal_code"}, "account.internal_code"),
        ],
    )
    def test_hidden_fields_are_invalid_in_every_parameter(self, secfix_world, params, field):
        world = secfix_world
        response = world.client("alice").get(DEALS, params)
        assert response.status_code == 400
        assert response.json()["code"] == "INVALID_FIELD"
        assert response.json()["field"] == field
        # exactly the answer for a field that does not exist at all
        fake = {k: v.replace(field, "no_such_field") for k, v in params.items()}
        fake = {k.replace(field, "no_such_field"): v for k, v in fake.items()}
        other = world.client("alice").get(DEALS, fake).json()
        assert {
            **other,
            "field": field,
            "error": other["error"].replace("no_such_field", field),
        } == {**response.json()}

    def test_hidden_fields_are_absent_from_records_meta_and_openapi(self, secfix_world):
        world = secfix_world
        alice = world.client("alice")
        search = alice.get("/api/v1/data/sec_account", {"search": "IC-"}).json()
        assert search["total"] == 0  # the hidden column is not searched
        record = alice.get(f"/api/v1/data/sec_account/{world.ids['acc_a']}").json()["record"]
        assert "internal_code" not in record
        assert "IC-ACME" not in orjson.dumps(record).decode()
        meta = alice.get("/api/v1/meta/objects/sec_account").json()
        assert "internal_code" not in meta["fields"] and "revenue" in meta["fields"]
        listed = {o["name"]: o for o in alice.get("/api/v1/meta/objects").json()["objects"]}
        assert set(listed) == {"sec_account", "sec_deal", "sec_deal_note", "sec_ticket"}
        assert "margin" not in listed["sec_deal"]["fields"]
        document = alice.get("/api/v1/openapi.json").json()
        schemas = document["components"]["schemas"]
        assert "internal_code" not in schemas["sec_account"]["properties"]
        assert "margin" not in schemas["sec_deal"]["properties"]
        assert "sec_vault" not in schemas
        assert not [p for p in document["paths"] if "sec_vault" in p]
        forbidden = alice.get("/api/v1/meta/objects/sec_vault")
        assert forbidden.status_code == 403
        finance = world.client("finance").get("/api/v1/openapi.json").json()
        assert "internal_code" in finance["components"]["schemas"]["sec_account"]["properties"]


# === API4:2023 Unrestricted Resource Consumption ======================================


class TestAPI4ResourceConsumption:
    """Page size, request body, batch size, filter size and search length are capped."""

    def test_page_size_is_capped(self, secfix_world, settings):
        settings.OS_MAX_PAGE_SIZE = 2
        body = secfix_world.client("bob").get(DEALS, {"top": 1_000_000}).json()
        assert (len(body["records"]), body["total"], body["hasMore"]) == (2, 3, True)
        body = (
            secfix_world.client("bob")
            .post(f"{DEALS}/query", {"limit": 10**9}, format="json")
            .json()
        )
        assert len(body["records"]) == 2

    def test_default_page_size_applies_without_top(self, secfix_world, settings):
        settings.OS_DEFAULT_PAGE_SIZE = 1
        body = secfix_world.client("bob").get(DEALS).json()
        assert (len(body["records"]), body["hasMore"]) == (1, True)

    @pytest.mark.parametrize("route", ["/api/v1/data/sec_deal", "/api/v1/data/sec_deal/query"])
    def test_request_body_over_the_limit_is_413_json(self, secfix_world, settings, route):
        settings.OS_MAX_BODY_BYTES = 1024
        body = orjson.dumps({"name": "x" * 2000})
        response = secfix_world.client("alice").post(route, body, content_type="application/json")
        assert response.status_code == 413
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "error": "the request body is larger than 1024 bytes",
            "code": "PAYLOAD_TOO_LARGE",
        }
        assert "X-Request-Id" in response
        assert secfix_world.kernel.object("sec_deal").model._base_manager.count() == 4

    def test_the_default_body_limit_is_enforced(self, secfix_world):
        limit = django_settings.OS_MAX_BODY_BYTES
        assert limit == int(os.environ.get("OS_MAX_BODY_BYTES", 5 * 1024 * 1024))
        body = orjson.dumps({"name": "x" * limit})
        response = secfix_world.client("alice").post(DEALS, body, content_type="application/json")
        assert response.status_code == 413
        assert response.json()["code"] == "PAYLOAD_TOO_LARGE"

    def test_a_streamed_body_without_length_is_capped_too(self, secfix_world, settings):
        """A chunked request carries no Content-Length; the JSON parser stops reading."""
        from apps.api.parsers import ORJSONParser, PayloadTooLarge

        settings.OS_MAX_BODY_BYTES = 64
        with pytest.raises(PayloadTooLarge):
            ORJSONParser().parse(io.BytesIO(b'{"name": "' + b"x" * 100 + b'"}'))
        assert ORJSONParser().parse(io.BytesIO(b'{"name": "ok"}')) == {"name": "ok"}

    def test_batch_size_is_capped(self, secfix_world, settings):
        settings.OS_MAX_BATCH_SIZE = 2
        alice = secfix_world.client("alice")
        three = [{"name": f"Deal {i}"} for i in range(3)]
        response = alice.post(f"{DEALS}/createMany", {"records": three}, format="json")
        assert response.status_code == 400
        assert response.json() == {
            "error": "a batch holds at most 2 records",
            "code": "VALIDATION_FAILED",
        }
        response = alice.post(f"{DEALS}/deleteMany", {"ids": ["a", "b", "c"]}, format="json")
        assert response.json() == {
            "error": "a batch holds at most 2 ids",
            "code": "VALIDATION_FAILED",
        }
        assert secfix_world.kernel.object("sec_deal").model._base_manager.count() == 4

    @pytest.mark.parametrize(
        "filter_spec,message",
        [
            (
                {"$and": [{"name": str(i)} for i in range(201)]},
                "filter has more than 200 conditions",
            ),
            (
                {"name": {"$in": [str(i) for i in range(5001)]}},
                "operator '$in' takes at most 5000 values for field 'name'",
            ),
        ],
    )
    def test_filter_size_is_capped(self, secfix_world, filter_spec, message):
        response = secfix_world.client("alice").post(
            f"{DEALS}/query", {"filter": filter_spec}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["error"] == message
        assert response.json()["code"] == "INVALID_QUERY"

    def test_filter_depth_is_capped(self, secfix_world):
        nested: dict = {"name": "x"}
        for _ in range(17):
            nested = {"$and": [nested]}
        response = secfix_world.client("alice").post(
            f"{DEALS}/query", {"filter": nested}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {
            "error": "filter is nested deeper than 16 levels",
            "code": "INVALID_QUERY",
        }

    def test_search_length_is_capped(self, secfix_world):
        response = secfix_world.client("alice").get(DEALS, {"search": "x" * 201})
        assert response.status_code == 400
        assert response.json() == {
            "error": "search is longer than 200 characters",
            "code": "INVALID_QUERY",
            "field": "search",
        }


# === API5:2023 Broken Function Level Authorization ====================================


class TestAPI5FunctionLevelAuthorization:
    """Administrative routes refuse plain users; read-only routes refuse writes."""

    def test_audit_trail_is_not_for_plain_users(self, secfix_world):
        world = secfix_world
        response = world.client("alice").get("/api/v1/audit")
        assert response.status_code == 403
        assert response.json() == {"error": "you may not read the audit trail", "code": "FORBIDDEN"}
        assert world.client("admin").get("/api/v1/audit").status_code == 200

    def test_security_explain_is_not_for_plain_users(self, secfix_world):
        world = secfix_world
        params = {"object": "sec_deal", "id": world.ids["deal_b"], "user": email("bob")}
        for user in ("alice", "auditor", "supervisor"):
            response = world.client(user).get("/api/v1/security/explain", params)
            assert response.status_code == 403
            assert response.json() == {
                "error": "only security administrators may explain access",
                "code": "FORBIDDEN",
            }
        assert world.client("admin").get("/api/v1/security/explain", params).status_code == 200

    @pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
    def test_the_audit_trail_cannot_be_written_even_by_an_admin(self, secfix_world, method):
        response = getattr(secfix_world.client("admin"), method)("/api/v1/audit", {}, format="json")
        assert response.status_code == 405
        assert response.json()["code"] == "METHOD_NOT_ALLOWED"

    def test_object_operations_follow_the_permission_set_not_the_route(self, secfix_world):
        """The auditor reads every deal but neither edits, deletes nor creates one, on any
        route; the guest creates tickets but lists none."""
        world = secfix_world
        auditor = world.client("auditor")
        deal = world.ids["deal_a"]
        assert auditor.get(f"{DEALS}/{deal}").status_code == 200
        for response, operation in (
            (auditor.patch(f"{DEALS}/{deal}", {"amount": 1}, format="json"), "edit"),
            (auditor.delete(f"{DEALS}/{deal}"), "delete"),
            (auditor.post(DEALS, {"name": "Deal x"}, format="json"), "create"),
            (
                auditor.post(
                    f"{DEALS}/batch", {"operation": "delete", "ids": [deal]}, format="json"
                ),
                "delete",
            ),
        ):
            assert response.status_code == 403
            assert response.json() == {
                "error": f"you may not {operation} sec_deal",
                "code": "FORBIDDEN",
            }
        guest = world.client("guest")
        assert guest.get("/api/v1/data/sec_ticket").status_code == 403
        assert guest.post("/api/v1/data/sec_ticket/query", {}, format="json").json() == {
            "error": "you may not read sec_ticket",
            "code": "FORBIDDEN",
        }


# === API8:2023 Security Misconfiguration ==============================================


class TestAPI8SecurityMisconfiguration:
    """Production defaults: no DEBUG, security headers, no CORS, no stack traces."""

    def test_debug_is_off_when_os_debug_is_unset(self, tmp_path):
        env = {k: v for k, v in os.environ.items() if k != "OS_DEBUG"}
        env.update(DJANGO_SETTINGS_MODULE="objectos_site.settings", OS_DATA_DIR=str(tmp_path))
        code = (
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.DEBUG, settings.SESSION_COOKIE_HTTPONLY, settings.X_FRAME_OPTIONS)"
        )
        result = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=factories.REPO,
            capture_output=True,
            text=True,
            check=True,
        )
        assert result.stdout.split() == ["False", "True", "DENY"]

    @pytest.mark.parametrize(
        "user,method,url,status",
        [
            ("alice", "get", DEALS, 200),
            ("alice", "get", f"{DEALS}/missing", 404),
            ("alice", "get", "/api/v1/data/sec_vault", 403),
            ("alice", "get", f"{DEALS}?filter=nope", 400),
            (None, "get", DEALS, 401),
            ("alice", "post", DEALS, 400),
            ("alice", "get", "/api/v1/no-such-route", 404),
        ],
    )
    def test_security_headers_on_api_responses(self, secfix_world, user, method, url, status):
        client = secfix_world.client(user) if user else anonymous()
        response = getattr(client, method)(
            url, **({"data": {}, "format": "json"} if method == "post" else {})
        )
        assert response.status_code == status
        assert response["Content-Type"] == "application/json"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert response["X-Request-Id"]

    def test_security_headers_on_an_unknown_host(self, db):
        response = APIClient(HTTP_HOST="nowhere.test").get("/api/v1/data/sec_deal")
        assert response.status_code == 404
        assert response.json()["code"] == "PROJECT_NOT_FOUND"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"

    def test_cors_is_closed_by_default(self, secfix_world):
        origin = {"HTTP_ORIGIN": "https://evil.example"}
        alice = secfix_world.client("alice")
        response = alice.get(DEALS, **origin)
        assert response.status_code == 200
        assert "Access-Control-Allow-Origin" not in response
        assert "Access-Control-Allow-Credentials" not in response
        preflight = alice.options(DEALS, HTTP_ACCESS_CONTROL_REQUEST_METHOD="DELETE", **origin)
        assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]

    def test_a_500_shows_no_stack_trace(self, secfix_world, monkeypatch):
        def explode(*args, **kwargs):
            raise RuntimeError("secret detail /srv/objectos/settings.py line 42")

        monkeypatch.setattr("apps.objectql.query.list_records", explode)
        client = secfix_world.client("alice")
        client.raise_request_exception = False
        response = client.get(DEALS)
        assert response.status_code == 500
        assert response.json() == {"error": "internal error", "code": "INTERNAL_ERROR"}
        assert response["X-Content-Type-Options"] == "nosniff"
        for leak in (b"Traceback", b"secret detail", b"settings.py", b"RuntimeError"):
            assert leak not in response.content

    def test_session_cookie_is_http_only_and_same_site(self, secfix_world):
        response = anonymous().post(
            "/api/v1/auth/sign-in/email",
            {"email": email("alice"), "password": factories.PASSWORD},
            format="json",
        )
        cookie = response.cookies["sessionid"]
        assert cookie["httponly"] is True
        assert cookie["samesite"] == "Lax"
        token = response.json()["token"]  # the bearer token is in the body, never in a cookie
        assert not [c for c in response.cookies.values() if token in c.value]


# === API9:2023 Improper Inventory Management ==========================================


class TestAPI9InventoryManagement:
    """One versioned API surface, documented per actor; nothing else is mounted."""

    @pytest.mark.parametrize(
        "url",
        ["/api/v2/data/sec_deal", "/api/data/sec_deal", "/admin/", "/api/v1/debug", "/_debug"],
    )
    def test_unversioned_debug_and_admin_routes_are_not_mounted(self, secfix_world, url):
        response = secfix_world.client("admin").get(url)
        assert response.status_code == 404
        assert response.json() == {"error": "not found", "code": "NOT_FOUND"}

    def test_openapi_documents_only_what_the_actor_may_use(self, secfix_world):
        world = secfix_world
        for user, objects in (
            ("alice", {"sec_account", "sec_deal", "sec_deal_note", "sec_ticket"}),
            ("auditor", {"sec_account", "sec_deal", "sec_deal_note", "sec_vault"}),
            ("outsider", {"sec_account"}),
            ("admin", {"sec_account", "sec_deal", "sec_deal_note", "sec_ticket", "sec_vault"}),
        ):
            document = world.client(user).get("/api/v1/openapi.json").json()
            documented = {p.split("/")[4] for p in document["paths"]}
            assert documented == objects, user
            for path in document["paths"]:
                assert path.startswith("/api/v1/data/")


# === API10:2023 Unsafe Consumption of APIs ============================================


@pytest.fixture(scope="session")
def secbad_session(publish_session):
    """The matrix artifact whose RLS `using` on tickets does not compile, for everyone."""
    raw = json.loads(SECFIX_ARTIFACT.read_text())
    member = next(ps for ps in raw["permissions"] if ps["name"] == "sec_member")
    member["rowLevelSecurity"][0]["using"] = "assignee.matches(current_user.email) ||"
    member["rowLevelSecurity"][0]["positions"] = []
    return publish_session("secbad", raw)


class TestAPI10UnsafeConsumption:
    """The runtime consumes one third-party input: the artifact. Its rules are compiled,
    never executed; a rule that cannot be compiled matches nothing (fail closed)."""

    def test_an_uncompilable_rls_rule_fails_closed(self, secbad_session, db):
        project = secbad_session
        user = factories.make_user("member@secbad.test", project, permission_sets=["sec_member"])
        admin = factories.api_client(project, factories.make_user("admin@secbad.test", project))
        kernel = kernels.get_version(project.name, project.published_version_id)
        kernel.object("sec_ticket").model._base_manager.create(subject="Ticket one")
        client = factories.api_client(project, user)
        body = client.get("/api/v1/data/sec_ticket").json()
        assert (body["records"], body["total"]) == ([], 0)
        assert admin.get("/api/v1/data/sec_ticket").status_code == 200

    def test_script_carried_by_an_artifact_is_reported_not_run(self):
        from apps.artifact.load import load_artifact

        raw = factories.shared_artifact("showcase-v17")
        loaded = load_artifact(raw)
        assert any("hook" in str(w).lower() for w in loaded.warnings)
