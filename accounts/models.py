"""Who uses Frontera: agencies, their staff, and the posts staff work at."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AgencyKind(models.TextChoices):
    GOVERNMENT = "government", _("Government")
    UN = "un", _("UN agency")
    NGO = "ngo", _("NGO")
    SHELTER = "shelter", _("Shelter")


class Agency(models.Model):
    """An organisation whose staff or systems use Frontera (INM, IGM, UNHCR, a shelter...)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=AgencyKind.choices)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("Empty for international bodies."))
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        constraints = [models.CheckConstraint(name="agency_kind_valid", condition=Q(kind__in=AgencyKind.values))]

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A human user. Public id is a UUID; roles come from groups (accounts/roles.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    preferred_language = models.CharField(
        _("preferred language"), max_length=5, choices=[("es", "Español"), ("en", "English")], default="es"
    )

    objects = UserManager()

    class Meta(AbstractUser.Meta):
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def has_role(self, *roles: str) -> bool:
        """True when the user is in any of the named role groups (superusers hold every role)."""
        if not self.is_active:
            return False
        if self.is_superuser:
            return True
        return self.groups.filter(name__in=roles).exists()

    @property
    def role_names(self) -> list[str]:
        return list(self.groups.values_list("name", flat=True))

    def current_place_ids(self) -> list[uuid.UUID]:
        """Places the user is assigned to today."""
        return list(PostAssignment.objects.current().filter(user=self).values_list("place_id", flat=True))


class PostAssignmentQuerySet(models.QuerySet):
    def current(self, on=None) -> PostAssignmentQuerySet:
        day = on or timezone.localdate()
        return self.filter(Q(starts_on__lte=day), Q(ends_on__isnull=True) | Q(ends_on__gte=day))


class PostAssignment(models.Model):
    """A user works at a place for a period; registrars see what was recorded at their posts."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="post_assignments")
    place = models.ForeignKey("crossings.Place", on_delete=models.PROTECT, related_name="assignments")
    starts_on = models.DateField(_("from"), default=timezone.localdate)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    is_primary = models.BooleanField(_("primary post"), default=True)

    objects = PostAssignmentQuerySet.as_manager()

    class Meta:
        ordering = ["user", "-is_primary", "starts_on"]
        verbose_name = _("post assignment")
        verbose_name_plural = _("post assignments")
        constraints = [
            models.CheckConstraint(
                name="assignment_period_ordered", condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("starts_on"))
            ),
            models.UniqueConstraint(fields=["user", "place", "starts_on"], name="assignment_unique_start"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.place.code}"


# --- Security telemetry (SECURITY.md LG-5) --------------------------------------------------------
class AppendOnlyModel(models.Model):
    """Rows are written once: Python refuses updates and deletes (PostgreSQL refuses them too)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise PermissionError(f"{self._meta.label} is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(f"{self._meta.label} is append-only")


class SecurityEventKind(models.TextChoices):
    LOGIN_SUCCEEDED = "login_succeeded", _("Login succeeded")
    LOGIN_FAILED = "login_failed", _("Login failed")
    LOCKED_OUT = "locked_out", _("Locked out")
    LOGGED_OUT = "logged_out", _("Logged out")
    MFA_ENROLLED = "mfa_enrolled", _("MFA device enrolled")
    MFA_FAILED = "mfa_failed", _("MFA code rejected")
    MFA_DEVICE_REMOVED = "mfa_device_removed", _("MFA device removed")
    MFA_BACKUP_CODES_ISSUED = "mfa_backup_codes_issued", _("MFA backup codes issued")
    MFA_BACKUP_CODE_USED = "mfa_backup_code_used", _("MFA backup code used to sign in")
    PASSWORD_CHANGED = "password_changed", _("Password changed")
    SESSION_EXPIRED = "session_expired", _("Session expired")
    SESSIONS_ENDED = "sessions_ended", _("Sessions ended")
    PERMISSION_DENIED = "permission_denied", _("Permission denied")
    NOT_FOUND = "not_found", _("Not found for a signed-in user (possible scope denial)")
    VALIDATION_FAILED = "validation_failed", _("Request refused as invalid")
    READ_VOLUME_ALERT = "read_volume_alert", _("Read-volume alert")
    USER_SUSPENDED = "user_suspended", _("User suspended")


class SecurityEvent(AppendOnlyModel):
    """One security-relevant event (login, lockout, MFA, denial, alert). Never migrants' data.

    Holds the acting user (when known), the client address and request id (security telemetry,
    kept like the access log) and a few scalar details. Usernames typed at a failed login are
    stored only as a keyed hash: people sometimes type their password into the username field.
    Append-only: ``save`` refuses updates and, on PostgreSQL, a trigger refuses UPDATE/DELETE.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("at (UTC)"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=32, choices=SecurityEventKind.choices)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    username_hash = models.CharField(_("username (keyed hash)"), max_length=16, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    path = models.CharField(_("path"), max_length=300, blank=True, help_text=_("Without the query string."))
    details = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        default_permissions = ("view",)
        indexes = [
            models.Index(fields=["kind", "-at"], name="secevent_kind_at_idx"),
            models.Index(fields=["user", "-at"], name="secevent_user_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="secevent_kind_valid", condition=Q(kind__in=SecurityEventKind.values)),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind}"


class BreachRecord(AppendOnlyModel):
    """An entry of the breach register (GDPR 33(5), LGPDPPSO *bitácora de vulneraciones*).

    Facts, effects and remedial action are required; corrections are new entries, never edits.
    Refer to people by their Frontera reference, never by name: this table is not encrypted.
    """

    id = models.BigAutoField(primary_key=True)
    detected_at = models.DateTimeField(_("detected at"))
    facts = models.TextField(_("facts"), help_text=_("What happened, which records and systems."))
    effects = models.TextField(_("effects"), help_text=_("Consequences for the people concerned."))
    remedial_action = models.TextField(_("remedial action"), help_text=_("What was done and will be done."))
    reported_to_authority_at = models.DateTimeField(_("reported to the authority at"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        User, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        ordering = ["-detected_at", "-id"]
        verbose_name = _("breach record")
        verbose_name_plural = _("breach register")
        default_permissions = ("add", "view")
        constraints = [
            models.CheckConstraint(
                name="breach_texts_required",
                condition=~Q(facts="") & ~Q(effects="") & ~Q(remedial_action=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.detected_at:%Y-%m-%d} #{self.pk}"


# --- Partner API: data-sharing agreements, clients, pseudonyms (SECURITY.md DP-2, AU-4) -----------
import ipaddress  # noqa: E402  (appended section)

from simple_history.models import HistoricalRecords  # noqa: E402


class AttributedHistory(models.Model):
    """Base of every change-history model (``HistoricalRecords(bases=[AttributedHistory])``):
    the request that made the change, beside simple-history's user and reason (SECURITY.md LG-2;
    filled by the history triggers, ``privacy.history_triggers``)."""

    history_request_id = models.CharField(_("request id"), max_length=64, blank=True, default="")

    class Meta:
        abstract = True


from accounts.agreements import (  # noqa: E402
    AgreementLegalBasis,
    AgreementStatus,
    Scope,
    allowed_fields_errors,
)


def _scope_list_valid(value) -> bool:
    return isinstance(value, list) and all(isinstance(s, str) and s in Scope.values for s in value)


class DataSharingAgreementQuerySet(models.QuerySet):
    def in_force(self, on=None) -> DataSharingAgreementQuerySet:
        """Active agreements of active agencies whose period includes ``on`` (today)."""
        day = on or timezone.localdate()
        return self.filter(
            status=AgreementStatus.ACTIVE, agency__is_active=True, valid_from__lte=day, valid_until__gte=day
        )


class DataSharingAgreement(models.Model):
    """What one partner agency may see through the API, why, where and until when.

    Admin-managed and versioned (history). ``scopes`` bound every token of the agency's clients;
    ``allowed_fields`` lists, per resource, the fields beyond the always-present ids; ``places``
    and ``countries`` bound the rows. Checked on every request, never cached: suspending or
    expiring an agreement cuts access at the next request. Consent-based agreements see only
    registrations whose person consented to partner sharing and has not withdrawn.
    """

    Status = AgreementStatus
    LegalBasis = AgreementLegalBasis

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    reference = models.SlugField(_("reference"), max_length=40, unique=True)
    agency = models.ForeignKey(Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="agreements")
    purpose = models.CharField(_("purpose"), max_length=200)
    legal_basis = models.CharField(_("legal basis"), max_length=20, choices=AgreementLegalBasis.choices)
    scopes = models.JSONField(_("scopes"), default=list, help_text=_("e.g. [\"places:read\", \"stats:read\"]"))
    allowed_fields = models.JSONField(_("allowed fields per resource"), default=dict, blank=True)
    places = models.ManyToManyField("crossings.Place", verbose_name=_("places"), blank=True, related_name="+")
    countries = models.JSONField(_("countries (ISO 3166-1 alpha-2)"), default=list, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    status = models.CharField(_("status"), max_length=10, choices=AgreementStatus.choices, default=AgreementStatus.ACTIVE)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    objects = DataSharingAgreementQuerySet.as_manager()
    history = HistoricalRecords(excluded_fields=["modified_at"], bases=[AttributedHistory])

    class Meta:
        ordering = ["agency", "-valid_from"]
        verbose_name = _("data-sharing agreement")
        verbose_name_plural = _("data-sharing agreements")
        constraints = [
            models.CheckConstraint(name="agreement_status_valid", condition=Q(status__in=AgreementStatus.values)),
            models.CheckConstraint(name="agreement_legal_basis_valid", condition=Q(legal_basis__in=AgreementLegalBasis.values)),
            models.CheckConstraint(name="agreement_period_ordered", condition=Q(valid_until__gte=models.F("valid_from"))),
        ]

    def __str__(self) -> str:
        return self.reference

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, list] = {}
        if not _scope_list_valid(self.scopes):
            errors["scopes"] = [_("Unknown scope.")]
        elif Scope.EVENTS_WRITE in self.scopes and self.agency_id and self.agency.kind != AgencyKind.GOVERNMENT:
            errors["scopes"] = [_("Only government partners may record events.")]
        field_errors = allowed_fields_errors(self.allowed_fields, self.scopes if _scope_list_valid(self.scopes) else [])
        if field_errors:
            errors["allowed_fields"] = field_errors
        if not isinstance(self.countries, list) or not all(isinstance(c, str) and len(c) == 2 and c.isupper() for c in self.countries):
            errors["countries"] = [_("List ISO 3166-1 alpha-2 codes, e.g. [\"MX\", \"GT\"].")]
        if errors:
            raise ValidationError(errors)

    def is_in_force(self, on=None) -> bool:
        """Checked on every API request (read from the database, no cache)."""
        return DataSharingAgreement.objects.in_force(on).filter(pk=self.pk).exists()

    @property
    def is_consent_based(self) -> bool:
        return self.legal_basis == AgreementLegalBasis.CONSENT

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def fields_for(self, resource: str) -> frozenset[str]:
        """The fields of ``resource`` this agreement may see (always-present ones included)."""
        from accounts.agreements import ALWAYS, RESOURCE_FIELDS

        listed = (self.allowed_fields or {}).get(resource) or []
        return ALWAYS[resource] | (frozenset(listed) & RESOURCE_FIELDS[resource])

    def visible_places(self):
        """The places this agreement covers: those listed plus every place in its countries."""
        from crossings.models import Place

        return Place.objects.filter(Q(pk__in=self.places.values("pk")) | Q(country__in=self.countries or []))


class PartnerClient(models.Model):
    """An OAuth2 client (client credentials) of a partner agency, bound to one agreement.

    ``scopes`` (set by ``create_partner_client --scopes``) narrow what its tokens may carry to a
    subset of the agreement's; both are checked again on every request. Its tokens act as ``service_user`` (a machine identity: no password, no groups, never
    staff). Expiry, revocation and the optional IP allow-list are checked on every request.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    application = models.OneToOneField("oauth2_provider.Application", on_delete=models.CASCADE, related_name="partner_client")
    agreement = models.ForeignKey(DataSharingAgreement, verbose_name=_("agreement"), on_delete=models.PROTECT, related_name="clients")
    service_user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="partner_client")
    scopes = models.JSONField(
        _("scopes"), default=list, help_text=_("What this client's tokens may do: a subset of the agreement's scopes.")
    )
    allowed_ips = models.JSONField(_("allowed IP networks"), default=list, blank=True, help_text=_("Empty: any address."))
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("partner API client")
        verbose_name_plural = _("partner API clients")

    def __str__(self) -> str:
        return f"{self.agreement} / {self.application_id}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    def granted_scopes(self) -> list[str]:
        """The client's scopes that its agreement still grants (what a token may carry now)."""
        return [scope for scope in (self.scopes or []) if self.agreement.has_scope(scope)]

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not _scope_list_valid(self.scopes):
            raise ValidationError({"scopes": [_("Unknown scope.")]})
        if self.agreement_id and set(self.scopes) - set(self.agreement.scopes):
            raise ValidationError({"scopes": [_("Only scopes the agreement grants.")]})

    def ip_allowed(self, address: str | None) -> bool:
        """True when no allow-list is set, or ``address`` is inside one of its networks."""
        if not self.allowed_ips:
            return True
        try:
            ip = ipaddress.ip_address(address or "")
        except ValueError:
            return False
        return any(ip in ipaddress.ip_network(net, strict=False) for net in self.allowed_ips)


