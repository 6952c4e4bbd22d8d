"""Data-sharing agreements as data: scopes, exposable fields, legal bases and pseudonyms.

An agreement (``accounts.models.DataSharingAgreement``) says what one partner agency may see
through the API: which *scopes* (resources and verbs), which *fields* of each resource, at which
places and countries, for which purpose, under which legal basis and for which period.

This module holds the vocabulary the model validates against and the per-agency pseudonyms:
``HMAC-SHA256(PSEUDONYM_KEY, domain || agency UUID || person UUID)``, truncated to 120 bits and
base32-encoded. The same person has the same pseudonym for one agency and unlinkable ones for
two agencies; the pseudonym reveals neither the UUID nor any sequence. A ``PartnerPseudonym``
row is written when a pseudonym is first served, so it resolves back (unique per agency).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

PSEUDONYM_DOMAIN = b"partner.pseudonym.v1"
PSEUDONYM_BYTES = 15  # 120 bits -> 24 base32 characters, no padding
PSEUDONYM_RE = re.compile(r"^[A-Z2-7]{24}$")


class Scope(models.TextChoices):
    """What a partner client may do. Token scopes are always a subset of the agreement's."""

    STATS_READ = "stats:read", _("Read aggregate statistics")
    PLACES_READ = "places:read", _("Read places")
    PERSONS_PSEUDONYMOUS = "persons:read:pseudonymous", _("Read people and registrations (pseudonymous)")
    PERSONS_IDENTIFIED = "persons:read:identified", _("Read people and registrations (identified)")
    EVENTS_READ = "events:read", _("Read transit events")
    EVENTS_WRITE = "events:write", _("Record transit events (government partners)")
    PERMITS_VERIFY = "permits:verify", _("Verify visitor cards")
    REPORTS_READ = "reports:read", _("Read report runs")
    WEBHOOKS = "webhooks", _("Receive signed webhooks")


PERSON_SCOPES = (Scope.PERSONS_PSEUDONYMOUS, Scope.PERSONS_IDENTIFIED)


class AgreementLegalBasis(models.TextChoices):
    """The legal basis of the sharing (same values as the registry's bases for processing)."""

    CONSENT = "consent", _("Consent of the person")
    VITAL_INTEREST = "vital_interest", _("Vital interest of the person")
    PUBLIC_INTEREST = "public_interest", _("Public interest (legal mandate)")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")


class AgreementStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("agreement status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("agreement status", "Suspended")
    EXPIRED = "expired", pgettext_lazy("agreement status", "Expired")


# Fields each API resource can expose. An agreement lists a subset per resource; the fields in
# ALWAYS are part of every response of that resource (ids and the sync times that
# ``modified_after`` / ``created_after`` read, so incremental sync works under any agreement). The API's read
# serializers must declare exactly these fields (tests/api/test_fields.py checks it).
RESOURCE_FIELDS: dict[str, frozenset[str]] = {
    "places": frozenset({
        "id", "code", "name", "category", "kind", "is_official", "country", "state_code", "locality",
        "municipality", "latitude", "longitude", "coord_confidence", "status", "hours", "time_zone", "modified_at",
    }),
    "persons": frozenset({
        "id", "status", "merged_into", "modified_at", "sex", "birth_year", "nationality", "country_of_birth",
        "languages", "reference", "given_names", "first_surname", "second_surname", "birth_date",
    }),
    "registrations": frozenset({
        "id", "person", "place", "modified_at", "registered_at", "status", "purpose", "destination_country",
        "legal_basis",
    }),
    "events": frozenset({
        "id", "place", "kind", "occurred_at", "direction", "mode", "person", "head_count", "source", "flag",
        "created_at",
    }),
}
ALWAYS: dict[str, frozenset[str]] = {
    "places": frozenset({"id", "code", "modified_at"}),
    "persons": frozenset({"id", "status", "merged_into", "modified_at"}),
    "registrations": frozenset({"id", "person", "modified_at"}),
    "events": frozenset({"id", "place", "kind", "occurred_at", "created_at"}),
}
# Fields that identify a person: only an agreement with persons:read:identified may list them.
IDENTIFYING_FIELDS = frozenset({"reference", "given_names", "first_surname", "second_surname", "birth_date"})


def allowed_fields_errors(allowed: object, scopes: Iterable[str]) -> list[str]:
    """Problems with an agreement's ``allowed_fields`` JSON (empty list when it is valid)."""
    if not isinstance(allowed, dict):
        return [str(_("Allowed fields must be an object of resource -> list of fields."))]
    errors = []
    for resource, fields in allowed.items():
        if resource not in RESOURCE_FIELDS:
            errors.append(str(_("Unknown resource %(r)s.") % {"r": resource}))
            continue
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            errors.append(str(_("Fields of %(r)s must be a list of names.") % {"r": resource}))
            continue
        unknown = sorted(set(fields) - RESOURCE_FIELDS[resource])
        if unknown:
            errors.append(str(_("Unknown fields of %(r)s: %(f)s.") % {"r": resource, "f": ", ".join(unknown)}))
    identifying = set(allowed.get("persons") or []) & IDENTIFYING_FIELDS if isinstance(allowed.get("persons"), list) else set()
    if identifying and Scope.PERSONS_IDENTIFIED not in set(scopes):
        errors.append(str(_("Identifying fields need the persons:read:identified scope.")))
    return errors


def pseudonym(agency_id: uuid.UUID | str, person_id: uuid.UUID | str) -> str:
    """The stable pseudonym of a person for one agency (24 base32 characters)."""
    message = PSEUDONYM_DOMAIN + b"\x00" + uuid.UUID(str(agency_id)).bytes + uuid.UUID(str(person_id)).bytes
    digest = hmac.new(bytes(settings.PSEUDONYM_KEY), message, hashlib.sha256).digest()
    return base64.b32encode(digest[:PSEUDONYM_BYTES]).decode("ascii")


def object_pseudonym(agency_id: uuid.UUID | str, object_id: uuid.UUID | str) -> str:
    """A per-agency id for a registration or an event seen under a pseudonymous agreement, so
    that shared row ids cannot link two agencies' pseudonyms (not resolvable back)."""
    message = b"partner.object.v1\x00" + uuid.UUID(str(agency_id)).bytes + uuid.UUID(str(object_id)).bytes
    digest = hmac.new(bytes(settings.PSEUDONYM_KEY), message, hashlib.sha256).digest()
    return base64.b32encode(digest[:PSEUDONYM_BYTES]).decode("ascii")


def pseudonyms_for(agency_id, person_ids: Iterable) -> dict[uuid.UUID, str]:
    """Pseudonyms of ``person_ids`` for the agency, recording new ones in ``PartnerPseudonym``."""
    from accounts.models import PartnerPseudonym

    ids = {uuid.UUID(str(pid)) for pid in person_ids if pid is not None}
    stored = PartnerPseudonym.objects.filter(agency_id=agency_id, person_id__in=ids)
    mapping = dict(stored.values_list("person_id", "pseudonym"))
    # Pseudonyms already served never change (they are the partner's foreign keys), even after a
    # PSEUDONYM_KEY rotation: only people first served now are derived with the current key.
    new = {pid: pseudonym(agency_id, pid) for pid in ids - mapping.keys()}
    if new:
        PartnerPseudonym.objects.bulk_create(
            [PartnerPseudonym(agency_id=agency_id, person_id=pid, pseudonym=p) for pid, p in new.items()],
            ignore_conflicts=True,
        )
        mapping.update(
            PartnerPseudonym.objects.filter(agency_id=agency_id, person_id__in=list(new))
            .values_list("person_id", "pseudonym")
        )
    return mapping


def resolve_pseudonym(agency_id, value: str) -> uuid.UUID | None:
    """The person behind a pseudonym served to this agency, or None (never another agency's)."""
    from accounts.models import PartnerPseudonym

    if not isinstance(value, str) or not PSEUDONYM_RE.match(value):
        return None
    return (
        PartnerPseudonym.objects.filter(agency_id=agency_id, pseudonym=value)
        .values_list("person_id", flat=True).first()
    )
