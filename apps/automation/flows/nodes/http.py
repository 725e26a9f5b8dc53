"""The http node: one outgoing HTTP request, guarded against reaching internal addresses.

Config: `url`, `method` (GET), `headers`, `body` (JSON, templated), `timeout` (seconds,
at most OS_FLOW_HTTP_TIMEOUT), `outputVariable` (gets `{status, headers, body}`),
`failOnError` (true: a 4xx/5xx answer fails the node).

The guard (server-side request forgery): only http and https; the host name is resolved
and the request refused when any address is loopback, private, link-local, reserved,
multicast or unspecified, unless OS_FLOW_HTTP_ALLOW_PRIVATE is on. The connection goes
to the address that was checked (no second lookup an attacker's DNS could change), and
redirects are not followed.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from typing import Any
from urllib.parse import urlsplit

import orjson
from django.conf import settings

from apps.automation.flows.definition import Node
from apps.automation.flows.exceptions import HttpRefused, NodeFailed
from apps.automation.flows.nodes.base import Outcome, node_type

METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"})
MAX_RESPONSE_BYTES = 1024 * 1024


def _blocked(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
    )


def checked_address(host: str, port: int) -> str:
    """The address to connect to; raises HttpRefused for internal ones (see module doc)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise NodeFailed(f"cannot resolve host '{host}': {error.strerror}") from None
    addresses = [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]
    if not settings.OS_FLOW_HTTP_ALLOW_PRIVATE:
        for address in addresses:
            if _blocked(address):
                raise HttpRefused(
                    f"refused to call {host} ({address}): loopback, private and link-local "
                    "addresses are blocked (OS_FLOW_HTTP_ALLOW_PRIVATE)"
                )
    return str(addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, address: str, **kwargs: Any) -> None:
        super().__init__(host, **kwargs)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, address: str, **kwargs: Any) -> None:
        super().__init__(host, context=ssl.create_default_context(), **kwargs)
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


def request(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout: float
) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NodeFailed(f"url must be http(s)://host/...: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = checked_address(parts.hostname, port)
    connection_class = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(parts.hostname, address, port=port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        raw = response.read(MAX_RESPONSE_BYTES + 1)
    except (OSError, http.client.HTTPException) as error:
        raise NodeFailed(f"{method} {url} failed: {error}") from None
    finally:
        connection.close()
    if len(raw) > MAX_RESPONSE_BYTES:
        raise NodeFailed(f"{method} {url}: the answer is larger than {MAX_RESPONSE_BYTES} bytes")
    text = raw.decode("utf-8", errors="replace")
    content_type = response.getheader("Content-Type", "")
    parsed: Any = text
    if "json" in content_type and text:
        try:
            parsed = orjson.loads(raw)
        except orjson.JSONDecodeError:
            parsed = text
    return {
        "status": response.status,
        "headers": {"Content-Type": content_type},
        "body": parsed,
    }


@node_type("http", "http_request", "http_callout")
class Http:
    def run(self, execution, node: Node) -> Outcome:
        config = execution.render(dict(node.config))
        url = config.get("url")
        if not isinstance(url, str) or not url:
            raise NodeFailed(f"http node '{node.id}' needs a url")
        method = str(config.get("method") or "GET").upper()
        if method not in METHODS:
            raise NodeFailed(f"http node '{node.id}': method {method} is not supported")
        headers = {str(k): str(v) for k, v in (config.get("headers") or {}).items()}
        body = config.get("body")
        payload = None
        if body is not None and method not in ("GET", "HEAD"):
            if isinstance(body, str):
                payload = body.encode()
            else:
                payload = orjson.dumps(body)
                headers.setdefault("Content-Type", "application/json")
        timeout = min(float(config.get("timeout") or 10), settings.OS_FLOW_HTTP_TIMEOUT)
        answer = request(method, url, headers, payload, timeout)
        if answer["status"] >= 400 and config.get("failOnError", True):
            raise NodeFailed(f"{method} {url} answered {answer['status']}")
        name = config.get("outputVariable")
        if isinstance(name, str) and name:
            execution.variables[name] = answer
        return Outcome(output={"status": answer["status"], "url": url})
