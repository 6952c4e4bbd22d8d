from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "registry"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from registry.erasure import register_erasure_part

        register_erasure_part()  # what an erasure removes from the registry's tables
