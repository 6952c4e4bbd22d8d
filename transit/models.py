"""Movements: transit events at places, anonymous head counts, and visitor-card permits.

Every write goes through ``transit.services``; every read of identified rows goes through
``visible_to(user)``. Events are never deleted (DESIGN.md rule 6); history is kept with
django-simple-history and holds no names (events and permits carry ids only).
"""

from __future__ import annotations

import operator
import uuid
from functools import reduce

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_countries.fields import CountryField
from simple_history.models import HistoricalRecords

from accounts.models import AttributedHistory
from privacy.fields import EncryptedCharField
from transit.permit_rules import PermitKind
from transit.vocabulary import (
    AGE_BRACKETS,
    COUNT_FIELDS,
    HEAD_COUNT_SEXES,
    Direction,
    EventKind,
    FlagReason,
    Mode,
    Source,
    count_field,
)


def _in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


def _people_visible_to(user):
    from registry.models import Person

    return Person.objects.visible_to(user)


def _any_positive(fields) -> Q:
    return reduce(operator.or_, (Q(**{f"{name}__gt": 0}) for name in fields))


class HeadCount(models.Model):
    """An anonymous count of people seen together, by sex (f, m, x) × age bracket
    (0–4, 5–11, 12–17, 18–59, 60+): flow monitoring at informal crossings. No identities."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nationality = CountryField(_("nationality (if known)"), blank=True)
    # One PositiveIntegerField per sex × bracket cell is added below the class (f_0_4 ... x_60).

    class Meta:
        verbose_name = _("head count")
        verbose_name_plural = _("head counts")
        constraints = [
            models.CheckConstraint(
                name="headcount_not_empty",
                condition=_any_positive(COUNT_FIELDS),
            )
        ]

    def __str__(self) -> str:
        return _("%(total)d people") % {"total": self.total}

    @property
    def total(self) -> int:
        return sum(getattr(self, name) for name in COUNT_FIELDS)


for _sex, _sex_label in HEAD_COUNT_SEXES:
    for _bracket, _bracket_label in AGE_BRACKETS:
        HeadCount.add_to_class(
            count_field(_sex, _bracket),
            models.PositiveIntegerField(format_lazy("{} {}", _sex_label, _bracket_label), default=0),
        )


class TransitEventQuerySet(models.QuerySet):
    def identified(self) -> TransitEventQuerySet:
        return self.filter(person__isnull=False)

    def visible_to(self, user) -> TransitEventQuerySet:
        """Admins see every event; others, events of people they may see plus every event
        (identified or counted) recorded at the places they are posted to today."""
        from accounts.roles import ADMIN

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.has_role(ADMIN):
            return self
        return self.filter(Q(person__in=_people_visible_to(user)) | Q(place_id__in=user.current_place_ids()))

    def visible_to_agreement(self, agreement) -> TransitEventQuerySet:
        """Events a partner may see under a data-sharing agreement: at its places, and either an
        anonymous head count or a person the agreement may see (Person.visible_to_agreement)."""
        from registry.models import Person

        if agreement is None or not agreement.is_in_force():
            return self.none()
        people = Person.objects.visible_to_agreement(agreement)
        return self.filter(place__in=agreement.visible_places()).filter(
            Q(person__isnull=True) | Q(person__in=people)
        )


class TransitEvent(models.Model):
    """A person, or an anonymous head count, seen at a place at a time.

    Exactly one of ``person`` and ``head_count`` is set (database check). ``occurred_at`` is
    stored in UTC and shown in the place's time zone. ``idempotency_key`` makes retries and
    double taps record one event; ``fingerprint`` is the hash of the content first recorded
    under that key, so a different body under the same key is refused.
    """

    Kind = EventKind

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    place = models.ForeignKey("crossings.Place", verbose_name=_("place"), on_delete=models.PROTECT, related_name="transit_events")
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    direction = models.CharField(_("direction"), max_length=5, choices=Direction.choices, blank=True)
    mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices, blank=True)
    occurred_at = models.DateTimeField(_("time"))
    person = models.ForeignKey(
        "registry.Person", verbose_name=_("person"), on_delete=models.PROTECT, null=True, blank=True, related_name="transit_events"
    )
    head_count = models.OneToOneField(
        HeadCount, verbose_name=_("head count"), on_delete=models.PROTECT, null=True, blank=True, related_name="event"
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"), on_delete=models.PROTECT, related_name="+")
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.FORM)
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, unique=True)
    fingerprint = models.CharField(max_length=64, editable=False)
    flag = models.CharField(_("flag"), max_length=20, choices=FlagReason.choices, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TransitEventQuerySet.as_manager()
    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["-occurred_at"]
        verbose_name = _("transit event")
        verbose_name_plural = _("transit events")
        constraints = [
            models.CheckConstraint(
                name="event_person_xor_head_count",
                condition=Q(person__isnull=False, head_count__isnull=True) | Q(person__isnull=True, head_count__isnull=False),
            ),
            models.CheckConstraint(name="event_kind_valid", condition=_in("kind", EventKind)),
            models.CheckConstraint(name="event_direction_valid", condition=Q(direction="") | _in("direction", Direction)),
            models.CheckConstraint(name="event_mode_valid", condition=Q(mode="") | _in("mode", Mode)),
            models.CheckConstraint(name="event_source_valid", condition=_in("source", Source)),
            models.CheckConstraint(name="event_flag_valid", condition=_in("flag", FlagReason)),
        ]
        indexes = [
            models.Index(fields=["place", "occurred_at"], name="event_place_time_idx"),
            models.Index(fields=["person", "occurred_at"], name="event_person_time_idx"),
        ]
        permissions = [("view_corridors", "Can view aggregated corridor flows")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} @ {self.place_id} {self.occurred_at:%Y-%m-%d %H:%M}Z"

    @property
    def flagged(self) -> bool:
        return bool(self.flag)


class PermitQuerySet(models.QuerySet):
    def visible_to(self, user) -> PermitQuerySet:
        """A permit is visible with its holder (Person.visible_to)."""
        from accounts.roles import ADMIN

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.has_role(ADMIN):
            return self
        return self.filter(person__in=_people_visible_to(user))


class PermitStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("card status", "Active")
    SUSPENDED = "suspended", pgettext_lazy("card status", "Suspended")
    REVOKED = "revoked", pgettext_lazy("card status", "Revoked")
    EXPIRED = "expired", pgettext_lazy("card status", "Expired")


class Permit(models.Model):
    """A visitor card issued to a person. The kind's rules (nationalities, states, validity,
    stay per entry) live in ``transit.permit_rules``; the card's QR carries a signed token
    (``transit.cards``) with the reference, number, kind and validity but no name."""

    Kind = PermitKind
    Status = PermitStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey("registry.Person", verbose_name=_("person"), on_delete=models.PROTECT, related_name="permits")
    kind = models.CharField(_("kind"), max_length=6, choices=PermitKind.choices)
    number = models.CharField(_("number"), max_length=24, unique=True)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    allowed_states = models.JSONField(_("allowed states (ISO 3166-2)"), default=list)
    status = models.CharField(_("status"), max_length=10, choices=PermitStatus.choices, default=PermitStatus.ACTIVE)
    status_reason = EncryptedCharField(_("reason for the status"), max_length=300, blank=True)
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("issued by"), on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(_("issued at"))
    issued_place = models.ForeignKey(
        "crossings.Place", verbose_name=_("issued at place"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = PermitQuerySet.as_manager()
    history = HistoricalRecords(bases=[AttributedHistory])

    class Meta:
        ordering = ["-issued_at"]
        verbose_name = _("permit")
        verbose_name_plural = _("permits")
        constraints = [
            models.CheckConstraint(name="permit_kind_valid", condition=_in("kind", PermitKind)),
            models.CheckConstraint(name="permit_status_valid", condition=_in("status", PermitStatus)),
            models.CheckConstraint(name="permit_validity_ordered", condition=Q(valid_until__gte=models.F("valid_from"))),
        ]
        indexes = [models.Index(fields=["person", "valid_from"], name="permit_person_from_idx")]
        permissions = [
            ("revoke_permit", "Can suspend, reinstate or revoke permits"),
            ("view_overstays", "Can view the overstay list"),
        ]

    def __str__(self) -> str:
        return f"{self.number} ({self.get_kind_display()})"
