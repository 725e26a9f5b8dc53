from django.apps import AppConfig


class SecurityConfig(AppConfig):
    name = "apps.security"
    label = "os_security"
    default_auto_field = "django.db.models.BigAutoField"
