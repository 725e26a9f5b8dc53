import sys

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "os_ops"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.ops import boot, health
        from apps.ops.serverlock import hold_server_lock, is_server_command

        health.register_check("boot", boot.readiness_check)  # the boot mode in /readyz

        if is_server_command(sys.argv):  # qcluster, runserver: restore must see them
            hold_server_lock()
