from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "apps.console"
    label = "os_console"
    default_auto_field = "django.db.models.BigAutoField"
