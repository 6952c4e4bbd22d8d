"""django-oauth-toolkit hooks: tokens are issued only to usable clients under an agreement in
force, and only for scopes the agreement grants (``OAUTH2_PROVIDER`` in config/settings.py)."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.scopes import SettingsScopes

from accounts.models import PartnerClient


def client_for(application) -> PartnerClient | None:
    """The partner client behind an OAuth application (None for anything else)."""
    if application is None:
        return None
    return PartnerClient.objects.select_related("agreement", "agreement__agency").filter(application=application).first()


def agreement_scopes(application) -> list[str]:
    """Scopes a client may hold now: its own scopes that its agreement still grants, if the
    client and the agreement are usable."""
    client = client_for(application)
    if client is None or not client.is_usable() or not client.agreement.is_in_force():
        return []
    return client.granted_scopes()


class AgreementScopes(SettingsScopes):
    """A client may request any subset of its granted scopes; by default it gets them all."""

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        return agreement_scopes(application)

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return agreement_scopes(application)


class PartnerOAuth2Validator(OAuth2Validator):
    """Refuse token requests from revoked or expired clients, suspended or expired agreements,
    and addresses outside the client's IP allow-list."""

    def authenticate_client(self, request, *args, **kwargs):
        if not super().authenticate_client(request, *args, **kwargs):
            return False
        client = client_for(request.client)
        if client is None or not client.is_usable() or not client.agreement.is_in_force():
            return False
        return client.ip_allowed(_remote_addr(request))


def _remote_addr(request) -> str | None:
    headers = getattr(request, "headers", {}) or {}
    return headers.get("REMOTE_ADDR") or getattr(request, "remote_addr", None)
