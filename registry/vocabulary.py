"""Controlled vocabularies of the registry, kept as data in one place.

Vulnerability terms follow REFERENCE_DATA.md d4 (our synthesis of UNHCR specific-needs codes,
Primero and HOPE). Each term names the UNHCR specific-needs *code family* it belongs to; the
individual codes the family contains are listed where the reference lists them. The labels of
individual UNHCR codes were not in our sources, so only families are asserted here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")
    OTHER = "x", _("Other")
    NOT_COLLECTED = "u", _("Not collected")


class BirthPrecision(models.TextChoices):
    EXACT = "exact", _("Exact date")
    YEAR = "year", _("Year only")
    ESTIMATED = "estimated", _("Estimated from age")


class PersonStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    MERGED = "merged", _("Merged into another record")
    ERASED = "erased", _("Erased")


class DocumentKind(models.TextChoices):
    PASSPORT = "passport", _("Passport")
    NATIONAL_ID = "national_id", _("National identity card")
    DPI = "dpi", _("Guatemalan DPI (CUI)")
    CURP = "curp", _("Mexican CURP")
    BIRTH_CERTIFICATE = "birth_certificate", _("Birth certificate")
    CONSULAR_ID = "consular_id", _("Consular identity card")
    OTHER = "other", _("Other document")


class DocumentStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    SUPERSEDED = "superseded", _("Superseded")
    REPORTED_LOST = "lost", _("Reported lost or stolen")


class Relationship(models.TextChoices):
    """A member's relationship to the head of the travel group."""

    HEAD = "head", _("Head of group")
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Son or daughter")
    PARENT = "parent", _("Mother or father")
    SIBLING = "sibling", _("Brother or sister")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    UNRELATED = "unrelated", _("Unrelated adult")


class ChildProtection(models.TextChoices):
    ACCOMPANIED = "accompanied", _("Accompanied child")
    SEPARATED = "separated", _("Separated child")
    UNACCOMPANIED = "unaccompanied", _("Unaccompanied child")


class Purpose(models.TextChoices):
    TRANSIT = "transit", _("Transit to another country")
    ASYLUM = "asylum", _("Seeking asylum or refuge")
    WORK = "work", _("Work")
    FAMILY = "family", _("Family reunification")
    VISIT = "visit", _("Visit or tourism")
    TRADE = "trade", _("Trade")
    HEALTH = "health", _("Health care")
    OTHER = "other", _("Other")


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent of the person")
    VITAL_INTEREST = "vital_interest", _("Vital interest of the person")
    PUBLIC_INTEREST = "public_interest", _("Public interest (legal mandate)")
    LEGAL_OBLIGATION = "legal_obligation", _("Legal obligation")


class ConsentPurpose(models.TextChoices):
    """What a person may consent to, separately (DP-1)."""

    PROTECTION_REFERRAL = "protection_referral", _("Referral to protection services")
    PARTNER_SHARING = "partner_sharing", _("Sharing with partner agencies")
    FAMILY_TRACING = "family_tracing", _("Family tracing")


class RegistrationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for review")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    NEEDS_CORRECTION = "needs_correction", _("Needs correction")


class VulnerabilityKind(models.TextChoices):
    UNACCOMPANIED_CHILD = "unaccompanied_child", _("Unaccompanied child")
    SEPARATED_CHILD = "separated_child", _("Separated child")
    TRAFFICKING = "trafficking", _("Suspected victim of trafficking")
    EXTORTION_KIDNAPPING = "extortion_kidnapping", _("Victim of extortion or kidnapping")
    PREGNANT_LACTATING = "pregnant_lactating", _("Pregnant or lactating")
    DISABILITY = "disability", _("Disability")
    SERIOUS_MEDICAL = "serious_medical", _("Serious medical condition (incl. train injury)")
    OLDER_PERSON = "older_person", _("Older person at risk")
    SINGLE_CAREGIVER = "single_caregiver", _("Single caregiver")
    GBV_SURVIVOR = "gbv_survivor", _("Survivor of gender-based violence")
    LGBTIQ_AT_RISK = "lgbtiq_at_risk", _("LGBTIQ+ person at risk")
    TORTURE_SURVIVOR = "torture_survivor", _("Survivor of torture or violence")
    FAMILY_TRACING = "family_tracing", _("Family tracing need")


