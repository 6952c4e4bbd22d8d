"""Partner authentication: OAuth2 bearer tokens in the Authorization header only.

On every request: the token is valid (DOT: checksum lookup, expiry, revocation), its client is
neither revoked nor expired, the caller's address is in the client's allow-list, and the
agreement is loaded fresh from the database (no cache) so a suspension bites at once. The
request's user is the client's service user seen through the agreement
(``accounts.models.PartnerClientUser``); ``request.auth`` is a ``PartnerAuth``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework import exceptions

from accounts.models import DataSharingAgreement, PartnerClient, PartnerClientUser
from api.oauth import client_for

QUERY_TOKEN_PARAMS = ("access_token", "token")


@dataclass
class PartnerAuth:
    """What a partner request carries: the token, its client, the agreement and token scopes."""

    token: object
    client: PartnerClient
    agreement: DataSharingAgreement
    scopes: frozenset[str]

    def has_scope(self, scope: str) -> bool:
        """Granted by the token *and* still granted by the client and its agreement (both read
        fresh on this request, so narrowing either bites at once)."""
        return scope in self.scopes and scope in (self.client.scopes or []) and self.agreement.has_scope(scope)


class PartnerTokenAuthentication(OAuth2Authentication):
    """DOT's bearer authentication, bound to a partner client and its agreement."""

    def authenticate(self, request):
        if any(name in request.query_params for name in QUERY_TOKEN_PARAMS):
            raise exceptions.AuthenticationFailed(_("Send the access token in the Authorization header, never in the URL."))
        if not request.META.get("HTTP_AUTHORIZATION", "").lower().startswith("bearer "):
            return None
        result = super().authenticate(request)
        if result is None:
            raise exceptions.AuthenticationFailed(_("The access token is invalid or expired."))
        _user, token = result
        return self._partner(request, token)

    def _partner(self, request, token):
        client = client_for(token.application)
        if client is None or not client.is_usable():
            raise exceptions.AuthenticationFailed(_("This client is revoked or expired."))
        if not client.ip_allowed(request.META.get("REMOTE_ADDR")):
            raise exceptions.AuthenticationFailed(_("This client may not call from this address."))
        agreement = DataSharingAgreement.objects.select_related("agency").get(pk=client.agreement_id)
        user = PartnerClientUser.objects.select_related("agency").get(pk=client.service_user_id)
        user.agreement = agreement
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("This client is disabled."))
        return user, PartnerAuth(token, client, agreement, frozenset(token.scope.split()))


def partner_auth(request) -> PartnerAuth | None:
    """The partner context of a DRF request, or None for sessions and anonymous callers."""
    auth = getattr(request, "auth", None)
    return auth if isinstance(auth, PartnerAuth) else None
