"""The registry's domain operations (DESIGN.md rule 1).

Views, the API, admin actions, commands and tasks call these and nothing else to change people,
documents, groups, registrations, flags and referrals. Each takes the acting user, runs in one
transaction, checks the actor's permission, keeps history (with the actor and a reason) and, where
other work must follow, writes to the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import require_perm
from privacy import outbox
from privacy.blind_index import document_index, document_lookup_indexes, normalise_document_number
from privacy.history import save_with_history
from registry import people
from registry.matching import document_search_index
from registry.models import (
    DuplicateCandidate,
    GroupMembership,
    IdentityDocument,
    Person,
    Referral,
    Registration,
    RegistrationTransition,
    TravelGroup,
    Vulnerability,
)
from registry.resolution import engine as resolution
from registry.validators import validate_cui, validate_curp, validate_mrz
from registry.vocabulary import (
    CHILD_PROTECTION_KINDS,
    UNHCR_CODES,
    BirthPrecision,
    ConsentPurpose,
    DocumentKind,
    LegalBasis,
    ReferralService,
    RegistrationStatus,
    Relationship,
    VulnerabilityKind,
)

CURRENT_NOTICE_VERSION = "2026-01"
CLOCK_SKEW = dt.timedelta(minutes=10)


class ConflictError(Exception):
    """The record changed since the user loaded it (stale version): nothing was written."""


# --- helpers -----------------------------------------------------------------------------------


def _bump_version(model, obj, expected_version: int | None) -> None:
    """Optimistic concurrency: the UPDATE only matches the version the user saw."""
    if expected_version is None:
        expected_version = obj.version
    updated = model.objects.filter(pk=obj.pk, version=expected_version).update(version=F("version") + 1)
    if not updated:
        raise ConflictError(_("Someone else changed this record after you opened it. Reload and try again."))
    obj.version = expected_version + 1


def _check_place(actor, place) -> None:
    """Registrars record only at the places they are posted to; supervisors and admins anywhere."""
    if actor.has_role("admin", "supervisor"):
        return
    if place.pk not in actor.current_place_ids():
        raise ValidationError({"place": _("You are not assigned to this place.")})


def _check_time(value: dt.datetime, field: str) -> dt.datetime:
    if timezone.is_naive(value):
        raise ValidationError({field: _("The time must include a time zone.")})
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field: _("The time cannot be in the future.")})
    if value.year < 1990:
        raise ValidationError({field: _("The time cannot be before 1990.")})
    return value


def _person_fields(data: dict[str, Any], on: dt.date) -> dict[str, Any]:
    """Validated identity fields from raw input; all errors at once, keyed by field."""
    errors: dict[str, list] = {}
    result: dict[str, Any] = {}
    try:
        result.update(people.clean_names(data))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        birth = people.clean_birth(
            precision=data.get("birth_precision") or "exact", birth_date=data.get("birth_date"),
            birth_year=data.get("birth_year"), age=data.get("age"), on=on,
        )
        result.update(birth_date=birth.date, birth_year=birth.year, birth_precision=birth.precision)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        result["languages"] = people.clean_languages(data.get("languages") or [])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    for key in ("sex", "nationality", "country_of_birth"):
        if key in data:
            result[key] = data[key] or ""
    return result


# --- registration --------------------------------------------------------------------------


@transaction.atomic
def register(
    actor, *, place, person_data: dict[str, Any], registered_at: dt.datetime | None = None,
    legal_basis: str = "", consent_purposes: list[str] | None = None, notice_language: str = "es",
    submission_token: uuid.UUID | None = None, scan_duplicates: bool = True,
) -> Registration:
    """Create a person and their draft registration (the short form). Idempotent on
    ``submission_token``: the same token returns the registration it created the first time.
    ``scan_duplicates=False`` is for callers that match the person themselves in the same
    transaction (the bulk import): no outbox scan is queued to do it a second time."""
    require_perm(actor, "registry.add_registration")
    if submission_token is not None:
        existing = Registration.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            return existing
    registered_at = _check_time(registered_at or timezone.now(), "registered_at")
    errors: dict[str, Any] = {}
    if legal_basis not in LegalBasis.values:
        errors["legal_basis"] = [_("Choose the legal basis for registering this person.")]
    try:
        _check_place(actor, place)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        fields = _person_fields(person_data, registered_at.date())
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        consents = _clean_consents(consent_purposes or [])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        # One savepoint for the person and the registration: when a concurrent double submit
        # wins the race on submission_token, this person is undone too and the winner returned.
        # (set_rollback + a query afterwards would raise TransactionManagementError: a 500.)
        with transaction.atomic():
            person = Person(created_by=actor, **fields)
            save_with_history(person, actor, "registered")
            people.reindex_names(person)
            resolution.reindex(person)
            registration = Registration(
                person=person, place=place, agency=actor.agency, official=actor, registered_at=registered_at,
                legal_basis=legal_basis, consent_purposes=consents, notice_version=CURRENT_NOTICE_VERSION,
                notice_language=notice_language, submission_token=submission_token,
            )
            save_with_history(registration, actor, "registered")
    except IntegrityError:
        winner = Registration.objects.filter(submission_token=submission_token).first() if submission_token else None
        if winner is None:
            raise
        return winner
    refresh_child_protection(actor, person)  # a child registered alone is flagged at once
    if scan_duplicates:
        outbox.enqueue("registry.scan_duplicates", {"person_id": str(person.pk)}, dedup_key=f"dup:{person.pk}:1")
    return registration


def _clean_consents(purposes: list[str]) -> list[str]:
    unknown = [p for p in purposes if p not in ConsentPurpose.values]
    if unknown:
        raise ValidationError({"consent_purposes": _("Unknown consent purpose.")})
    return sorted(set(purposes))


_PERSON_EDITABLE = frozenset({
    *people.NAME_FIELDS, "aliases", "birth_date", "birth_year", "birth_precision", "age", "languages", "sex",
    "nationality", "country_of_birth",
})


@transaction.atomic
def update_person(actor, person: Person, changes: dict[str, Any], *, expected_version: int | None, reason: str = "") -> Person:
    """Correct identity data; stale edits (another user saved first) raise ConflictError."""
    require_perm(actor, "registry.change_person")
    unknown = set(changes) - _PERSON_EDITABLE
    if unknown:  # mass assignment (AC-5): status, version, reference... are never set from input
        raise ValidationError({key: _("This field cannot be changed here.") for key in sorted(unknown)})
    merged = {f: getattr(person, f) for f in (*people.NAME_FIELDS, "aliases", "birth_date", "birth_year", "birth_precision", "languages", "sex", "nationality", "country_of_birth")}
    merged.update(changes)
    if "age" in changes:
        merged["birth_precision"] = changes.get("birth_precision", "estimated")
    elif merged["birth_precision"] == BirthPrecision.ESTIMATED and merged.get("birth_year"):
        merged["age"] = timezone.localdate().year - merged["birth_year"]  # the estimate stays as it was
    fields = _person_fields(merged, timezone.localdate())
    _bump_version(Person, person, expected_version)
    for key, value in fields.items():
        setattr(person, key, value)
    save_with_history(person, actor, reason or "corrected")
    people.reindex_names(person)
    resolution.reindex(person)
    refresh_group_protection(actor, person)
    outbox.enqueue("registry.scan_duplicates", {"person_id": str(person.pk)}, dedup_key=f"dup:{person.pk}:{person.version}")
    return person


@transaction.atomic
def update_details(actor, registration: Registration, changes: dict[str, Any], *, expected_version: int | None) -> Registration:
    """Purpose, destination, legal basis, consents and notes of a registration still being edited."""
    require_perm(actor, "registry.change_registration")
    if registration.status not in (RegistrationStatus.DRAFT, RegistrationStatus.NEEDS_CORRECTION):
        raise ValidationError(_("Only drafts and registrations returned for correction can be edited."))
    allowed = {"purpose", "destination_country", "destination_detail", "legal_basis", "consent_purposes", "notes", "notice_language"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({key: _("This field cannot be changed here.") for key in unknown})
    if "legal_basis" in changes and changes["legal_basis"] not in LegalBasis.values:
        raise ValidationError({"legal_basis": _("Choose the legal basis for registering this person.")})
    if "consent_purposes" in changes:
        changes["consent_purposes"] = _clean_consents(changes["consent_purposes"])
    _bump_version(Registration, registration, expected_version)
    for key, value in changes.items():
        setattr(registration, key, value)
    save_with_history(registration, actor, "details")
    return registration


# --- documents -----------------------------------------------------------------------------


_NUMBER_CHECKS = {DocumentKind.CURP: validate_curp, DocumentKind.DPI: validate_cui}


@transaction.atomic
def add_document(
    actor, person: Person, *, kind: str, number: str, issuing_country: str,
    expiry_date: dt.date | None = None, mrz: str = "",
) -> IdentityDocument:
    """Record a document; CURP, CUI and MRZ check digits are verified, and a valid document
    number already on file (same kind and country) is refused rather than duplicated."""
    require_perm(actor, "registry.add_identitydocument")
    if kind not in DocumentKind.values:
        raise ValidationError({"kind": _("Choose the kind of document.")})
    number = (number or "").strip().upper()
    if not number:
        raise ValidationError({"number": _("Enter the document number.")})
    check = _NUMBER_CHECKS.get(kind)
    if check is not None:
        try:
            number = check(number)
        except ValidationError as exc:
            raise ValidationError({"number": exc.error_list}) from exc
    mrz_checks: dict[str, bool] = {}
    if mrz.strip():
        try:
            parsed = validate_mrz(mrz)
        except ValidationError as exc:
            raise ValidationError({"mrz": exc.error_list}) from exc
        mrz_checks = parsed.checks
        if parsed.document_number != normalise_document_number(number):
            raise ValidationError({"mrz": _("The MRZ belongs to another document number.")})
        expiry_date = expiry_date or parsed.expiry()
    duplicate = _("A valid document with this number is already registered.")
    if IdentityDocument.objects.filter(  # also under the previous key while a rotation runs
        kind=kind, issuing_country=issuing_country, status="valid",
        number_bidx__in=document_lookup_indexes(kind, str(issuing_country), number),
    ).exists():
        raise ValidationError({"number": duplicate}, code="duplicate")
    document = IdentityDocument(
        person=person, kind=kind, number=number, issuing_country=issuing_country, expiry_date=expiry_date,
        mrz=mrz.strip(), mrz_checks=mrz_checks, recorded_by=actor,
        number_bidx=document_index(kind, str(issuing_country), number),
        number_search_bidx=document_search_index(number),
    )
    try:
        with transaction.atomic():
            save_with_history(document, actor, "document added")
    except IntegrityError as exc:
        raise ValidationError({"number": duplicate}, code="duplicate") from exc
    return document


# --- groups and child protection -----------------------------------------------------------


@transaction.atomic
def add_to_group(actor, person: Person, *, relationship: str, group: TravelGroup | None = None, is_legal_guardian: bool = False) -> GroupMembership:
    """Put a person in a travel group (a new one when ``group`` is None), then re-derive the
    child-protection flags of everyone in the group."""
    require_perm(actor, "registry.add_groupmembership")
    if relationship not in Relationship.values:
        raise ValidationError({"relationship": _("Choose the relationship to the head of the group.")})
    if is_legal_guardian and people.is_minor(person):
        raise ValidationError({"is_legal_guardian": _("A child cannot be the legal guardian of the group.")})
    if group is None:
        group = TravelGroup.objects.create(created_by=actor)
    if relationship == Relationship.HEAD and group.memberships.filter(relationship=Relationship.HEAD).exists():
        raise ValidationError({"relationship": _("This group already has a head.")})
    membership = GroupMembership(group=group, person=person, relationship=relationship, is_legal_guardian=is_legal_guardian)
    try:
        with transaction.atomic():
            save_with_history(membership, actor, "joined group")
    except IntegrityError as exc:
        raise ValidationError({"person": _("This person is already in the group.")}) from exc
    for member in group.memberships.select_related("person"):
        refresh_child_protection(actor, member.person)
    return membership


def refresh_child_protection(actor, person: Person) -> str | None:
    """Keep the derived unaccompanied/separated flags in step with the person's group and age."""
    status = people.child_protection_status(person)
    wanted = CHILD_PROTECTION_KINDS.get(status)
    derived = Vulnerability.objects.filter(person=person, derived=True, is_active=True)
    for flag_ in derived.exclude(kind=wanted):
        flag_.is_active = False
        save_with_history(flag_, actor, "no longer applies")
    # An official may already have flagged the same kind by hand: one active flag per kind.
    if wanted and not Vulnerability.objects.filter(person=person, kind=wanted, is_active=True).exists():
        _create_flag(actor, person, wanted, derived=True)
    return status