@dataclass(frozen=True)
class NeedsCode:
    family: str
    codes: tuple[str, ...] = ()


# UNHCR specific-needs code family per term (REFERENCE_DATA.md d4).
UNHCR_CODES: dict[str, NeedsCode] = {
    VulnerabilityKind.UNACCOMPANIED_CHILD: NeedsCode("UC"),
    VulnerabilityKind.SEPARATED_CHILD: NeedsCode("UC"),
    VulnerabilityKind.TRAFFICKING: NeedsCode("LP"),
    VulnerabilityKind.EXTORTION_KIDNAPPING: NeedsCode("LP"),
    VulnerabilityKind.PREGNANT_LACTATING: NeedsCode("PG"),
    VulnerabilityKind.DISABILITY: NeedsCode("DS", ("DS-BD", "DS-DF", "DS-PM", "DS-PS", "DS-MM", "DS-MS", "DS-SD")),
    VulnerabilityKind.SERIOUS_MEDICAL: NeedsCode("SM", ("SM-MI", "SM-MN", "SM-CI", "SM-CC", "SM-OT")),
    VulnerabilityKind.OLDER_PERSON: NeedsCode("ER"),
    VulnerabilityKind.SINGLE_CAREGIVER: NeedsCode("SP"),
    VulnerabilityKind.GBV_SURVIVOR: NeedsCode("SV", ("SV-VA",)),
    VulnerabilityKind.LGBTIQ_AT_RISK: NeedsCode("LP"),
    VulnerabilityKind.TORTURE_SURVIVOR: NeedsCode("TR", ("TR-PI", "TR-HO", "TR-WV")),
    VulnerabilityKind.FAMILY_TRACING: NeedsCode("FU", ("FU-TR", "FU-FR")),
}

CHILD_PROTECTION_KINDS = {
    ChildProtection.UNACCOMPANIED: VulnerabilityKind.UNACCOMPANIED_CHILD,
    ChildProtection.SEPARATED: VulnerabilityKind.SEPARATED_CHILD,
}


class ReferralService(models.TextChoices):
    SHELTER = "shelter", _("Shelter")
    MEDICAL = "medical", _("Medical care")
    LEGAL = "legal", _("Legal aid")
    ASYLUM = "asylum", _("Asylum procedure")
    CHILD_PROTECTION = "child_protection", _("Child protection")
    PSYCHOSOCIAL = "psychosocial", _("Psychosocial support")
    FAMILY_TRACING = "family_tracing", _("Family tracing")
    ANTI_TRAFFICKING = "anti_trafficking", _("Anti-trafficking unit")


class ReferralStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    ACCEPTED = "accepted", _("Accepted")
    DECLINED = "declined", _("Declined")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class DuplicateStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    SAME_PERSON = "same", _("Same person")
    DIFFERENT_PEOPLE = "different", _("Different people")


# ISO 639-3 codes offered first: Spanish, English, Portuguese, French, Haitian Creole and the
# Mayan languages most heard on the corridor. Any valid ISO 639-3 code is accepted.
COMMON_LANGUAGES: dict[str, str] = {
    "spa": "Español",
    "eng": "English",
    "hat": "Kreyòl ayisyen",
    "fra": "Français",
    "por": "Português",
    "mam": "Mam",
    "quc": "K'iche'",
    "kek": "Q'eqchi'",
    "cak": "Kaqchikel",
    "tzo": "Tsotsil",
    "tzh": "Tseltal",
    "kjb": "Q'anjob'al",
    "jac": "Popti' (Jakalteko)",
    "ixl": "Ixil",
    "poh": "Poqomchi'",
    "cab": "Garifuna",
}

ADULT_AGE = 18
