"""Checking a card token: offline (signature and dates only) and online (plus the permit's
current status in the registry). The answer is one of ``CardCheck``'s values; bad input of
any kind is ``forged``, never an exception."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from registry.resolution import merge
from transit import cards
from transit.models import Permit, PermitStatus


class CardCheck(models.TextChoices):
    VALID = "valid", pgettext_lazy("card status", "Valid")
    EXPIRED = "expired", pgettext_lazy("card status", "Expired")
    NOT_YET_VALID = "not_yet_valid", _("Not yet valid")
    SUSPENDED = "suspended", pgettext_lazy("card status", "Suspended")
    REVOKED = "revoked", pgettext_lazy("card status", "Revoked")
    FORGED = "forged", _("Not a genuine card")


@dataclass(frozen=True)
class CheckResult:
    outcome: str
    claims: cards.CardClaims | None = None

    @property
    def label(self) -> str:
        return CardCheck(self.outcome).label


def _by_dates(claims: cards.CardClaims, today: dt.date) -> str:
    if today < claims.valid_from:
        return CardCheck.NOT_YET_VALID
    if today > claims.valid_until:
        return CardCheck.EXPIRED
    return CardCheck.VALID


def check_offline(token: str, key=None, today: dt.date | None = None) -> CheckResult:
    """Signature and validity dates only: what a checkpoint without a connection can know."""
    claims = cards.read_token(token, key)
    if claims is None:
        return CheckResult(CardCheck.FORGED)
    return CheckResult(_by_dates(claims, today or timezone.localdate()), claims)


def _matches(permit: Permit, claims: cards.CardClaims) -> bool:
    """The signed content matches the permit. A card printed before its holder's record was
    merged names the old reference; it stays genuine (the permit moved to the survivor)."""
    same_terms = (
        permit.kind == claims.kind
        and permit.valid_from == claims.valid_from and permit.valid_until == claims.valid_until
    )
    return same_terms and (
        permit.person.reference == claims.reference or claims.reference in merge.references_of(permit.person)
    )


def check_online(token: str, today: dt.date | None = None) -> CheckResult:
    """Offline check plus the registry's record: revoked and suspended cards, and tokens whose
    content no longer matches the permit (a signature over stale data) are caught."""
    result = check_offline(token, today=today)
    if result.claims is None:
        return result
    permit = Permit.objects.select_related("person").filter(number=result.claims.number).first()
    if permit is None or not _matches(permit, result.claims):
        return CheckResult(CardCheck.FORGED)
    if permit.status == PermitStatus.REVOKED:
        return CheckResult(CardCheck.REVOKED, result.claims)
    if permit.status == PermitStatus.SUSPENDED:
        return CheckResult(CardCheck.SUSPENDED, result.claims)
    return result
