"""People, their documents, travel groups, registrations, vulnerabilities and referrals.

Names, document numbers, MRZ lines, free text and vulnerability details are encrypted per
field (privacy.fields); search and duplicate blocking go through blind-index rows
(``PersonNameTerm``, ``IdentityDocument.number_bidx``). Every write goes through
``registry.services``; every read of people goes through ``Person.objects.visible_to(user)``.
History (django-simple-history) stores ciphertext for encrypted fields, never plaintext.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from accounts.models import AttributedHistory
from privacy.fields import EncryptedCharField, EncryptedJSONField, EncryptedTextField
from registry import reference
from registry.vocabulary import (
    BirthPrecision,
    ConsentPurpose,
    DocumentKind,
    DocumentStatus,
    DuplicateStatus,
    LegalBasis,
    PersonStatus,
    Purpose,
    ReferralService,
    ReferralStatus,
    RegistrationStatus,
    Relationship,
    Sex,
    VulnerabilityKind,
)


def _in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class PersonQuerySet(models.QuerySet):
    def active(self) -> PersonQuerySet:
        return self.filter(status=PersonStatus.ACTIVE)

    def visible_to(self, user) -> PersonQuerySet:
        """The one row-visibility rule for people (DESIGN.md rule 3).

        Admins see everyone; supervisors, people registered by their agency; registrars, people
        registered at the places they are posted to today; analysts and auditors see no
        identified person. Erased tombstones are visible to admins only.
        """
        from accounts.roles import ADMIN, REGISTRAR, SUPERVISOR

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.has_role(ADMIN):
            return self._unblocked_for(user)
        scope = Q(pk__in=[])
        if user.has_role(SUPERVISOR) and user.agency_id:
            scope |= Q(agency_id=user.agency_id)
        if user.has_role(REGISTRAR):
            scope |= Q(place_id__in=user.current_place_ids())
        registrations = Registration.objects.filter(scope).values("person_id")
        return self._unblocked_for(user).filter(pk__in=registrations).exclude(status=PersonStatus.ERASED)

    def _unblocked_for(self, user=None) -> PersonQuerySet:
        """Minus people blocked by a cancellation request: hidden from everyone but the
        data-protection role during the blocking period (docs/privacy.md)."""
        from privacy.rights.blocking import exclude_blocked

        return exclude_blocked(self, user)

    def visible_to_agreement(self, agreement) -> PersonQuerySet:
        """People a partner may see under a data-sharing agreement: active people with a
        registration visible to it (``Registration.objects.visible_to_agreement``)."""
        registrations = Registration.objects.visible_to_agreement(agreement).values("person_id")
        return self._unblocked_for().filter(pk__in=registrations, status=PersonStatus.ACTIVE)

    def tombstones_for_agreement(self, agreement) -> PersonQuerySet:
        """Merged or erased people this agreement's agency was once shown (it holds their
        pseudonym): incremental sync reports them as tombstones, never their data."""
        if agreement is None:
            return self.none()
        return self.filter(
            status__in=[PersonStatus.MERGED, PersonStatus.ERASED], partner_pseudonyms__agency_id=agreement.agency_id
        )


class Person(models.Model):
    """A migrant known to the registry. Public ids: the UUID and a short reference with a check
    character (printed on receipts and cards). Never deleted: merged and erased records stay as
    tombstones (DESIGN.md rule 6)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=12, unique=True, default=reference.new_reference, editable=False)
    given_names = EncryptedCharField(_("given names"), max_length=100)
    first_surname = EncryptedCharField(_("first surname"), max_length=100, blank=True)
    second_surname = EncryptedCharField(_("second surname"), max_length=100, blank=True)
    aliases = EncryptedJSONField(_("aliases"), default=list, blank=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, default=Sex.NOT_COLLECTED)
    birth_date = models.DateField(_("date of birth"), null=True, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("year of birth"), null=True, blank=True)
    birth_precision = models.CharField(
        _("precision of the date of birth"), max_length=10, choices=BirthPrecision.choices, default=BirthPrecision.EXACT
    )
    nationality = CountryField(_("nationality"), blank=True)
    country_of_birth = CountryField(_("country of birth"), blank=True)
    languages = models.JSONField(_("languages (ISO 639-3)"), default=list, blank=True)
    status = models.CharField(_("status"), max_length=8, choices=PersonStatus.choices, default=PersonStatus.ACTIVE)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), on_delete=models.PROTECT, null=True, blank=True, related_name="merged_records"
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = PersonQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["modified_at"], bases=[AttributedHistory])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.CheckConstraint(name="person_sex_valid", condition=_in("sex", Sex)),
            models.CheckConstraint(name="person_status_valid", condition=_in("status", PersonStatus)),
            models.CheckConstraint(name="person_birth_precision_valid", condition=_in("birth_precision", BirthPrecision)),
            models.CheckConstraint(
                name="person_merged_has_survivor",
                condition=~Q(status=PersonStatus.MERGED) | Q(merged_into__isnull=False),
            ),
            models.CheckConstraint(
                name="person_exact_birth_has_date",
                condition=~Q(birth_precision=BirthPrecision.EXACT) | Q(birth_date__isnull=False) | Q(birth_year__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["birth_year"], name="person_birth_year_idx")]
        permissions = [("merge_person", "Can merge duplicate people")]

    def __str__(self) -> str:
        # Deliberately no name: __str__ ends up in logs, admin history and error reports.
        return reference.display(self.reference)

    @property
    def display_reference(self) -> str:
        return reference.display(self.reference)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.given_names, self.first_surname, self.second_surname) if p)


