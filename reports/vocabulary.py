"""Report vocabulary: age brackets, sexes, measure groups and their HXL hashtags.

Age brackets follow REFERENCE_DATA.md d5 (the Primero scheme also used by head counts):
0–4, 5–11, 12–17, 18–59, 60+. HXL (d3): sex ``+f`` / ``+m`` / ``+i``; broad age attributes
``+infants`` / ``+children`` / ``+adolescents`` / ``+adults`` / ``+elderly`` always together
with the custom range (``+age_0_4``...); ``+total`` for totals; ``+unknown`` is our attribute
for people whose sex or age was not recorded.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from registry.vocabulary import (
    ReferralService,
    ReferralStatus,
    RegistrationStatus,
    VulnerabilityKind,
)
from transit.overstays import OVERSTAY_LABELS

BRACKETS = ("0_4", "5_11", "12_17", "18_59", "60")
BRACKET_LABELS = {
    "0_4": _("0–4"), "5_11": _("5–11"), "12_17": _("12–17"), "18_59": _("18–59"), "60": _("60+"),
    "unknown": _("Age not recorded"),
}
BRACKET_HXL = {
    "0_4": "+infants+age_0_4", "5_11": "+children+age_5_11", "12_17": "+adolescents+age_12_17",
    "18_59": "+adults+age_18_59", "60": "+elderly+age_60_plus",
}
CHILD_BRACKETS = ("0_4", "5_11", "12_17")
ADULT_BRACKETS = ("18_59", "60")

# Sexes as reports show them: head counts record f / m / x, people also "u" (not collected).
SEXES = ("f", "m", "x")
SEX_LABELS = {"f": _("Female"), "m": _("Male"), "x": _("Other"), "u": _("Not recorded")}
SEX_HXL = {"f": "+f", "m": "+m", "x": "+i"}

NO_VULNERABILITY = "none"
VULNERABILITY_NOT_RECORDED = "not_recorded"
VULNERABILITY_LABELS = {
    **dict(VulnerabilityKind.choices),
    NO_VULNERABILITY: _("None recorded"),
    VULNERABILITY_NOT_RECORDED: _("Not recorded (head count)"),
}

DIRECTION_LABELS = {"north": _("Northbound"), "south": _("Southbound"), "": _("Not recorded")}
REGISTRATION_STATUS_LABELS = dict(RegistrationStatus.choices)
REFERRAL_SERVICE_LABELS = dict(ReferralService.choices)
REFERRAL_STATUS_LABELS = dict(ReferralStatus.choices)
OVERSTAY_KIND_LABELS = dict(OVERSTAY_LABELS)
ALL_PLACES = "*"
ALL_PLACES_LABEL = _("All places")
