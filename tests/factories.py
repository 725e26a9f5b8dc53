"""Builders for tests: projects from artifacts, users, API clients."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from apps.artifact.load import load_artifact
from apps.projects.models import Project
from apps.schema import publish
from apps.security.models import Membership

REPO = Path(__file__).resolve().parents[1]
SHARED_ARTIFACTS = REPO.parent / "shared" / "artifacts"
DEMO_ARTIFACT = REPO / "fixtures" / "demo" / "objectstack.json"
PASSWORD = "correct-horse-battery"


def shared_artifact(folder: str, filename: str = "objectstack.json") -> dict[str, Any]:
    path = SHARED_ARTIFACTS / folder / filename
    if not path.exists():
        pytest.skip(f"shared artifacts not present: {path} (they live in ../shared/artifacts)")
    return json.loads(path.read_text())


def demo_artifact() -> dict[str, Any]:
    return json.loads(DEMO_ARTIFACT.read_text())


def publish_artifact(
    name: str, raw: dict[str, Any], hosts: list[str] | None = None, allow_destructive: bool = False
) -> Project:
    """Load, approve and publish `raw` as project `name` served at `<name>.test`."""
    project = publish.ensure_project(name, hosts or [f"{name}.test"])
    candidate = publish.propose(project, load_artifact(copy.deepcopy(raw)))
    if not candidate.unchanged:
        publish.approve(candidate.version, allow_destructive=allow_destructive)
    project.refresh_from_db()
    return project


def make_user(
    email: str,
    project: Project | None = None,
    superuser: bool = False,
    permission_sets: list[str] | None = None,
    positions: list[str] | None = None,
):
    user_model = get_user_model()
    user = user_model.objects.filter(username=email).first()
    if user is None:
        user = user_model.objects.create_user(
            username=email,
            email=email,
            password=PASSWORD,
            is_superuser=superuser,
            is_staff=superuser,
        )
    if project is not None:
        Membership.objects.update_or_create(
            project=project,
            user=user,
            defaults={"permission_sets": permission_sets or [], "positions": positions or []},
        )
    return user


def api_client(project: Project, user=None) -> APIClient:
    """A DRF test client on the project's host, signed in as `user` when given."""
    host = project.domains.values_list("hostname", flat=True).first()
    client = APIClient(HTTP_HOST=host)
    if user is not None:
        client.force_authenticate(user=user)
    return client


def token_client(project: Project, email: str, password: str = PASSWORD) -> APIClient:
    """A client that signs in over HTTP and sends the bearer token."""
    client = api_client(project)
    response = client.post(
        "/api/v1/auth/sign-in/email", {"email": email, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['token']}")
    return client