class PersonNameTerm(models.Model):
    """One blind-index term (token or phonetic key HMAC) of a person's names, for search and
    duplicate blocking without plaintext in the database."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="name_terms")
    term = models.CharField(max_length=24)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "term"], name="person_term_unique")]
        indexes = [models.Index(fields=["term"], name="person_term_idx")]

    def __str__(self) -> str:
        return self.term


class IdentityDocument(models.Model):
    """A document a person showed. The number is encrypted; ``number_bidx`` (keyed HMAC of kind,
    country and normalised number) finds it and makes a valid document unique."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    number = EncryptedCharField(_("number"), max_length=40)
    number_bidx = models.CharField(max_length=32, editable=False)
    number_search_bidx = models.CharField(max_length=32, editable=False, db_index=True)
    issuing_country = CountryField(_("issuing country"))
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=DocumentStatus.choices, default=DocumentStatus.VALID)
    mrz = EncryptedTextField(_("MRZ"), blank=True)
    mrz_checks = models.JSONField(_("MRZ check digits"), default=dict, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["person", "kind"]
        verbose_name = _("identity document")
        verbose_name_plural = _("identity documents")
        constraints = [
            models.CheckConstraint(name="document_kind_valid", condition=_in("kind", DocumentKind)),
            models.CheckConstraint(name="document_status_valid", condition=_in("status", DocumentStatus)),
            models.UniqueConstraint(
                fields=["kind", "issuing_country", "number_bidx"],
                condition=Q(status="valid"),
                name="document_unique_valid_number",
            ),
        ]
        indexes = [models.Index(fields=["number_bidx"], name="document_bidx_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.issuing_country})"


class TravelGroup(models.Model):
    """People travelling together. Child protection status is derived from it
    (registry.services.child_protection_status), never typed in."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.CharField(_("reference"), max_length=12, unique=True, default=reference.new_reference, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("travel group")
        verbose_name_plural = _("travel groups")

    def __str__(self) -> str:
        return reference.display(self.reference)


class GroupMembership(models.Model):
    """A person in a travel group, with their relationship to the head of the group."""

    group = models.ForeignKey(TravelGroup, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    relationship = models.CharField(_("relationship to the head"), max_length=16, choices=Relationship.choices)
    is_legal_guardian = models.BooleanField(
        _("legal guardian of the children in the group"), default=False,
        help_text=_("An adult with documented guardianship (e.g. notarised permission)."),
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["group", "joined_at"]
        constraints = [
            models.UniqueConstraint(fields=["group", "person"], name="membership_unique"),
            models.UniqueConstraint(fields=["group"], condition=Q(relationship="head"), name="membership_one_head"),
            models.CheckConstraint(name="membership_relationship_valid", condition=_in("relationship", Relationship)),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.group} ({self.relationship})"


class RegistrationQuerySet(models.QuerySet):
    def visible_to(self, user) -> RegistrationQuerySet:
        return self.filter(person__in=Person.objects.visible_to(user))

    def review_queue(self) -> RegistrationQuerySet:
        return self.filter(status=RegistrationStatus.SUBMITTED).order_by("submitted_at", "created_at")

    def visible_to_agreement(self, agreement) -> RegistrationQuerySet:
        """The one row rule for partners (DP-2): an agreement in force sees submitted or verified
        registrations of active people at its places; a consent-based agreement only those
        whose person consented to partner sharing and has not withdrawn (``consents_to``).

        Portable: PostgreSQL uses JSON containment (``@>``); SQLite (the embedded default) has
        no JSON ``contains``, so there the quoted purpose is matched in the list's JSON text
        (purposes are a closed vocabulary of plain words, so the match is exact)."""
        from django.db import connections
        from django.db.models.functions import Cast

        from privacy.rights.blocking import blocked_person_ids

        if agreement is None or not agreement.is_in_force():
            return self.none()
        rows = self.filter(
            place__in=agreement.visible_places(),
            status__in=[RegistrationStatus.SUBMITTED, RegistrationStatus.VERIFIED],
            person__status=PersonStatus.ACTIVE,
        ).exclude(person_id__in=blocked_person_ids())  # cancellation requests block sharing at once
        if agreement.is_consent_based:
            rows = rows.filter(consent_withdrawn_at__isnull=True)
            if connections[self.db].vendor == "postgresql":
                rows = rows.filter(consent_purposes__contains=[ConsentPurpose.PARTNER_SHARING])
            else:
                rows = rows.alias(consents_json=Cast("consent_purposes", models.TextField())).filter(
                    consents_json__contains=f'"{ConsentPurpose.PARTNER_SHARING}"'
                )
        return rows


class Registration(models.Model):
    """A person registered at a place by an official of an agency, with purpose, destination,
    the legal basis for processing and sharing, and a review workflow (draft → submitted →
    verified | rejected | needs correction) whose every step is a ``RegistrationTransition``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="registrations")
    place = models.ForeignKey("crossings.Place", verbose_name=_("place"), on_delete=models.PROTECT, related_name="registrations")
    agency = models.ForeignKey("accounts.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, related_name="registrations")
    official = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("official"), on_delete=models.PROTECT, related_name="registrations")
    registered_at = models.DateTimeField(_("registered at"))
    purpose = models.CharField(_("purpose of travel"), max_length=10, choices=Purpose.choices, blank=True)
    destination_country = CountryField(_("intended destination country"), blank=True)
    destination_detail = EncryptedCharField(_("intended destination (place)"), max_length=200, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=LegalBasis.choices)
    consent_purposes = models.JSONField(_("consented purposes"), default=list, blank=True)
    consent_withdrawn_at = models.DateTimeField(_("consent withdrawn at"), null=True, blank=True)
    notice_version = models.CharField(_("privacy notice version"), max_length=20)
    notice_language = models.CharField(_("privacy notice language"), max_length=5, default="es")
    notes = EncryptedTextField(_("notes"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=RegistrationStatus.choices, default=RegistrationStatus.DRAFT)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)

    objects = RegistrationQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["modified_at"], bases=[AttributedHistory])

    class Meta:
        ordering = ["-registered_at"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            models.CheckConstraint(name="registration_status_valid", condition=_in("status", RegistrationStatus)),
            models.CheckConstraint(name="registration_legal_basis_valid", condition=_in("legal_basis", LegalBasis)),
            models.CheckConstraint(name="registration_purpose_valid", condition=Q(purpose="") | _in("purpose", Purpose)),
            models.CheckConstraint(
                name="registration_submitted_has_time",
                condition=Q(status=RegistrationStatus.DRAFT) | Q(submitted_at__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["status", "submitted_at"], name="registration_queue_idx"),
            models.Index(fields=["place", "registered_at"], name="registration_place_time_idx"),
        ]
        permissions = [("review_registration", "Can verify, reject or return registrations")]

    def __str__(self) -> str:
        return f"{self.person} @ {self.place.code} ({self.status})"

    def consents_to(self, purpose: ConsentPurpose) -> bool:
        return self.consent_withdrawn_at is None and purpose in self.consent_purposes


class RegistrationTransition(models.Model):
    """One step of the review workflow: who moved the registration, from what, to what, why."""

    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=RegistrationStatus.choices)
    to_status = models.CharField(max_length=16, choices=RegistrationStatus.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)
    reason = EncryptedTextField(_("reason"), blank=True)

    class Meta:
        ordering = ["registration", "at"]
        constraints = [
            models.CheckConstraint(name="transition_from_valid", condition=_in("from_status", RegistrationStatus)),
            models.CheckConstraint(name="transition_to_valid", condition=_in("to_status", RegistrationStatus)),
        ]

    def __str__(self) -> str:
        return f"{self.from_status} → {self.to_status}"


class Vulnerability(models.Model):
    """A protection flag on a person, from the vocabulary mapped to UNHCR specific-needs codes.
    Details are encrypted and shown only to roles that need them."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="vulnerabilities")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="vulnerabilities")
    kind = models.CharField(_("kind"), max_length=24, choices=VulnerabilityKind.choices)
    unhcr_code = models.CharField(_("UNHCR specific-needs code"), max_length=8, blank=True)
    details = EncryptedTextField(_("details"), blank=True)
    derived = models.BooleanField(_("derived by the registry"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["person", "kind"]
        verbose_name = _("vulnerability")
        verbose_name_plural = _("vulnerabilities")
        constraints = [
            models.CheckConstraint(name="vulnerability_kind_valid", condition=_in("kind", VulnerabilityKind)),
            models.UniqueConstraint(
                fields=["person", "kind"], condition=Q(is_active=True), name="vulnerability_one_active_per_kind"
            ),
        ]

    def __str__(self) -> str:
        return self.get_kind_display()


class Referral(models.Model):
    """A referral of a person to a service, agency or shelter, followed to its outcome."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="referrals")
    registration = models.ForeignKey(Registration, on_delete=models.PROTECT, null=True, blank=True, related_name="referrals")
    service = models.CharField(_("service"), max_length=20, choices=ReferralService.choices)
    to_agency = models.ForeignKey("accounts.Agency", verbose_name=_("to agency"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    to_place = models.ForeignKey("crossings.Place", verbose_name=_("to place"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.REQUESTED)
    outcome = EncryptedTextField(_("outcome"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["modified_at"], bases=[AttributedHistory])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        constraints = [
            models.CheckConstraint(name="referral_service_valid", condition=_in("service", ReferralService)),
            models.CheckConstraint(name="referral_status_valid", condition=_in("status", ReferralStatus)),
            models.CheckConstraint(
                name="referral_has_destination", condition=Q(to_agency__isnull=False) | Q(to_place__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_display()} ({self.get_status_display()})"


class DuplicateCandidate(models.Model):
    """A scored pair of records that may be the same person, with human-readable reasons.
    Never merged automatically: a supervisor decides, and the decision is remembered."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person_a = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=DuplicateStatus.choices, default=DuplicateStatus.PENDING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = EncryptedTextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["-score"]
        constraints = [
            models.CheckConstraint(name="duplicate_status_valid", condition=_in("status", DuplicateStatus)),
            # One row per unordered pair: services always store the smaller id as person_a.
            models.CheckConstraint(name="duplicate_pair_ordered", condition=Q(person_a__lt=models.F("person_b"))),
            models.UniqueConstraint(fields=["person_a", "person_b"], name="duplicate_pair_unique"),
        ]
        indexes = [models.Index(fields=["status", "-score"], name="duplicate_queue_idx")]

    def __str__(self) -> str:
        return f"{self.person_a} ~ {self.person_b} ({self.score:.2f})"

    @property
    def reason_labels(self) -> str:
        """The stored reason codes as translated labels, for display only."""
        from registry.resolution.reasons import labels

        return ", ".join(labels(self.reasons))



# --- identity resolution: blocking keys, matching runs, merges, imports ----------------------


class PersonBlockingKey(models.Model):
    """One blind blocking key of a person (keyed HMAC of phonetic name-token pairs and the birth
    year, or of the first given name, birth year and nationality): candidate generation for
    duplicate detection without plaintext. Maintained by ``registry.resolution.blocking``."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="blocking_keys")
    key = models.CharField(max_length=12)
    # Copies of the person's birth (kept in clear on the person too; ``blocking.key_rows``): a
    # lookup drops people whose birth rules them out while it reads the keys (``engine``).
    # ``birth_precision`` empty: a row written before the copy existed, never filtered out.
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    birth_precision = models.CharField(max_length=10, blank=True, default="")
    birth_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "key"], name="blocking_key_unique")]
        indexes = [models.Index(fields=["key"], name="blocking_key_idx")]

    def __str__(self) -> str:
        return self.key


class MatchingRunStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class MatchingRun(models.Model):
    """One pass of the duplicate scan over people changed since the previous pass: progress,
    pairs found and the last ``modified_at`` seen (where the next pass starts)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=10, default="nightly")
    status = models.CharField(_("status"), max_length=8, choices=MatchingRunStatus.choices, default=MatchingRunStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    since = models.DateTimeField(_("changed since"), null=True, blank=True)
    last_modified_seen = models.DateTimeField(_("last change seen"), null=True, blank=True)
    total = models.PositiveIntegerField(_("people to scan"), default=0)
    scanned = models.PositiveIntegerField(_("people scanned"), default=0)
    pairs_found = models.PositiveIntegerField(_("pairs found"), default=0)
    error = models.CharField(_("error"), max_length=200, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")
        constraints = [
            models.CheckConstraint(name="matching_run_status_valid", condition=_in("status", MatchingRunStatus)),
            models.UniqueConstraint(fields=["kind"], condition=Q(status="running"), name="matching_run_one_running"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class MergeRecord(models.Model):
    """A merge of ``merged`` into ``survivor``: who, when, why, and the ids of every row moved
    (per table), so that an unmerge within ``MERGE_UNDO_DAYS`` puts each row back exactly."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    survivor = models.ForeignKey(Person, verbose_name=_("survivor"), on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey(Person, verbose_name=_("merged record"), on_delete=models.PROTECT, related_name="+")
    merged_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("merged by"), on_delete=models.PROTECT, related_name="+")
    merged_at = models.DateTimeField(_("merged at"), auto_now_add=True)
    reason = EncryptedTextField(_("reason"))
    moved = models.JSONField(_("rows moved per table"), default=dict)
    deactivated = models.JSONField(_("flags deactivated as duplicates"), default=list)
    aliases_added = EncryptedJSONField(_("names added to the survivor as aliases"), default=list)
    survivor_version = models.PositiveIntegerField(default=0)
    merged_version = models.PositiveIntegerField(default=0)
    undone_at = models.DateTimeField(_("unmerged at"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("unmerged by"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    undo_reason = EncryptedTextField(_("reason for the unmerge"), blank=True)

    class Meta:
        ordering = ["-merged_at"]
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        constraints = [
            models.CheckConstraint(name="merge_distinct_people", condition=~Q(survivor=models.F("merged"))),
            models.UniqueConstraint(fields=["merged"], condition=Q(undone_at__isnull=True), name="merge_one_live_per_record"),
        ]

    def __str__(self) -> str:
        return f"{self.merged} → {self.survivor}"


class ImportJobStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Previewed (dry run)")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportJob(models.Model):
    """One bulk import of a registrations file, identified by the file's SHA-256: progress by
    row, counts, and the server-side names of the stored file and its error report. ``--resume``
    continues after ``last_committed_row``; a finished file is never imported twice."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    sha256 = models.CharField(max_length=64)
    file_format = models.CharField(_("format"), max_length=4)
    size = models.PositiveBigIntegerField(_("size in bytes"), default=0)
    stored_name = models.CharField(max_length=100, blank=True)
    report_name = models.CharField(max_length=100, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    status = models.CharField(_("status"), max_length=10, choices=ImportJobStatus.choices, default=ImportJobStatus.RUNNING)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("imported by"), on_delete=models.PROTECT, related_name="+")
    place = models.ForeignKey("crossings.Place", verbose_name=_("default place"), on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    batch_size = models.PositiveIntegerField(default=500)
    rows_seen = models.PositiveIntegerField(_("rows read"), default=0)
    last_committed_row = models.PositiveIntegerField(_("last committed row"), default=0)
    imported = models.PositiveIntegerField(_("rows imported"), default=0)
    failed = models.PositiveIntegerField(_("rows with errors"), default=0)
    duplicates = models.PositiveIntegerField(_("rows linked to possible duplicates"), default=0)
    warnings = models.JSONField(_("warnings"), default=list, blank=True)
    groups = models.JSONField(default=dict, blank=True)  # SHA-256 of a file's group_key -> TravelGroup id
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        constraints = [
            models.CheckConstraint(name="import_status_valid", condition=_in("status", ImportJobStatus)),
            models.UniqueConstraint(fields=["sha256"], condition=Q(dry_run=False), name="import_one_real_job_per_file"),
        ]

    def __str__(self) -> str:
        return f"{self.sha256[:12]} ({self.status})"
