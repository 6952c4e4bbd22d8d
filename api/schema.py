"""OpenAPI extensions: the partner token as an OAuth2 client-credentials scheme with the
agreement scopes, and read serializers whose fields depend on the agreement (loaded from
``ApiConfig.ready``)."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension


class PartnerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.PartnerTokenAuthentication"
    name = "partnerOAuth2"

    def get_security_definition(self, auto_schema):
        return {
            "type": "oauth2",
            "description": "Client credentials; send the token as `Authorization: Bearer <token>` only.",
            "flows": {"clientCredentials": {"tokenUrl": "/api/oauth/token/",
                                             "scopes": dict(settings.OAUTH2_PROVIDER["SCOPES"])}},
        }

    def get_security_requirement(self, auto_schema):
        view = auto_schema.view
        scopes = sorted({s for values in getattr(view, "required_scopes", {}).values() for s in values})
        return {self.name: scopes}


class AgreementCutSerializer(OpenApiSerializerExtension):
    """Read serializers cut to the agreement: only the always-present fields of the resource
    (``accounts.agreements.ALWAYS``) are required; every other field appears only when the
    caller's agreement lists it, so the contract marks it optional."""

    target_class = "api.serializers.base.AgreementFieldsMixin"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        from accounts.agreements import ALWAYS

        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        always = ALWAYS.get(getattr(self.target, "resource", ""), frozenset())
        required = [name for name in schema.get("required", []) if name in always]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema
