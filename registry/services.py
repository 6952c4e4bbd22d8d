"""The registry's domain operations (DESIGN.md rule 1).

Views, the API, admin actions, commands and tasks call these and nothing else to change people,
documents, groups, registrations, flags and referrals. Each takes the acting user, runs in one
transaction, checks the actor's permission, keeps history (with the actor and a reason) and, where
other work must follow, writes to the outbox in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from psycopg import sql
from simple_history.utils import bulk_create_with_history

from accounts.permissions import require_perm
from privacy import outbox
from privacy.blind_index import document_index, document_lookup_indexes, normalise_document_number
from privacy.history import history_context, save_with_history
from registry import people
from registry.matching import document_search_index
from registry.models import (
    DuplicateCandidate,
    GroupMembership,
    IdentityDocument,
    Person,
    PersonBlockingKey,
    PersonNameTerm,
    Referral,
    Registration,
    RegistrationTransition,
    TravelGroup,
    Vulnerability,
)
from registry.resolution import blocking
from registry.resolution import engine as resolution
from registry.resolution.identity import from_person
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
# The vocabularies checked on every registration, as sets once (``TextChoices.values`` builds a
# new list on each access: measurable when a batch checks thousands of rows).
_LEGAL_BASES, _DOCUMENT_KINDS, _RELATIONSHIPS = (frozenset(c.values) for c in (LegalBasis, DocumentKind, Relationship))
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


class _PlaceRule:
    """``_check_place`` for one actor, remembered per place (a batch has few places)."""

    def __init__(self, actor):
        self.actor, self.seen = actor, {}

    def errors(self, place) -> dict:
        if place.pk not in self.seen:
            try:
                _check_place(self.actor, place)
                self.seen[place.pk] = {}
            except ValidationError as exc:
                self.seen[place.pk] = exc.message_dict
        return self.seen[place.pk]


def _local_date(at: dt.datetime, place) -> dt.date:
    """The calendar date of ``at`` where the registration happens (the place's time zone, else
    the server's): from 18:00 in Chiapas it is already tomorrow in UTC, and a child born that
    evening must not be refused, nor tomorrow's date accepted."""
    try:
        zone = ZoneInfo(place.time_zone) if getattr(place, "time_zone", "") else None
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    return timezone.localdate(at, zone)


def _new_registration(
    actor, places: _PlaceRule, *, place, person_data: dict[str, Any], registered_at: dt.datetime | None,
    legal_basis: str, consent_purposes: list[str] | None, notice_language: str, submission_token: uuid.UUID | None,
) -> Registration:
    """``register``'s rules: validate the input (every error at once) and build the unsaved
    person and their draft registration. Shared by ``register`` and ``register_many``."""
    registered_at = _check_time(registered_at or timezone.now(), "registered_at")
    errors: dict[str, Any] = {}
    if legal_basis not in _LEGAL_BASES:
        errors["legal_basis"] = [_("Choose the legal basis for registering this person.")]
    errors.update(places.errors(place))
    try:
        fields = _person_fields(person_data, _local_date(registered_at, place))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    try:
        consents = _clean_consents(consent_purposes or [])
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return Registration(
        person=Person(created_by=actor, **fields), place=place, agency=actor.agency, official=actor,
        registered_at=registered_at, legal_basis=legal_basis, consent_purposes=consents,
        notice_version=CURRENT_NOTICE_VERSION, notice_language=notice_language, submission_token=submission_token,
    )


@transaction.atomic
def register(
    actor, *, place, person_data: dict[str, Any], registered_at: dt.datetime | None = None,
    legal_basis: str = "", consent_purposes: list[str] | None = None, notice_language: str = "es",
    submission_token: uuid.UUID | None = None, scan_duplicates: bool = True,
) -> Registration:
    """Create a person and their draft registration (the short form). Idempotent on
    ``submission_token``: the same token returns the registration it created the first time.
    ``scan_duplicates=False`` is for callers that match the person themselves in the same
    transaction: no outbox scan is queued to do it a second time. (The bulk import uses
    ``register_many``.)"""
    require_perm(actor, "registry.add_registration")
    if submission_token is not None:
        existing = Registration.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            return existing
    registration = _new_registration(
        actor, _PlaceRule(actor), place=place, person_data=person_data, registered_at=registered_at,
        legal_basis=legal_basis, consent_purposes=consent_purposes, notice_language=notice_language,
        submission_token=submission_token,
    )
    person = registration.person
    try:
        # One savepoint for the person and the registration: when a concurrent double submit
        # wins the race on submission_token, this person is undone too and the winner returned.
        # (set_rollback + a query afterwards would raise TransactionManagementError: a 500.)
        with transaction.atomic():
            save_with_history(person, actor, "registered")
            people.reindex_names(person)
            resolution.reindex(person)
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


# --- batch registration (the bulk import) --------------------------------------------------


@dataclass
class NewRegistration:
    """One person for ``register_many``: ``register``'s input plus an optional document
    (``add_document``'s keywords) and travel group. Items with the same ``group_key`` travel
    together; ``group`` is that key's existing group (None: the first item creates one).
    ``register_many`` fills in the outcome: ``created``, ``registration`` (also for a token
    registered before: ``created`` stays False) or ``error``."""

    place: Any
    person_data: dict[str, Any]
    legal_basis: str
    registered_at: dt.datetime | None = None
    submission_token: uuid.UUID | None = None
    document: dict[str, Any] | None = None
    group_key: str = ""
    group: TravelGroup | None = None
    relationship: str = ""
    created: bool = False
    registration: Registration | None = None
    document_record: IdentityDocument | None = None
    membership: GroupMembership | None = None
    error: ValidationError | None = None


registrations_created = Signal()  # sent once per register_many with ``registrations`` (bulk
# inserts send no post_save; the dashboard cache listens to both)


def create_with_history(model, objs: list, actor, reason: str) -> list:
    """INSERT ``objs`` and their history rows (who: ``actor``, why: ``reason``) in bulk with
    django-simple-history's ``bulk_create_with_history``: the batch twin of
    ``privacy.history.save_with_history``, and the one place batch writes record history
    (switch it here if history moves into the database)."""
    if not objs:
        return objs
    with history_context(actor, reason):  # PostgreSQL: the history triggers read it
        return bulk_create_with_history(objs, model, default_user=actor, default_change_reason=reason)


class _Claims:
    """What the items of one ``register_many`` call have taken so far, and what the registry
    held before it: the earlier items count exactly as if they had been registered one by one."""

    def __init__(self, actor, items: list[NewRegistration]):
        self.places = _PlaceRule(actor)
        tokens = [i.submission_token for i in items if i.submission_token is not None]
        self.registrations = {r.submission_token: r for r in Registration.objects.filter(submission_token__in=tokens)}
        self.documents: set[tuple[str, str, str]] = set()
        self.new_groups: dict[str, TravelGroup] = {}
        existing = {i.group.pk for i in items if i.group is not None}
        self.heads = set(GroupMembership.objects.filter(group_id__in=existing, relationship=Relationship.HEAD)
                         .values_list("group_id", flat=True)) if existing else set()

    def group_of(self, actor, item: NewRegistration) -> TravelGroup:
        return item.group or self.new_groups.get(item.group_key) or TravelGroup(created_by=actor)

    def take(self, item: NewRegistration) -> None:
        item.created = True
        if item.submission_token is not None:
            self.registrations[item.submission_token] = item.registration
        if item.document_record is not None:
            doc = item.document_record
            self.documents.add((doc.kind, str(doc.issuing_country), doc.number_bidx))
        if item.membership is not None:
            self.new_groups.setdefault(item.group_key, item.membership.group)
            if item.membership.relationship == Relationship.HEAD:
                self.heads.add(item.membership.group.pk)


def _build(actor, claims: _Claims, item: NewRegistration) -> None:
    """The rules of ``register``, ``add_document`` and ``add_to_group`` that need no lookup, in
    their order (the lookups are done once for the batch, then ``_claim`` applies them)."""
    if item.submission_token in claims.registrations:  # registered before this call: idempotent
        item.registration = claims.registrations[item.submission_token]
        return
    try:
        item.registration = _new_registration(
            actor, claims.places, place=item.place, person_data=item.person_data,
            registered_at=item.registered_at, legal_basis=item.legal_basis, consent_purposes=None,
            notice_language="es", submission_token=item.submission_token,
        )
        person = item.registration.person
        if item.document:
            item.document_record = _new_document(actor, person, **item.document)
        if item.group_key:
            _check_membership(person, item.relationship, False)
    except ValidationError as exc:
        item.error, item.registration, item.document_record = exc, None, None


def _claim(actor, claims: _Claims, item: NewRegistration, registered_docs: set) -> None:
    """The lookups of the single-row services, against the registry and the earlier items."""
    if item.error is not None or item.registration is None or item.registration._state.adding is False:
        return
    earlier = claims.registrations.get(item.submission_token) if item.submission_token is not None else None
    if earlier is not None:  # the same token earlier in this call: that registration
        item.registration, item.document_record = earlier, None
        return
    doc = item.document_record
    if doc is not None and _lookup_key(doc) & (registered_docs | claims.documents):
        item.error = ValidationError({"number": _DUPLICATE_DOCUMENT}, code="duplicate")
        return
    if item.group_key:
        group = claims.group_of(actor, item)
        if item.relationship == Relationship.HEAD and group.pk in claims.heads:
            item.error = ValidationError({"relationship": _GROUP_HAS_HEAD})
            return
        item.membership = GroupMembership(group=group, person=item.registration.person, relationship=item.relationship)
    claims.take(item)


@transaction.atomic
def register_many(actor, items: list[NewRegistration]) -> list[NewRegistration]:
    """Register many people at once (the bulk import): per item the rules of ``register``,
    ``add_document`` and ``add_to_group`` (the same code), checked against the registry and the
    items before it exactly as if they had been registered one by one in this order; an item
    that breaks a rule gets its ``error`` and the others go on. The accepted items are written
    with a few bulk INSERTs (history rows too, same actor and reasons) instead of ~30 queries
    each. The caller matches the new people itself (no outbox scan is queued). Derived
    child-protection flags are computed once, from the groups as the batch leaves them."""
    require_perm(actor, "registry.add_registration")
    if any(i.document for i in items):
        require_perm(actor, "registry.add_identitydocument")
    if any(i.group_key for i in items):
        require_perm(actor, "registry.add_groupmembership")
    claims = _Claims(actor, items)
    for item in items:
        _build(actor, claims, item)
    registered_docs = _registered_documents([i.document_record for i in items if i.document_record is not None])
    for item in items:
        _claim(actor, claims, item, registered_docs)
    _write_many(actor, [i for i in items if i.created])
    return items


def _write_many(actor, items: list[NewRegistration]) -> None:
    """The rows ``register``, ``add_document`` and ``add_to_group`` would have written."""
    persons = [i.registration.person for i in items]
    memberships = [i.membership for i in items if i.membership is not None]
    existing_groups = {m.group.pk for m in memberships if not m.group._state.adding}
    TravelGroup.objects.bulk_create(list({m.group.pk: m.group for m in memberships if m.group._state.adding}.values()))
    create_with_history(Person, persons, actor, "registered")
    _insert_index_rows(PersonNameTerm, ("person_id", "term"),
                       [(p.pk, t) for p in persons for t in sorted(people.name_terms(p))])
    _insert_index_rows(PersonBlockingKey, ("person_id", "key", "birth_year", "birth_precision", "birth_date"), [
        (k.person_id, k.key, k.birth_year, k.birth_precision, k.birth_date)
        for p in persons for k in blocking.key_rows(p, from_person(p))
    ])
    create_with_history(Registration, [i.registration for i in items], actor, "registered")
    create_with_history(IdentityDocument, [i.document_record for i in items if i.document_record], actor, "document added")
    earlier_members = list(GroupMembership.objects.filter(group_id__in=existing_groups).select_related("person"))
    create_with_history(GroupMembership, memberships, actor, "joined group")
    _derive_child_flags(actor, items, earlier_members)
    if items:
        registrations_created.send(sender=Registration, registrations=[i.registration for i in items])


def _insert_index_rows(model, fields: tuple[str, ...], rows: list[tuple]) -> None:
    """INSERT derived index rows of new people (name terms, blocking keys: no change history).
    A batch writes thousands; on PostgreSQL one COPY does it without building and compiling a
    model instance per row (about three times faster than ``bulk_create``), elsewhere (the
    SQLite demo) ``bulk_create``."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(fields, row, strict=True))) for row in rows])
        return
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(model._meta.db_table),
        sql.SQL(", ").join(sql.Identifier(model._meta.get_field(f).column) for f in fields),
    )
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


def _derive_child_flags(actor, items: list[NewRegistration], earlier_members: list[GroupMembership]) -> None:
    """``refresh_child_protection`` for the new people (in memory: they have no flags yet) and,
    with queries, for the people already in a group someone joined (as ``add_to_group`` does)."""
    members: dict = {}
    for membership in [*earlier_members, *(i.membership for i in items if i.membership is not None)]:
        members.setdefault(membership.group_id, []).append(membership)
    on = timezone.localdate()
    flags = []
    for item in items:
        person, mine = item.registration.person, item.membership
        others = [m for m in members.get(mine.group_id, []) if m is not mine] if mine is not None else []
        wanted = CHILD_PROTECTION_KINDS.get(people.status_in_group(person, mine, others, on))
        if wanted:
            flags.append(_new_flag(actor, person, wanted, derived=True))
    create_with_history(Vulnerability, flags, actor, "derived")
    # For an adult without derived flags ``refresh_child_protection`` changes nothing: skip it.
    flagged = set(Vulnerability.objects.filter(
        person_id__in={m.person_id for m in earlier_members}, derived=True, is_active=True,
    ).values_list("person_id", flat=True)) if earlier_members else set()
    for membership in earlier_members:
        if membership.person_id in flagged or people.is_minor(membership.person, on):
            refresh_child_protection(actor, membership.person)


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


def _new_document(
    actor, person: Person, *, kind: str, number: str, issuing_country: str,
    expiry_date: dt.date | None = None, mrz: str = "",
) -> IdentityDocument:
    """``add_document``'s rules but the registry lookup: kind, CURP / CUI / MRZ check digits;
    the unsaved document with its blind indexes. Shared by ``add_document`` and ``register_many``."""
    if kind not in _DOCUMENT_KINDS:
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
    return IdentityDocument(
        person=person, kind=kind, number=number, issuing_country=issuing_country, expiry_date=expiry_date,
        mrz=mrz.strip(), mrz_checks=mrz_checks, recorded_by=actor,
        number_bidx=document_index(kind, str(issuing_country), number),
        number_search_bidx=document_search_index(number),
    )


def _lookup_key(document: IdentityDocument) -> set[tuple[str, str, str]]:
    """(kind, country, index) under which a registered valid document would be found (also
    under the previous key while a rotation runs)."""
    country = str(document.issuing_country)
    return {(document.kind, country, i) for i in document_lookup_indexes(document.kind, country, document.number)}


def _registered_documents(documents: list[IdentityDocument]) -> set[tuple[str, str, str]]:
    """The (kind, country, index) keys of ``documents`` that a valid registered document holds:
    one query however many documents."""
    wanted = set().union(*map(_lookup_key, documents)) if documents else set()
    if not wanted:
        return set()
    rows = IdentityDocument.objects.filter(status="valid", number_bidx__in={i for _k, _c, i in wanted})
    return {(k, str(c), i) for k, c, i in rows.values_list("kind", "issuing_country", "number_bidx")} & wanted


_DUPLICATE_DOCUMENT = _("A valid document with this number is already registered.")


@transaction.atomic
def add_document(
    actor, person: Person, *, kind: str, number: str, issuing_country: str,
    expiry_date: dt.date | None = None, mrz: str = "",
) -> IdentityDocument:
    """Record a document; CURP, CUI and MRZ check digits are verified, and a valid document
    number already on file (same kind and country) is refused rather than duplicated."""
    require_perm(actor, "registry.add_identitydocument")
    document = _new_document(actor, person, kind=kind, number=number, issuing_country=issuing_country,
                             expiry_date=expiry_date, mrz=mrz)
    if _registered_documents([document]):
        raise ValidationError({"number": _DUPLICATE_DOCUMENT}, code="duplicate")
    try:
        with transaction.atomic():
            save_with_history(document, actor, "document added")
    except IntegrityError as exc:
        raise ValidationError({"number": _DUPLICATE_DOCUMENT}, code="duplicate") from exc
    return document


# --- groups and child protection -----------------------------------------------------------


_GROUP_HAS_HEAD = _("This group already has a head.")


def _check_membership(person: Person, relationship: str, is_legal_guardian: bool) -> None:
    """``add_to_group``'s rules on the member (shared with ``register_many``)."""
    if relationship not in _RELATIONSHIPS:
        raise ValidationError({"relationship": _("Choose the relationship to the head of the group.")})
    if is_legal_guardian and people.is_minor(person):
        raise ValidationError({"is_legal_guardian": _("A child cannot be the legal guardian of the group.")})


@transaction.atomic
def add_to_group(actor, person: Person, *, relationship: str, group: TravelGroup | None = None, is_legal_guardian: bool = False) -> GroupMembership:
    """Put a person in a travel group (a new one when ``group`` is None), then re-derive the
    child-protection flags of everyone in the group."""
    require_perm(actor, "registry.add_groupmembership")
    _check_membership(person, relationship, is_legal_guardian)
    if group is None:
        group = TravelGroup.objects.create(created_by=actor)
    if relationship == Relationship.HEAD and group.memberships.filter(relationship=Relationship.HEAD).exists():
        raise ValidationError({"relationship": _GROUP_HAS_HEAD})
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


def _new_flag(actor, person, kind, *, details: str = "", registration=None, derived: bool = False) -> Vulnerability:
    return Vulnerability(
        person=person, registration=registration, kind=kind, details=details, derived=derived,
        unhcr_code=UNHCR_CODES[kind].family, recorded_by=actor,
    )


def _create_flag(actor, person, kind, *, details: str = "", registration=None, derived: bool = False) -> Vulnerability:
    flag_ = _new_flag(actor, person, kind, details=details, registration=registration, derived=derived)
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


def withdraw_consent(actor, person: Person, change_reason: str) -> int:
    """Set ``consent_withdrawn_at`` on every registration of ``person`` still consenting (a
    data-protection right: ``privacy.rights``); returns how many changed."""
    now = timezone.now()
    count = 0
    for registration in Registration.objects.select_for_update().filter(person=person, consent_withdrawn_at__isnull=True):
        registration.consent_withdrawn_at = now
        registration.version += 1  # the row is locked (select_for_update)
        registration._history_user = actor
        registration._change_reason = change_reason
        registration.save(update_fields=["consent_withdrawn_at", "version", "modified_at"])
        count += 1
    return count