def refresh_group_protection(actor, person: Person) -> None:
    """Re-derive the flags of the person and of everyone travelling with them: a corrected age
    of one member (the 'mother' is 16) changes the status of the children beside them."""
    refresh_child_protection(actor, person)
    groups = GroupMembership.objects.filter(person=person).values("group_id")
    for other in Person.objects.filter(memberships__group__in=groups).exclude(pk=person.pk).distinct():
        refresh_child_protection(actor, other)


# --- vulnerabilities and referrals ----------------------------------------------------------


def _create_flag(actor, person, kind, *, details: str = "", registration=None, derived: bool = False) -> Vulnerability:
    flag_ = Vulnerability(
        person=person, registration=registration, kind=kind, details=details, derived=derived,
        unhcr_code=UNHCR_CODES[kind].family, recorded_by=actor,
    )
    save_with_history(flag_, actor, "derived" if derived else "flagged")
    return flag_


@transaction.atomic
def flag(actor, person: Person, kind: str, *, details: str = "", registration: Registration | None = None) -> Vulnerability:
    """Record a vulnerability. Child flags are refused for adults (they are derived anyway)."""
    require_perm(actor, "registry.add_vulnerability")
    if kind not in VulnerabilityKind.values:
        raise ValidationError({"kind": _("Choose a vulnerability from the list.")})
    if kind in CHILD_PROTECTION_KINDS.values() and not people.is_minor(person):
        raise ValidationError({"kind": _("This flag is for children under 18; the date of birth says otherwise.")})
    existing = Vulnerability.objects.filter(person=person, kind=kind, is_active=True).first()
    if existing is not None:
        return existing
    return _create_flag(actor, person, kind, details=details, registration=registration)


