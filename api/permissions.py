"""Who may call the partner resources: a partner token whose agreement is in force *now*
(read from the database on every request) and that holds the scope the action needs.

Human sessions (even MFA-verified supervisors and admins) get 403 on the partner resources:
the v1 contract is for machine clients under an agreement; people use the web pages, which
apply ``visible_to(user)``. The schema and its docs accept both (``SERVE_PERMISSIONS``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from api.authentication import partner_auth


class AgreementInForce(exceptions.PermissionDenied):
    default_detail = _("The data-sharing agreement of this client is not in force.")
    default_code = "agreement_not_in_force"


class PartnerScopePermission(BasePermission):
    """The view declares ``required_scopes``: ``{action: (scope, ...)}``; any one listed suffices."""

    message = _("This resource needs a partner token with the right scope.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False  # DRF answers 401
        auth = partner_auth(request)
        if auth is None:
            return False  # a human session: 403
        if not auth.agreement.is_in_force():
            raise AgreementInForce()
        if getattr(view, "action", "") is None:
            return True  # a method this resource does not have: dispatch answers 405
        needed = view.required_scopes.get(getattr(view, "action", None) or request.method.lower(), ())
        return any(auth.has_scope(scope) for scope in needed)
