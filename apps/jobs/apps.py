from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "apps.jobs"
    label = "os_jobs"
    default_auto_field = "django.db.models.BigAutoField"
