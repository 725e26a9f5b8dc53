from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "apps.ops"
    label = "os_ops"
    default_auto_field = "django.db.models.BigAutoField"
