from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from registry.models import Registration
        from registry.services import registrations_created
        from reports.erasure import register_erasure_part
        from reports.schedules import sync_schedules
        from reports.signals import bump_dashboard_version
        from transit.models import TransitEvent

        post_migrate.connect(sync_schedules, sender=self, dispatch_uid="reports.sync_schedules")
        for model in (TransitEvent, Registration):
            post_save.connect(bump_dashboard_version, sender=model, dispatch_uid=f"reports.dashboard.{model.__name__}")
        registrations_created.connect(bump_dashboard_version, dispatch_uid="reports.dashboard.register_many")
        register_erasure_part()  # report files covering an erased person's days go
