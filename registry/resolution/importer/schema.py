"""The import column schema (docs/import.md) and the cleaning of one row into service input.

Cleaning only parses and maps values; the rules (names, births, documents, groups) are the
registry services' own, so an imported row is checked exactly like a form."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from registry.vocabulary import BirthPrecision, DocumentKind, LegalBasis, Relationship

COLUMNS = (
    "given_names", "first_surname", "second_surname", "sex", "birth_date", "birth_year", "age", "nationality",
    "document_kind", "document_number", "document_country", "place_code", "registered_at", "group_key",
    "relationship", "legal_basis",
)
BIRTH_COLUMNS = ("birth_date", "birth_year", "age")
SEX = {
    "f": "f", "female": "f", "mujer": "f", "femenino": "f", "m": "m", "male": "m", "hombre": "m", "masculino": "m",
    "x": "x", "other": "x", "otro": "x", "u": "u", "": "u", "unknown": "u", "no recabado": "u",
}
# The vocabularies as tuples once: ``TextChoices.values`` builds a new list on every access.
DOCUMENT_KINDS, LEGAL_BASES, RELATIONSHIPS = tuple(DocumentKind.values), tuple(LegalBasis.values), tuple(Relationship.values)
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y")
DATETIME_FORMATS = ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S%z", "%Y-%m-%dT%H:%M%z", "%Y-%m-%d %H:%M:%S",
                    "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%d/%m/%Y %H:%M")


def normalise_header(header: list[str]) -> list[str]:
    return [str(h or "").strip().lstrip("\ufeff").strip().lower().replace(" ", "_") for h in header]


def check_header(header: list[str]) -> list[str]:
    """Raise for missing required columns or repeated columns; return warnings for unknown
    columns (they are ignored)."""
    missing = [c for c in ("given_names",) if c not in header]
    if not any(c in header for c in BIRTH_COLUMNS):
        missing.append(" | ".join(BIRTH_COLUMNS))
    if missing:
        raise ValidationError(_("Missing columns: %(cols)s."), code="missing_columns", params={"cols": ", ".join(missing)})
    repeated = sorted({h for h in header if h and header.count(h) > 1})
    if repeated:
        raise ValidationError(_("Repeated columns: %(cols)s."), code="repeated_columns", params={"cols": ", ".join(repeated)})
    unknown = [h for h in header if h and h not in COLUMNS]
    return [str(_("Unknown column ignored: %(col)s") % {"col": h[:40]}) for h in unknown]


@dataclass
class RowInput:
    """One row mapped to the services' input; ``errors`` maps a column to its message."""

    person: dict = field(default_factory=dict)
    place_code: str = ""
    registered_at: dt.datetime | None = None
    legal_basis: str = ""
    document: dict | None = None
    group_key: str = ""
    relationship: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValueError(value)


def _datetime(value, zone: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime.combine(value, dt.time(12))
    else:
        parsed = next((p for p in (_try(value, f) for f in DATETIME_FORMATS) if p), None)
        if parsed is None:
            raise ValueError(value)
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=zoneinfo.ZoneInfo(zone or "UTC"))
    return parsed


def _try(value: str, fmt: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, fmt)
    except ValueError:
        return None


def _birth(values: dict, row: RowInput) -> None:
    if values.get("birth_date"):
        try:
            row.person.update(birth_precision=BirthPrecision.EXACT, birth_date=_date(values["birth_date"]))
        except ValueError:
            row.errors["birth_date"] = str(_("Not a valid date (use YYYY-MM-DD or DD/MM/YYYY)."))
    elif values.get("birth_year"):
        _number(values, "birth_year", row, birth_precision=BirthPrecision.YEAR)
    elif values.get("age"):
        _number(values, "age", row, birth_precision=BirthPrecision.ESTIMATED)
    else:
        row.errors["birth_date"] = str(_("Give birth_date, birth_year or age."))


def _number(values: dict, name: str, row: RowInput, **extra) -> None:
    try:
        row.person.update({name: int(str(values[name]).strip()), **extra})
    except ValueError:
        row.errors[name] = str(_("Not a whole number."))


def _country(value: str, column: str, row: RowInput) -> str:
    code = countries.alpha2(str(value or "").strip()) if value else ""
    if value and not code:
        row.errors[column] = str(_("Unknown country code."))
    return code or ""


def _choice(value: str, choices, column: str, row: RowInput) -> str:
    value = str(value or "").strip().lower()
    if value and value not in choices:
        row.errors[column] = str(_("Not one of: %(values)s.") % {"values": ", ".join(choices)})
    return value


def _document(values: dict, row: RowInput) -> None:
    number = str(values.get("document_number") or "").strip()
    if not number:
        return
    kind = _choice(values.get("document_kind") or "other", DOCUMENT_KINDS, "document_kind", row)
    country = _country(values.get("document_country") or row.person.get("nationality", ""), "document_country", row)
    if not country:
        row.errors.setdefault("document_country", str(_("Give the issuing country of the document.")))
    row.document = {"kind": kind, "number": number, "issuing_country": country}


def clean_row(values: dict, *, default_place: str = "", default_legal_basis: str = "", zone: str = "UTC") -> RowInput:
    """Map one row (column -> raw value) to service input, collecting per-column errors."""
    row = RowInput()
    row.person = {k: str(values.get(k) or "").strip() for k in ("given_names", "first_surname", "second_surname")}
    sex = str(values.get("sex") or "").strip().lower()
    row.person["sex"] = SEX.get(sex, "")
    if sex not in SEX:
        row.errors["sex"] = str(_("Use f, m, x or u."))
    row.person["nationality"] = _country(values.get("nationality"), "nationality", row)
    _birth(values, row)
    _document(values, row)
    row.place_code = str(values.get("place_code") or default_place).strip()
    row.legal_basis = _choice(values.get("legal_basis") or default_legal_basis, LEGAL_BASES, "legal_basis", row)
    if not row.legal_basis:
        row.errors["legal_basis"] = str(_("Give the legal basis (column legal_basis or --legal-basis)."))
    row.group_key = str(values.get("group_key") or "").strip()
    row.relationship = _choice(values.get("relationship"), RELATIONSHIPS, "relationship", row)
    if row.group_key and not row.relationship:
        row.errors["relationship"] = str(_("Give the relationship to the head of the group."))
    if values.get("registered_at"):
        try:
            row.registered_at = _datetime(values["registered_at"], zone)
        except ValueError:
            row.errors["registered_at"] = str(_("Not a valid date and time."))
    return row
