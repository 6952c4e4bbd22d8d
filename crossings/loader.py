"""Load the reference places (crossings/reference/places.json) into ``Place``, idempotently.

Every row is matched by ``code``; a row is written only when a field differs, so a second run
changes nothing (``modified_at`` included). A field missing from the file falls back to the
model default, so deleting a value in the file clears it in the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from crossings.models import Place

REFERENCE_FILE = Path(__file__).resolve().parent / "reference" / "places.json"

# Fields the file may set; everything else (id, timestamps) belongs to the database.
DATA_FIELDS = (
    "category", "kind", "is_official", "name", "name_other_side", "country", "state_code",
    "locality", "municipality", "other_side_locality", "other_side_municipality",
    "other_side_department", "latitude", "longitude", "coord_confidence", "coord_basis",
    "status", "hours", "time_zone", "operator", "notes", "sources",
)
COUNTRY_TIME_ZONES = {"MX": {"America/Mexico_City", "America/Cancun"}, "GT": {"America/Guatemala"}}
QUANTUM = Decimal("0.00001")


@dataclass
class LoadResult:
    """What a load did, by code."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)


def read_reference(path: Path = REFERENCE_FILE) -> list[dict]:
    """The list of place records in the reference file."""
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)["places"]


def _coordinate(value) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(QUANTUM)


def normalise(record: dict) -> dict:
    """Field values for one record, with model defaults filled in and coordinates as Decimals."""
    values = {}
    for name in DATA_FIELDS:
        model_field = Place._meta.get_field(name)
        default = model_field.get_default() if model_field.has_default() else ""
        if model_field.null and not model_field.has_default():
            default = None
        values[name] = record.get(name, default)
    values["latitude"] = _coordinate(values["latitude"])
    values["longitude"] = _coordinate(values["longitude"])
    return values


def check_record(code: str, values: dict) -> None:
    """Refuse records that would present a position more precisely than the sources allow."""
    has_point = values["latitude"] is not None
    confidence = values["coord_confidence"]
    if confidence == Place.CoordConfidence.NOT_FOUND and has_point:
        raise ValidationError(f"{code}: coord_confidence 'nf' must not carry coordinates")
    if confidence != Place.CoordConfidence.NOT_FOUND and not has_point:
        raise ValidationError(f"{code}: coord_confidence {confidence!r} needs coordinates")
    if confidence == Place.CoordConfidence.LOW and not values["coord_basis"]:
        raise ValidationError(f"{code}: a low-confidence point must say what it is a proxy for")
    allowed = COUNTRY_TIME_ZONES.get(values["country"])
    if not Place.valid_time_zone(values["time_zone"]) or (allowed and values["time_zone"] not in allowed):
        raise ValidationError(f"{code}: time zone {values['time_zone']!r} does not fit {values['country']}")


def _upsert(code: str, values: dict, result: LoadResult) -> None:
    place = Place.objects.filter(code=code).first()
    if place is None:
        place = Place(code=code, **values)
        place.full_clean()
        place.save()
        result.created.append(code)
        return
    changed = [name for name, value in values.items() if getattr(place, name) != value]
    if not changed:
        result.unchanged.append(code)
        return
    for name in changed:
        setattr(place, name, values[name])
    place.full_clean()
    place.save(update_fields=[*changed, "modified_at"])
    result.updated.append(code)


@transaction.atomic
def load_reference_places(path: Path = REFERENCE_FILE) -> LoadResult:
    """Create or update every reference place by code; all or nothing."""
    result = LoadResult()
    for record in read_reference(path):
        code = record["code"]
        values = normalise(record)
        check_record(code, values)
        _upsert(code, values, result)
    return result
