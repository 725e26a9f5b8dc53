from django.apps import AppConfig


class SchemaConfig(AppConfig):
    name = "apps.schema"
    label = "os_schema"
    default_auto_field = "django.db.models.BigAutoField"
