"""manage.py boot: one synchronous boot step of the mode the environment selects.

standalone: the demo and the first admin on a fresh instance (bootstrap_demo);
file-backed: load OS_ARTIFACT_FILE (additive plans published, riskier ones left pending);
cloud-connected: fetch from OS_CLOUD_URL into OS_CACHE_DIR and publish, or publish from
the cache when the control plane is unreachable; then the first admin, if there is none.
Exits 1 only on a misconfiguration; an invalid file or an unreachable control plane is
reported and the last published versions stay served.
"""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from apps.ops import boot
from apps.ops.exceptions import BootConfigError

SERVING_FROM = {
    "control_plane": "the control plane",
    "cache": "the cache",
    "nothing": "nothing yet (no cache)",
}


class Command(BaseCommand):
    help = "Run one boot step of the detected mode (standalone, file-backed, cloud-connected)."

    def handle(self, *args, **options) -> None:
        try:
            config = boot.load_config()
            status = boot.boot_once(wait=True)
        except BootConfigError as error:
            raise CommandError(str(error)) from None
        if config.mode == boot.STANDALONE:
            call_command("bootstrap_demo", stdout=self.stdout, stderr=self.stderr)
            return
        self.stdout.write(describe(config, status))
        call_command("bootstrap_demo", admin_only=True, stdout=self.stdout)


def describe(config: boot.BootConfig, status: dict) -> str:
    """A few lines for the operator (unlike /readyz, these name the file and the URL)."""
    if config.mode == boot.FILE:
        lines = [f"file-backed: {config.artifact_file}: {status.get('state')}"]
        if status.get("message"):
            lines.append(f"  {status['message']}")
        for problem in status.get("problems", []):
            lines.append(f"  {problem}")
        return "\n".join(lines)
    lines = [
        f"cloud-connected: {config.cloud_url}: control plane {status['control_plane']}"
        + (f" ({status['error']})" if status.get("error") else "")
        + f"; serving from {SERVING_FROM[status['serving_from']]}"
    ]
    for name, project in sorted(status.get("projects", {}).items()):
        lines.append(
            f"  {name}: upstream version {project['upstream_version']}, "
            f"local version {project['local_version']} ({project['state']})"
        )
    return "\n".join(lines)
