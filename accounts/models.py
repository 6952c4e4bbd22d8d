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
