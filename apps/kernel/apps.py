from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "apps.kernel"
    label = "os_kernel"
    default_auto_field = "django.db.models.BigAutoField"
