from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "apps.automation"
    label = "os_automation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.automation import validation, webhooks
        from apps.kernel.extensions import on_kernel_build

        on_kernel_build(validation.attach_validators)  # rules engineer
        on_kernel_build(webhooks.attach_webhooks)  # rules engineer
        from apps.automation.flows import schedules, triggers

        on_kernel_build(triggers.attach_record_triggers)  # flows: record-triggered flows
        on_kernel_build(schedules.sync_on_build)  # flows: django-q2 schedules
        from apps.automation.worker_alerts import notify_worker_change
        from apps.jobs.watch import on_worker_change

        on_worker_change(notify_worker_change)  # workers going down or coming back
