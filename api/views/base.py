"""The base of every partner viewset: authentication, scopes, strict query parameters, fields
cut to the agreement, person references and the access log."""

from __future__ import annotations

import uuid

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, viewsets

from accounts.agreements import Scope, resolve_pseudonym
from api.authentication import PartnerTokenAuthentication, partner_auth
from api.permissions import PartnerScopePermission
from api.serializers.base import PersonRefs
from privacy.access_log import log_access

PAGINATION_PARAMS = frozenset({"cursor", "page_size"})
IGNORED_PARAMS = frozenset({"limit", "offset", "page"})  # other paginations' knobs: ignored


class PartnerViewSet(viewsets.GenericViewSet):
    """Declare ``resource``, ``required_scopes`` and optionally ``filterset_class`` (with
    ``FIELD_OF``) and ``extra_params`` (name -> resource field)."""

    permission_classes = [PartnerScopePermission]
    resource = ""
    required_scopes: dict[str, tuple[str, ...]] = {}
    extra_params: dict[str, str] = {}
    http_method_names = ["get", "head", "options"]

    def get_authenticators(self):
        authenticators = super().get_authenticators()
        if getattr(self, "swagger_fake_view", False):  # the contract documents the partner token only
            return [a for a in authenticators if isinstance(a, PartnerTokenAuthentication)]
        return authenticators

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.check_query_params(request)

    @property
    def agreement(self):
        return partner_auth(self.request).agreement

    @property
    def identified(self) -> bool:
        return partner_auth(self.request).has_scope(Scope.PERSONS_IDENTIFIED)

    def param_fields(self) -> dict[str, str]:
        """Query parameters this list accepts, each mapped to the resource field it reads."""
        fields = dict(getattr(self.filterset_class, "FIELD_OF", {}) if self.filterset_class else {})
        return {**fields, **self.extra_params}

    def check_query_params(self, request) -> None:
        """400 for duplicated, unknown, NUL-carrying or out-of-agreement parameters (AC-4)."""
        params = self.param_fields() if self.action == "list" else {}
        allowed = self.agreement.fields_for(self.resource) if self.resource else frozenset()
        errors = {}
        for name, values in request.query_params.lists():
            if len(values) > 1:
                errors[name] = [_("Give this parameter once.")]
            elif any("\x00" in v for v in values) or "\x00" in name:
                errors[name.replace("\x00", "")] = [_("NUL characters are not allowed.")]
            elif name in IGNORED_PARAMS or (name in PAGINATION_PARAMS and self.action == "list"):
                continue
            elif name not in params:
                errors[name] = [_("Unknown query parameter.")]
            elif params[name] not in allowed:
                errors[name] = [_("This field is not part of your data-sharing agreement.")]
        if errors:
            raise exceptions.ValidationError(errors)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        auth = partner_auth(self.request)
        if auth is not None and self.resource:
            context["allowed_fields"] = auth.agreement.fields_for(self.resource)
            context["person_refs"] = PersonRefs(auth.agreement.agency_id, self.identified)
        return context

    def person_id_from(self, value: str) -> uuid.UUID | None:
        """A person as this caller names them (UUID if identified, else its pseudonym)."""
        if self.identified:
            try:
                return uuid.UUID(value)
            except (TypeError, ValueError, AttributeError):
                return None
        return resolve_pseudonym(self.agreement.agency_id, value)

    def log_read(self, object_type: str, ids) -> None:
        """One access-log row for people read under the agreement (fails closed: 503)."""
        log_access(
            user=self.request.user, action="api_read", object_type=object_type, object_ids=ids,
            purpose=self.agreement.purpose, request=self.request, agreement=self.agreement,
        )

    def paged_response(self, queryset, person_ids_of=None, log_type: str = ""):
        """Paginate, serialise with pseudonyms primed once, and log the people read."""
        page = self.paginate_queryset(queryset)
        context = self.get_serializer_context()
        if person_ids_of is not None:
            ids = [pid for obj in page for pid in person_ids_of(obj) if pid is not None]
            context["person_refs"].prime(ids)
            if log_type:
                self.log_read(log_type, sorted(set(ids)))
        serializer = self.get_serializer_class()(page, many=True, context=context)
        return self.get_paginated_response(serializer.data)
