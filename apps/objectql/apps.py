from django.apps import AppConfig


class ObjectqlConfig(AppConfig):
    name = "apps.objectql"
    label = "os_objectql"
    default_auto_field = "django.db.models.BigAutoField"
