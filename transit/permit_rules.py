"""The rules of each visitor card, as data in one place (Ley de Migración and its Reglamento).

* **TVR** (Tarjeta de Visitante Regional): Guatemalan and Belizean nationals; the border states
  Chiapas, Tabasco, Campeche and Quintana Roo; stays of up to 7 days per entry.
* **TVTF** (Tarjeta de Visitante Trabajador Fronterizo): Guatemalan and Belizean nationals working
  in the border states; valid up to one year; the stay lasts as long as the card.
* **TVRH** (Tarjeta de Visitante por Razones Humanitarias): any nationality; one year; any state.

Services, forms, the card and the overstay query read this table; nothing else encodes a rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

BORDER_STATES = ("MX-CHP", "MX-TAB", "MX-CAM", "MX-ROO")
ALL_STATES = (
    "MX-AGU", "MX-BCN", "MX-BCS", "MX-CAM", "MX-CHH", "MX-CHP", "MX-CMX", "MX-COA", "MX-COL",
    "MX-DUR", "MX-GRO", "MX-GUA", "MX-HID", "MX-JAL", "MX-MEX", "MX-MIC", "MX-MOR", "MX-NAY",
    "MX-NLE", "MX-OAX", "MX-PUE", "MX-QUE", "MX-ROO", "MX-SIN", "MX-SLP", "MX-SON", "MX-TAB",
    "MX-TAM", "MX-TLA", "MX-VER", "MX-YUC", "MX-ZAC",
)


class PermitKind(models.TextChoices):
    TVR = "tvr", _("Regional visitor card (TVR)")
    TVTF = "tvtf", _("Border worker card (TVTF)")
    TVRH = "tvrh", _("Humanitarian visitor card (TVRH)")


@dataclass(frozen=True)
class PermitRule:
    """What one kind of card allows."""

    code: str
    nationalities: tuple[str, ...] | None  # None: any nationality
    states: tuple[str, ...]
    max_validity_days: int
    stay_per_entry_days: int | None  # None: the stay lasts until the card expires
    number_prefix: str


PERMIT_RULES: dict[str, PermitRule] = {
    PermitKind.TVR: PermitRule("TVR", ("GT", "BZ"), BORDER_STATES, 5 * 365, 7, "TVR"),
    PermitKind.TVTF: PermitRule("TVTF", ("GT", "BZ"), BORDER_STATES, 365, None, "TVTF"),
    PermitKind.TVRH: PermitRule("TVRH", None, ALL_STATES, 365, None, "TVRH"),
}


def rule_for(kind: str) -> PermitRule:
    """The rule of a permit kind (KeyError for an unknown kind: callers validate first)."""
    return PERMIT_RULES[PermitKind(kind)]


def stay_days_by_kind() -> dict[str, int | None]:
    """Authorised stay per entry, in days, for each kind (used to build SQL CASE expressions)."""
    return {kind.value: rule.stay_per_entry_days for kind, rule in ((PermitKind(k), r) for k, r in PERMIT_RULES.items())}
