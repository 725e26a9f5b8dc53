"""The production web server: granian serving `objectos_site.wsgi` (`bin/serve`, the tests
that start a real server, and the benchmark all start it from here).

granian parses HTTP and writes responses in Rust and hands each request to one of a
worker's Python threads; gunicorn did both in Python, under the GIL the application
needs. Measured with bench/ (same process shape, requests per second of the same
runtime build): granian served 20-45% more requests than gunicorn's gthread worker, and
the baselines gained 8-32% (README "Benchmarks").

`python -m apps.ops.serve [PORT]` replaces itself with the server; `OS_WEB_HOST`,
`OS_WEB_WORKERS` (processes) and `OS_WEB_THREADS` (threads per process) shape it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APPLICATION = "objectos_site.wsgi:application"
DEFAULT_THREADS = 4


def command(
    port: int,
    *,
    host: str = "127.0.0.1",
    workers: int = 1,
    threads: int = DEFAULT_THREADS,
    application: str = APPLICATION,
    working_dir: str | None = None,
) -> list[str]:
    """The server's command line (granian from this interpreter's environment)."""
    granian = Path(sys.executable).parent / "granian"
    line = [
        str(granian),
        "--interface", "wsgi",
        "--host", host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--respawn-failed-workers",  # a worker that dies is started again, as gunicorn did
        "--log-level", "warning",  # one JSON line per request comes from `objectos.request`
    ]  # fmt: skip
    if working_dir is not None:
        line += ["--working-dir", working_dir]
    return [*line, application]


def _positive(name: str, default: int) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        value = 0
    if value < 1:
        raise SystemExit(f"{name} must be a whole number of at least 1, not {raw!r}")
    return value


def main(argv: list[str]) -> None:
    port = argv[0] if argv else os.environ.get("PORT", "8000")
    if not port.isdigit():
        raise SystemExit(f"the port must be a number, not {port!r}")
    line = command(
        int(port),
        host=os.environ.get("OS_WEB_HOST", "127.0.0.1"),
        workers=_positive("OS_WEB_WORKERS", 1),
        threads=_positive("OS_WEB_THREADS", DEFAULT_THREADS),
    )
    os.execv(line[0], line)


if __name__ == "__main__":
    main(sys.argv[1:])
