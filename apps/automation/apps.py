from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "apps.automation"
    label = "os_automation"
    default_auto_field = "django.db.models.BigAutoField"