@transaction.atomic
def refer(actor, person: Person, *, service: str, to_agency=None, to_place=None, registration: Registration | None = None) -> Referral:
    """Refer a person to a service at an agency or a place (a shelter, say)."""
    require_perm(actor, "registry.add_referral")
    referral = Referral(person=person, registration=registration, service=service, to_agency=to_agency, to_place=to_place, created_by=actor)
    errors = {}
    if to_agency is None and to_place is None:
        errors["to_agency"] = [_("Choose the agency or the place the person is referred to.")]
    if service not in ReferralService.values:
        errors["service"] = [_("Choose a service from the list.")]
    if errors:
        raise ValidationError(errors)
    save_with_history(referral, actor, "referred")
    return referral


# --- review workflow ------------------------------------------------------------------------

_TRANSITIONS = {
    RegistrationStatus.SUBMITTED: {RegistrationStatus.DRAFT, RegistrationStatus.NEEDS_CORRECTION},
    RegistrationStatus.VERIFIED: {RegistrationStatus.SUBMITTED},
    RegistrationStatus.REJECTED: {RegistrationStatus.SUBMITTED},
    RegistrationStatus.NEEDS_CORRECTION: {RegistrationStatus.SUBMITTED},
}
_REASON_REQUIRED = {RegistrationStatus.REJECTED, RegistrationStatus.NEEDS_CORRECTION}


