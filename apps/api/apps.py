from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "apps.api"
    label = "os_api"
    default_auto_field = "django.db.models.BigAutoField"
