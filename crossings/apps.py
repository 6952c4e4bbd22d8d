from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrossingsConfig(AppConfig):
    name = "crossings"
    verbose_name = _("Geography")
    default_auto_field = "django.db.models.BigAutoField"