class PartnerClientUser(User):
    """The service user of a partner client, seen through its agreement (proxy, no table).

    Domain services check ``has_perm`` and ``current_place_ids``; for a machine client both come
    from the agreement bound at authentication (``agreement``), never from groups or posts.
    """

    SCOPE_PERMISSIONS = {Scope.EVENTS_WRITE: "transit.add_transitevent"}

    class Meta:
        proxy = True
        verbose_name = _("partner service user")

    agreement: DataSharingAgreement | None = None

    def has_perm(self, perm, obj=None) -> bool:
        agreement = self.agreement
        if agreement is None or not self.is_active or not agreement.is_in_force():
            return False
        return any(agreement.has_scope(s) and p == perm for s, p in self.SCOPE_PERMISSIONS.items())

    def has_role(self, *roles: str) -> bool:
        return False

    def current_place_ids(self) -> list[uuid.UUID]:
        if self.agreement is None:
            return []
        return list(self.agreement.visible_places().values_list("pk", flat=True))


class PartnerPseudonym(models.Model):
    """The pseudonym under which one agency knows one person (accounts.agreements.pseudonym).

    Written when first served, so a pseudonym sent back by that agency resolves to the person;
    another agency's pseudonym never does.
    """

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="partner_pseudonyms")
    pseudonym = models.CharField(max_length=24)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("partner pseudonym")
        verbose_name_plural = _("partner pseudonyms")
        constraints = [
            models.UniqueConstraint(fields=["agency", "pseudonym"], name="pseudonym_unique_per_agency"),
            models.UniqueConstraint(fields=["agency", "person"], name="pseudonym_one_per_person_agency"),
        ]

    def __str__(self) -> str:
        return self.pseudonym