def _transition(actor, registration: Registration, to_status: str, reason: str, expected_version: int | None) -> Registration:
    if registration.status not in _TRANSITIONS[to_status]:
        raise ValidationError(
            _("A registration that is %(status)s cannot be moved to %(to)s.")
            % {"status": registration.get_status_display(), "to": RegistrationStatus(to_status).label}
        )
    if to_status in _REASON_REQUIRED and not reason.strip():
        raise ValidationError({"reason": _("Give the reason; the official will read it.")})
    _bump_version(Registration, registration, expected_version)
    from_status = registration.status
    registration.status = to_status
    if to_status == RegistrationStatus.SUBMITTED:
        registration.submitted_at = timezone.now()
    save_with_history(registration, actor, f"{from_status} -> {to_status}")
    RegistrationTransition.objects.create(
        registration=registration, from_status=from_status, to_status=to_status, by=actor, reason=reason.strip()
    )
    return registration


@transaction.atomic
def submit(actor, registration: Registration, *, expected_version: int | None = None) -> Registration:
    """The official sends a completed registration to review."""
    require_perm(actor, "registry.change_registration")
    return _transition(actor, registration, RegistrationStatus.SUBMITTED, "", expected_version)


def _review(actor, registration: Registration, to_status: str, reason: str, expected_version: int | None) -> Registration:
    require_perm(actor, "registry.review_registration")
    if registration.official_id == actor.pk:
        raise PermissionDenied(_("Registrations are reviewed by someone other than the official who made them."))
    return _transition(actor, registration, to_status, reason, expected_version)


