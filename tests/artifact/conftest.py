"""Fixtures of the artifact tests: the real artifacts in /work/shared/artifacts, skipped when absent."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# tests/artifact/conftest.py: parents[2] is the repository, parents[3] holds shared/.
ARTIFACTS = Path(__file__).resolve().parents[3] / "shared" / "artifacts"


def _path(folder: str, name: str = "objectstack.json") -> Path:
    path = ARTIFACTS / folder / name
    if not path.is_file():
        pytest.skip(f"shared/artifacts not present: {path}")
    return path


@pytest.fixture
def shared_path() -> Callable[..., Path]:
    """`shared_path(folder, name="objectstack.json")`: the path of a shared artifact."""
    return _path


@pytest.fixture
def shared_raw() -> Callable[..., dict[str, Any]]:
    """`shared_raw(folder, name="objectstack.json")`: a fresh parsed copy of a shared artifact."""

    def read(folder: str, name: str = "objectstack.json") -> dict[str, Any]:
        return json.loads(_path(folder, name).read_text(encoding="utf-8"))

    return read
