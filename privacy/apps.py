from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "privacy"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """History attribution on every PostgreSQL connection; triggers rebuilt after migrate."""
        from django.db import connections
        from django.db.backends.signals import connection_created
        from django.db.models.signals import (
            post_delete,
            post_migrate,
            post_save,
            pre_delete,
            pre_save,
        )

        from privacy import history, history_triggers

        connection_created.connect(history.install_wrapper, dispatch_uid="privacy.history")
        for connection in connections.all(initialized_only=True):
            history.install_wrapper(connection=connection)
        for signal in (pre_save, pre_delete):
            signal.connect(history.remember_instance, dispatch_uid=f"privacy.history.{id(signal)}")
        for signal in (post_save, post_delete):
            signal.connect(history.forget_instance, dispatch_uid=f"privacy.history.{id(signal)}")
        post_migrate.connect(
            history_triggers.install_after_migrate, sender=self, dispatch_uid="privacy.history"
        )