@transaction.atomic
def verify(actor, registration: Registration, *, reason: str = "", expected_version: int | None = None) -> Registration:
    return _review(actor, registration, RegistrationStatus.VERIFIED, reason, expected_version)


@transaction.atomic
def reject(actor, registration: Registration, *, reason: str, expected_version: int | None = None) -> Registration:
    return _review(actor, registration, RegistrationStatus.REJECTED, reason, expected_version)


@transaction.atomic
def request_correction(actor, registration: Registration, *, reason: str, expected_version: int | None = None) -> Registration:
    return _review(actor, registration, RegistrationStatus.NEEDS_CORRECTION, reason, expected_version)


# --- duplicate decisions (officials' duplicate warning) -------------------------------------


@transaction.atomic
def decide_duplicate(actor, person: Person, other: Person, same: bool, reason: str = "") -> DuplicateCandidate:
    """Record an official's answer to a duplicate warning: same person, or different people.

    The pair is stored once with ``person_a < person_b``; a supervisor still merges (nothing is
    merged here). Callers pass only people the actor can see.
    """
    from registry import matching
    from registry.vocabulary import DuplicateStatus

    require_perm(actor, "registry.change_registration")
    if person.pk == other.pk:
        raise ValidationError(_("A record cannot be a duplicate of itself."))
    match = matching.score_people(person, other)
    a, b = sorted([person.pk, other.pk])
    pair, _created = DuplicateCandidate.objects.select_for_update().get_or_create(
        person_a_id=a, person_b_id=b,
        defaults={"score": match.score if match else 0.0, "reasons": match.codes if match else []},
    )
    pair.status = DuplicateStatus.SAME_PERSON if same else DuplicateStatus.DIFFERENT_PEOPLE
    pair.decided_by, pair.decided_at, pair.decision_reason = actor, timezone.now(), (reason or "").strip()
    save_with_history(pair, actor, "duplicate decided")
    return pair


# --- adjudication, merge and unmerge (supervisors): the rules live in registry.resolution.merge --


def decide_candidate(actor, pair: DuplicateCandidate, *, same: bool, reason: str, survivor: Person | None = None,
                     expected_versions=None):
    """A supervisor's decision on a queued pair ("same person" merges into ``survivor``)."""
    from registry.resolution import merge

    return merge.decide(actor, pair, same=same, reason=reason, survivor=survivor, expected_versions=expected_versions)


def merge_people(actor, survivor: Person, merged: Person, reason: str, expected_versions=None):
    """Merge ``merged`` into ``survivor`` (see ``registry.resolution.merge.merge_people``)."""
    from registry.resolution import merge

    return merge.merge_people(actor, survivor, merged, reason, expected_versions)


def unmerge_people(actor, record, reason: str):
    """Undo a merge within ``MERGE_UNDO_DAYS`` (see ``registry.resolution.merge.unmerge_people``)."""
    from registry.resolution import merge

    return merge.unmerge_people(actor, record, reason)
