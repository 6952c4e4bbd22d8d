"""Places where people are seen: border crossings and interior transit points.

One table, ``Place``, holds both; ``Crossing`` and ``TransitPoint`` are proxies over it. Every
event, registration and post assignment points at a ``Place``, so reports group by one key and
no generic foreign key is needed (see docs/architecture.md, "Places").
"""

from __future__ import annotations

import uuid
from zoneinfo import available_timezones

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class PlaceCategory(models.TextChoices):
    CROSSING = "crossing", _("Border crossing")
    TRANSIT_POINT = "transit_point", _("Transit point")

class PlaceKind(models.TextChoices):
    ROAD_RAIL_BRIDGE = "road_rail_bridge", _("Road and rail bridge")
    ROAD_BRIDGE = "road_bridge", _("Road bridge")
    ROAD = "road", _("Road")
    RIVER_FERRY = "river_ferry", _("River crossing by boat")
    FOOTPATH = "footpath", _("Footpath / informal river crossing")
    RAIL_STATION = "rail_station", _("Rail station")
    SHELTER = "shelter", _("Shelter")
    CHECKPOINT = "checkpoint", _("Checkpoint")
    MIGRATION_STATION = "migration_station", _("Migration station")

class PlaceStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("crossing status", "Open")
    RESTRICTED = "restricted", pgettext_lazy("crossing status", "Restricted")
    CLOSED = "closed", pgettext_lazy("crossing status", "Closed")

class CoordConfidence(models.TextChoices):
    HIGH = "high", _("High: the feature itself")
    MEDIUM = "medium", _("Medium: locality centre")
    LOW = "low", _("Low: distant proxy")
    NOT_FOUND = "nf", _("Not found")


class PlaceQuerySet(models.QuerySet):
    def crossings(self) -> PlaceQuerySet:
        return self.filter(category=Place.Category.CROSSING)

    def transit_points(self) -> PlaceQuerySet:
        return self.filter(category=Place.Category.TRANSIT_POINT)

    def active(self) -> PlaceQuerySet:
        return self.filter(status__in=[Place.Status.OPEN, Place.Status.RESTRICTED])

    def visible_to(self, user) -> PlaceQuerySet:
        """Geography is reference data: every signed-in user sees every place."""
        return self if user.is_authenticated else self.none()


class Place(models.Model):
    """A border crossing (official or informal) or an interior transit point.

    ``code`` is stable and public (MXGT-01, RB-02, SH-LA72...). Coordinates carry a confidence:
    low-confidence and unknown points are never drawn as precise positions.
    """

    Category = PlaceCategory
    Kind = PlaceKind
    Status = PlaceStatus
    CoordConfidence = CoordConfidence

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    code = models.CharField(_("code"), max_length=20, unique=True)
    category = models.CharField(_("category"), max_length=20, choices=PlaceCategory.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices)
    is_official = models.BooleanField(_("official"), default=True)
    name = models.CharField(_("name"), max_length=200)
    name_other_side = models.CharField(_("name on the other side"), max_length=200, blank=True)
    country = models.CharField(_("country"), max_length=2, default="MX")
    state_code = models.CharField(_("state (ISO 3166-2)"), max_length=6, blank=True)
    locality = models.CharField(_("locality"), max_length=120, blank=True)
    municipality = models.CharField(_("municipality"), max_length=120, blank=True)
    other_side_locality = models.CharField(_("locality on the other side"), max_length=120, blank=True)
    other_side_municipality = models.CharField(_("municipality on the other side"), max_length=120, blank=True)
    other_side_department = models.CharField(_("department on the other side"), max_length=120, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    longitude = models.DecimalField(_("longitude"), max_digits=8, decimal_places=5, null=True, blank=True)
    coord_confidence = models.CharField(
        _("coordinate confidence"), max_length=6, choices=CoordConfidence.choices, default=CoordConfidence.NOT_FOUND
    )
    coord_basis = models.CharField(_("coordinate basis"), max_length=60, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=PlaceStatus.choices, default=PlaceStatus.OPEN)
    hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=40, default="America/Mexico_City")
    operator = models.CharField(_("operator"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["category", "code"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        constraints = [
            models.CheckConstraint(
                name="place_category_valid", condition=Q(category__in=PlaceCategory.values)
            ),
            models.CheckConstraint(name="place_kind_valid", condition=Q(kind__in=PlaceKind.values)),
            models.CheckConstraint(name="place_status_valid", condition=Q(status__in=PlaceStatus.values)),
            models.CheckConstraint(
                name="place_coord_confidence_valid",
                condition=Q(coord_confidence__in=CoordConfidence.values),
            ),
            models.CheckConstraint(
                name="place_coords_together",
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
            ),
            models.CheckConstraint(
                name="place_latitude_range", condition=Q(latitude__gte=-90, latitude__lte=90) | Q(latitude__isnull=True)
            ),
            models.CheckConstraint(
                name="place_longitude_range",
                condition=Q(longitude__gte=-180, longitude__lte=180) | Q(longitude__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["category", "status"], name="place_category_status_idx")]

    def __str__(self) -> str:
        return f"{self.code} · {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("crossings:detail", kwargs={"code": self.code})

    @property
    def has_precise_coordinates(self) -> bool:
        """Only high and medium confidence points are drawn as positions on a map."""
        return self.latitude is not None and self.coord_confidence in {
            self.CoordConfidence.HIGH,
            self.CoordConfidence.MEDIUM,
        }

    @staticmethod
    def valid_time_zone(name: str) -> bool:
        return name in available_timezones()


class CrossingManager(models.Manager.from_queryset(PlaceQuerySet)):
    def get_queryset(self) -> PlaceQuerySet:
        return super().get_queryset().crossings()


class TransitPointManager(models.Manager.from_queryset(PlaceQuerySet)):
    def get_queryset(self) -> PlaceQuerySet:
        return super().get_queryset().transit_points()


class Crossing(Place):
    """An official or informal border crossing point (proxy over Place)."""

    objects = CrossingManager()

    class Meta:
        proxy = True
        verbose_name = _("crossing")
        verbose_name_plural = _("crossings")


class TransitPoint(Place):
    """A rail station, shelter, checkpoint or migration station (proxy over Place)."""

    objects = TransitPointManager()

    class Meta:
        proxy = True
        verbose_name = _("transit point")
        verbose_name_plural = _("transit points")
