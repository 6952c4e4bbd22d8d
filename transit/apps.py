from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransitConfig(AppConfig):
    name = "transit"
    verbose_name = _("Transit")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from transit.erasure import register_erasure_part
        from transit.merge import register_merge_participants

        register_merge_participants()  # events and permits follow a person into a merge
        register_erasure_part()  # and lose their personal data when the person is erased
