"""The schema lock: a second schema change of the same project waits for the first."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from apps.schema.locks import schema_lock

pytestmark = pytest.mark.django_db(transaction=True)


def _contend(first_project: int, second_project: int, wait: float) -> tuple[bool, bool]:
    """(second acquired within `wait` s while the first held its lock, second acquired
    after the release)."""
    held, release, acquired = threading.Event(), threading.Event(), threading.Event()

    def first() -> None:
        try:
            with schema_lock(first_project):
                held.set()
                release.wait(10)
        finally:
            connection.close()

    def second() -> None:
        held.wait(10)
        try:
            with schema_lock(second_project):
                acquired.set()
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    assert held.wait(10)
    during = acquired.wait(wait)
    release.set()
    after = acquired.wait(10)
    for thread in threads:
        thread.join(10)
    return during, after


def test_the_same_project_waits_for_the_first_change():
    assert _contend(7, 7, wait=0.3) == (False, True)


def test_another_project_does_not_wait():
    assert _contend(7, 8, wait=10) == (True, True)
