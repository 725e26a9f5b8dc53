"""Content negotiation: the common Accept values take the short road, others DRF's."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

LIST = "/api/v1/data/demo_customer"


@pytest.mark.parametrize("accept", [None, "*/*", "application/json", " application/json "])
def test_json_for_the_common_accept_values(demo_client, accept):
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}
    response = demo_client.get(LIST, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json()["object"] == "demo_customer"


def test_a_ranked_accept_header_is_negotiated(demo_client):
    response = demo_client.get(LIST, HTTP_ACCEPT="text/html;q=0.5, application/json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"


def test_an_unservable_accept_header_is_406(demo_client):
    response = demo_client.get(LIST, HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json() == {
        "error": "only application/json can be answered",
        "code": "NOT_ACCEPTABLE",
    }


def test_a_format_override_other_than_json_is_404(demo_client):
    # DRF answers an unknown ?format= with 404, as before the short road existed
    response = demo_client.get(LIST, {"format": "xml"})
    assert response.status_code == 404
