from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Webhook notices are queued from model signals, in the transaction of the change.
        from api import schema, signals  # noqa: F401
        from api.erasure import register_erasure_part

        register_erasure_part()  # stored responses about an erased person go; partners are told
