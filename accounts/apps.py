from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Receivers: roles synced on migrate; security events; session ends (SE-1, SE-3, LG-5).
        from accounts import security_signals, sessions, signals  # noqa: F401
