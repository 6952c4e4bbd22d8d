"""The subject access export (SECURITY.md DP-3): everything held about one person.

``build`` returns a plain dict (identity, documents, registrations with their legal basis and
consents, travel groups, transit events, visitor cards, flags, referrals, which agencies read
the person's data and when, and the rights requests) with labels in the active language; no
other person's data (a travel group is shown by its reference, not its members). ``as_json``
and ``as_pdf`` render it; ``deliver`` writes the access-log row and returns the bytes. Nothing
is stored: each download is generated and logged afresh.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.access_log import log_access
from privacy.models import AccessAction, AccessLog, RightsRequest
from privacy.rights.jsontext import list_contains

OBJECT_TYPE = "registry.person"


def _person(person) -> dict[str, Any]:
    return {
        "id": str(person.pk),
        "reference": person.display_reference,
        "given_names": person.given_names,
        "first_surname": person.first_surname,
        "second_surname": person.second_surname,
        "aliases": list(person.aliases or []),
        "sex": person.get_sex_display(),
        "birth_date": person.birth_date,
        "birth_year": person.birth_year,
        "birth_precision": person.get_birth_precision_display(),
        "nationality": person.nationality.name if person.nationality else "",
        "country_of_birth": person.country_of_birth.name if person.country_of_birth else "",
        "languages": list(person.languages or []),
        "status": person.get_status_display(),
        "recorded_at": person.created_at,
    }


def _documents(person) -> list[dict]:
    return [
        {
            "kind": d.get_kind_display(),
            "number": d.number,
            "issuing_country": d.issuing_country.name,
            "expiry_date": d.expiry_date,
            "status": d.get_status_display(),
            "recorded_at": d.created_at,
        }
        for d in person.documents.order_by("created_at")
    ]


def _registrations(person) -> list[dict]:
    rows = person.registrations.select_related("place", "agency").order_by("registered_at")
    return [
        {
            "registered_at": r.registered_at,
            "place": r.place.name,
            "agency": r.agency.name,
            "purpose": r.get_purpose_display(),
            "destination_country": r.destination_country.name if r.destination_country else "",
            "destination_detail": r.destination_detail,
            "legal_basis": r.get_legal_basis_display(),
            "consent_purposes": list(r.consent_purposes or []),
            "consent_withdrawn_at": r.consent_withdrawn_at,
            "privacy_notice": f"{r.notice_version} ({r.notice_language})",
            "status": r.get_status_display(),
            "notes": r.notes,
        }
        for r in rows
    ]


def _groups(person) -> list[dict]:
    return [
        {
            "group": str(m.group),
            "relationship": m.get_relationship_display(),
            "legal_guardian": m.is_legal_guardian,
            "joined_at": m.joined_at,
        }
        for m in person.memberships.select_related("group").order_by("joined_at")
    ]


def _events(person) -> list[dict]:
    return [
        {
            "occurred_at": e.occurred_at,
            "place": e.place.name,
            "kind": e.get_kind_display(),
            "direction": e.get_direction_display(),
            "mode": e.get_mode_display(),
        }
        for e in person.transit_events.select_related("place").order_by("occurred_at")
    ]


def _permits(person) -> list[dict]:
    return [
        {
            "number": p.number,
            "kind": p.get_kind_display(),
            "valid_from": p.valid_from,
            "valid_until": p.valid_until,
            "status": p.get_status_display(),
            "status_reason": p.status_reason,
        }
        for p in person.permits.order_by("valid_from")
    ]


def _flags(person) -> list[dict]:
    return [
        {
            "kind": v.get_kind_display(),
            "details": v.details,
            "active": v.is_active,
            "recorded_at": v.recorded_at,
        }
        for v in person.vulnerabilities.order_by("recorded_at")
    ]


def _referrals(person) -> list[dict]:
    return [
        {
            "service": r.get_service_display(),
            "to_agency": r.to_agency.name if r.to_agency else "",
            "to_place": r.to_place.name if r.to_place else "",
            "status": r.get_status_display(),
            "created_at": r.created_at,
            "outcome": r.outcome,
        }
        for r in person.referrals.select_related("to_agency", "to_place").order_by("created_at")
    ]


def _disclosures(person) -> list[dict]:
    """Who read the person's data, from the access log: agency, when, how and why."""
    rows = (
        list_contains(AccessLog.objects.all(), "object_ids", str(person.pk))
        .select_related("agency")
        .order_by("at")
    )
    return [
        {
            "at": row.at,
            "agency": row.agency.name if row.agency else "",
            "agreement": row.agreement_ref,
            "action": row.get_action_display(),
            "purpose": row.purpose,
        }
        for row in rows
    ]


def _requests(person) -> list[dict]:
    return [
        {
            "right": r.get_right_display(),
            "received_at": r.received_at,
            "status": r.get_status_display(),
            "decision_reason": r.decision_reason,
        }
        for r in RightsRequest.objects.filter(person=person).order_by("received_at")
    ]


