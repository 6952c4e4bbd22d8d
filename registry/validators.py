"""Validators for identity data: names, ICAO 9303 MRZ, Mexican CURP, Guatemalan CUI (DPI).

Pure functions with no database access. Each raises ``django.core.exceptions.ValidationError``
with a translatable message and a stable ``code`` so forms and the API report the same reason.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.mx import curp as stdnum_curp

# --- Names -----------------------------------------------------------------------------------

# Bidirectional overrides/isolates, zero-width characters and the BOM can make a name display
# differently from what is stored (spoofing in lists and exports): refused, not stripped.
_FORBIDDEN_CHARS = {
    *[chr(c) for c in range(0x202A, 0x202F)],  # LRE RLE PDF LRO RLO
    *[chr(c) for c in range(0x2066, 0x206A)],  # LRI RLI FSI PDI
    "\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff",
}
_MAX_COMBINING_RUN = 3
_ALLOWED_PUNCTUATION = set(" '’-.")


def clean_name(value: str, *, max_length: int = 100) -> str:
    """Return the name in NFC with spaces collapsed, or raise ValidationError.

    Accepts what real people are called: single names, apostrophes (K'iche' B'alam, O'Hara),
    particles ("de la Cruz"), ñ, hyphens, letters of any script. Refuses control characters,
    bidi overrides, zero-width characters, digits and symbols, stacks of combining marks
    ("Zalgo") and names that mix Latin with Cyrillic or Greek look-alikes.
    """
    if any(ch in _FORBIDDEN_CHARS for ch in value):
        raise ValidationError(_("The name contains invisible or direction-changing characters."), code="invisible")
    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise ValidationError(_("The name contains control characters."), code="control")
    name = " ".join(unicodedata.normalize("NFC", value).split())
    if len(name) > max_length:
        raise ValidationError(
            _("The name is too long (at most %(max)d characters)."), code="max_length", params={"max": max_length}
        )
    _check_name_characters(name)
    return name


def _check_name_characters(name: str) -> None:
    combining_run = 0
    for ch in unicodedata.normalize("NFD", name):  # count marks decomposed, as a reader sees them
        combining_run = combining_run + 1 if unicodedata.category(ch).startswith("M") else 0
        if combining_run > _MAX_COMBINING_RUN:
            raise ValidationError(_("The name has too many accent marks on one letter."), code="combining")
    scripts: set[str] = set()
    for ch in name:
        category = unicodedata.category(ch)
        if category.startswith("M") or ch in _ALLOWED_PUNCTUATION:
            continue
        if not category.startswith("L"):
            raise ValidationError(
                _("Names may contain letters, spaces, apostrophes, hyphens and dots only."), code="characters"
            )
        scripts.add(unicodedata.name(ch, "UNKNOWN").split(" ")[0])
    if "LATIN" in scripts and scripts & {"CYRILLIC", "GREEK"}:
        raise ValidationError(_("The name mixes Latin letters with look-alike letters of another alphabet."), code="mixed_script")


# --- ICAO 9303 machine-readable zone ---------------------------------------------------------


def mrz_check_digit(data: str) -> str:
    """ICAO 9303 check digit: weights 7-3-1; 0-9 as themselves, A-Z as 10-35, '<' as 0."""
    total = 0
    for i, ch in enumerate(data):
        if ch.isdigit():
            value = int(ch)
        elif "A" <= ch <= "Z":
            value = ord(ch) - 55
        elif ch == "<":
            value = 0
        else:
            raise ValidationError(_("Invalid MRZ character %(char)r."), code="mrz_charset", params={"char": ch})
        total += value * (7, 3, 1)[i % 3]
    return str(total % 10)


@dataclass
class MRZ:
    """A parsed machine-readable zone, with the result of every check digit kept apart."""

    format: str
    document_type: str
    issuing_state: str
    document_number: str
    nationality: str
    birth_date: str  # YYMMDD as printed
    sex: str
    expiry_date: str  # YYMMDD
    surnames: str
    given_names: str
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return all(self.checks.values())

    def expiry(self) -> dt.date | None:
        return _mrz_date(self.expiry_date, future=True)

    def birth(self) -> dt.date | None:
        return _mrz_date(self.birth_date, future=False)


_LAYOUTS = {(2, 44): "TD3", (2, 36): "TD2", (3, 30): "TD1"}
_MRZ_LINE = re.compile(r"^[A-Z0-9<]+$")


def parse_mrz(text: str) -> MRZ:
    """Parse a TD1, TD2 or TD3 MRZ (lines separated by newlines) and verify every check digit.

    Raises ValidationError for a wrong shape or character set. Check-digit failures do not raise
    here: they are recorded per field in ``MRZ.checks``; ``validate_mrz`` raises on them.
    """
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    fmt = _LAYOUTS.get((len(lines), len(lines[0]) if lines else 0))
    if fmt is None or len({len(line) for line in lines}) != 1:
        raise ValidationError(
            _("An MRZ has 2 lines of 44 (passport), 2 of 36, or 3 of 30 characters."), code="mrz_shape"
        )
    for line in lines:
        if not _MRZ_LINE.match(line):
            raise ValidationError(
                _("An MRZ contains only capital letters, digits and '<'."), code="mrz_charset"
            )
    return _parse_td1(lines) if fmt == "TD1" else _parse_td23(lines, fmt)


def _names(field_text: str) -> tuple[str, str]:
    surnames, _sep, given = field_text.partition("<<")
    return surnames.replace("<", " ").strip(), given.replace("<", " ").strip()


def _parse_td23(lines: list[str], fmt: str) -> MRZ:
    l1, l2 = lines
    end = len(l2) - 1  # composite digit position
    surnames, given = _names(l1[5:])
    checks = {
        "document_number": mrz_check_digit(l2[0:9]) == l2[9],
        "birth_date": mrz_check_digit(l2[13:19]) == l2[19],
        "expiry_date": mrz_check_digit(l2[21:27]) == l2[27],
    }
    if fmt == "TD3":
        optional = l2[28:42]
        checks["optional_data"] = optional.strip("<") == "" and l2[42] in "<0" or mrz_check_digit(optional) == l2[42]
    checks["composite"] = mrz_check_digit(l2[0:10] + l2[13:20] + l2[21:end]) == l2[end]
    return MRZ(
        format=fmt, document_type=l1[0:2].strip("<"), issuing_state=l1[2:5].strip("<"),
        document_number=l2[0:9].strip("<"), nationality=l2[10:13].strip("<"), birth_date=l2[13:19],
        sex=l2[20], expiry_date=l2[21:27], surnames=surnames, given_names=given, checks=checks,
    )


def _parse_td1(lines: list[str]) -> MRZ:
    l1, l2, l3 = lines
    surnames, given = _names(l3)
    checks = {
        "document_number": mrz_check_digit(l1[5:14]) == l1[14],
        "birth_date": mrz_check_digit(l2[0:6]) == l2[6],
        "expiry_date": mrz_check_digit(l2[8:14]) == l2[14],
        "composite": mrz_check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]) == l2[29],
    }
    return MRZ(
        format="TD1", document_type=l1[0:2].strip("<"), issuing_state=l1[2:5].strip("<"),
        document_number=l1[5:14].strip("<"), nationality=l2[15:18].strip("<"), birth_date=l2[0:6],
        sex=l2[7], expiry_date=l2[8:14], surnames=surnames, given_names=given, checks=checks,
    )


def validate_mrz(text: str) -> MRZ:
    """Parse and require every check digit to be right; the error names the failing fields."""
    mrz = parse_mrz(text)
    failed = [name for name, ok in mrz.checks.items() if not ok]
    if failed:
        raise ValidationError(
            _("MRZ check digit wrong for: %(fields)s."), code="mrz_check_digit", params={"fields": ", ".join(failed)}
        )
    return mrz


def _mrz_date(yymmdd: str, *, future: bool) -> dt.date | None:
    if not yymmdd.isdigit():
        return None
    yy, mm, dd = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:])
    this_year = dt.date.today().year % 100
    # Expiry dates lie in this century; birth dates after this year's two digits are last century.
    century = 2000 if future or yy <= this_year else 1900
    try:
        return dt.date(century + yy, mm, dd)
    except ValueError:
        return None


# --- National identity numbers ---------------------------------------------------------------


def validate_curp(value: str) -> str:
    """Mexican CURP, checked with python-stdnum (format, date, state and check digit)."""
    try:
        return stdnum_curp.validate(value)
    except StdnumError as exc:
        raise ValidationError(_("This CURP is not valid (check the letters and the last digit)."), code="curp") from exc


# Municipalities per department (1 Guatemala ... 22 Jutiapa), as used by RENAP's CUI numbering.
_GT_MUNICIPALITIES = (17, 8, 16, 16, 13, 14, 19, 8, 24, 21, 9, 30, 32, 21, 8, 17, 14, 5, 11, 11, 7, 17)


def validate_cui(value: str) -> str:
    """Guatemalan CUI (on the DPI): 8 digits, a verifier digit (mod 11), department, municipality."""
    cui = re.sub(r"[\s-]", "", value)
    if not re.fullmatch(r"\d{13}", cui):
        raise ValidationError(_("A CUI has 13 digits."), code="cui_format")
    number, verifier = cui[:8], int(cui[8])
    department, municipality = int(cui[9:11]), int(cui[11:13])
    if not 1 <= department <= len(_GT_MUNICIPALITIES) or not 1 <= municipality <= _GT_MUNICIPALITIES[department - 1]:
        raise ValidationError(_("The CUI's department or municipality code does not exist."), code="cui_place")
    if sum(int(d) * (i + 2) for i, d in enumerate(number)) % 11 != verifier:
        raise ValidationError(_("The CUI's verifier digit is wrong."), code="cui_check_digit")
    return cui