def build(person) -> dict[str, Any]:
    """Everything held about ``person``, section by section."""
    return {
        "generated_at": timezone.now(),
        "person": _person(person),
        "documents": _documents(person),
        "registrations": _registrations(person),
        "travel_groups": _groups(person),
        "transit_events": _events(person),
        "visitor_cards": _permits(person),
        "vulnerabilities": _flags(person),
        "referrals": _referrals(person),
        "disclosures": _disclosures(person),
        "rights_requests": _requests(person),
    }


SECTION_TITLES = {
    "documents": _("Identity documents"),
    "registrations": _("Registrations"),
    "travel_groups": _("Travel groups"),
    "transit_events": _("Movements"),
    "visitor_cards": _("Visitor cards"),
    "vulnerabilities": _("Protection flags"),
    "referrals": _("Referrals"),
    "disclosures": _("Who read this data and when"),
    "rights_requests": _("Requests about this data"),
}


LABELS = {
    "kind": _("Kind"),
    "number": _("Number"),
    "issuing_country": _("Issuing country"),
    "expiry_date": _("Expiry date"),
    "status": _("Status"),
    "recorded_at": _("Recorded at"),
    "registered_at": _("Registered at"),
    "place": _("Place"),
    "agency": _("Agency"),
    "purpose": _("Purpose"),
    "destination_country": _("Destination country"),
    "destination_detail": _("Destination"),
    "legal_basis": _("Legal basis"),
    "consent_purposes": _("Consents"),
    "consent_withdrawn_at": _("Consent withdrawn at"),
    "privacy_notice": _("Privacy notice"),
    "notes": _("Notes"),
    "group": _("Group"),
    "relationship": _("Relationship"),
    "legal_guardian": _("Legal guardian"),
    "joined_at": _("Joined at"),
    "occurred_at": _("Time"),
    "direction": _("Direction"),
    "mode": _("Mode"),
    "valid_from": _("Valid from"),
    "valid_until": _("Valid until"),
    "status_reason": _("Reason"),
    "details": _("Details"),
    "active": _("Active"),
    "service": _("Service"),
    "to_agency": _("To agency"),
    "to_place": _("To place"),
    "created_at": _("Created at"),
    "outcome": _("Outcome"),
    "at": _("When"),
    "agreement": _("Agreement"),
    "action": _("Action"),
    "right": _("Right"),
    "received_at": _("Received at"),
    "decision_reason": _("Decision"),
}


def _cell(value: Any) -> str:
    from django.utils.formats import localize

    if value is None or value == "":
        return ""
    if value is True or value is False:
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return str(localize(value))


def _table(rows: list[dict]) -> dict[str, list]:
    if not rows:
        return {"headers": [], "rows": []}
    return {
        "headers": [LABELS.get(key, key) for key in rows[0]],
        "rows": [[_cell(v) for v in row.values()] for row in rows],
    }


def as_json(data: dict[str, Any]) -> bytes:
    return json.dumps(
        data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2, default=str
    ).encode("utf-8")


def as_pdf(data: dict[str, Any]) -> bytes:
    """The export as PDF (WeasyPrint, the library the receipts use); nothing is fetched."""
    from weasyprint import HTML

    sections = [(SECTION_TITLES[key], _table(data[key])) for key in SECTION_TITLES]
    html = render_to_string("privacy/export_pdf.html", {"data": data, "sections": sections})
    return HTML(string=html, url_fetcher=_no_fetch).write_pdf()


def _no_fetch(url: str, *args, **kwargs):
    raise ValueError("external resources are not loaded into exports")


def deliver(
    actor, request: RightsRequest, fmt: str, *, http_request=None
) -> tuple[bytes, str, str]:
    """Generate the export of the request's person in ``fmt`` (``pdf`` or ``json``), log the
    read, and return (content, content type, file name)."""
    from django.core.exceptions import PermissionDenied, ValidationError

    from privacy.models import RightKind

    if not (actor.is_active and actor.has_perm("privacy.view_rightsrequest")):
        raise PermissionDenied("privacy.view_rightsrequest")
    if request.right != RightKind.ACCESS:
        raise ValidationError(_("Only access requests have an export."))
    if fmt not in ("pdf", "json"):
        raise ValidationError({"format": _("Choose PDF or JSON.")})
    person = request.person
    log_access(
        user=actor,
        action=AccessAction.EXPORT,
        object_type=OBJECT_TYPE,
        object_ids=[person.pk],
        purpose=f"rights:access:{request.pk}",
        request=http_request,
    )
    data = build(person)
    name = f"acceso-{person.reference}.{fmt}"
    if fmt == "json":
        return as_json(data), "application/json", name
    return as_pdf(data), "application/pdf", name
