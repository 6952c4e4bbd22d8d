"""Erasure: a person's personal data removed from every copy, a tombstone kept (DESIGN.md rule 6).

``erase_person`` runs in one transaction: either every copy is erased and the tombstone written,
or nothing changed. What goes:

* live tables: names, aliases, exact date of birth, languages, documents (rows deleted), the
  blind-index and blocking-key rows, free text of registrations, review steps, flags, referrals,
  visitor cards, duplicate pairs and merges; records merged into this one are erased with it;
* history tables (django-simple-history): every historical row of the person and of the rows
  that point at them; one new history row records the erased state;
* outbox payloads that mention the person: published ones are emptied, pending ones dropped
  (webhook notices excepted);
* idempotent API responses that mention the person, their pseudonyms or registrations;
* cached aggregates (the dashboard cache moves to a new generation) and stored report files
  whose period covers a day the person was registered or seen (runs deleted with their files).

What stays: the ``Person`` row as a tombstone (UUID, reference, status ``erased``, sex, birth
year and nationality for aggregate statistics), registrations' and events' places and times (no
hard deletes of events), the access log (ids only, append-only), partner pseudonyms (who was
told), and an ``ErasureRecord`` with the counts. Partners with webhooks that were shown the
person get a signed ``person.erased`` notice through the outbox.

Someone with an open protection referral is not erased: ``ErasureRefused`` carries the reason.

This module runs the erasure; each app erases its own rows. The apps above privacy's primitives
(registry, transit, reports, api) register an ``ErasurePart`` from their ``AppConfig.ready``
(``registry/erasure.py`` and its siblings): what they scrub from their live tables, which of
their history rows go, the tombstone, and the partners' notices. A new table that holds
personal data gets erased by adding it to its app's part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import structlog
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from privacy.models import ErasureRecord, OutboxMessage
from privacy.purge_path import purge_path
from privacy.rights.jsontext import mentions_any

logger = structlog.get_logger(__name__)

COUNT_LABELS = {
    "documents": _("identity documents deleted"),
    "name_terms": _("name search terms deleted"),
    "blocking_keys": _("duplicate-matching keys deleted"),
    "registrations": _("registrations cleared"),
    "vulnerabilities": _("protection flags cleared"),
    "referrals": _("referrals cleared"),
    "permits": _("visitor cards cleared"),
    "transit_events": _("movements kept without personal data"),
    "history_rows": _("history rows deleted"),
    "merged_records": _("merged records erased"),
    "outbox_messages": _("queued messages cleared"),
    "idempotent_responses": _("stored API responses deleted"),
    "report_runs": _("report runs deleted"),
}
WEBHOOK_TASK = "api.deliver_webhook"


@dataclass(frozen=True)
class ErasurePart:
    """What one app erases of a person; every hook is optional.

    * ``refuse(person)``: a reason not to erase now (nothing is changed), or None;
    * ``scrub(actor, person)``: personal data out of the app's live tables, counts by
      ``COUNT_LABELS`` key;
    * ``history(person)``: (historical model, lookup) pairs of the app's history rows about
      the person, deleted after every part has scrubbed;
    * ``finish(actor, person)``: after the history is gone (the registry writes the tombstone);
    * ``announce(person)``: last, in the same transaction (partners' notices, cache generations).
    """

    name: str
    refuse: Callable | None = None
    scrub: Callable[..., dict[str, int]] | None = None
    history: Callable[..., Iterable] | None = None
    finish: Callable | None = None
    announce: Callable | None = None


_PARTS: dict[str, ErasurePart] = {}


def register(part: ErasurePart) -> None:
    """Add (or replace, by name) an app's part; called from ``AppConfig.ready``."""
    _PARTS[part.name] = part


def parts() -> list[ErasurePart]:
    return list(_PARTS.values())


class ErasureError(Exception):
    """The erasure cannot be done; nothing was changed. ``str()`` is a user-facing reason."""


class ErasureRefused(ErasureError):
    """Refused by a rule (an open protection referral); the request is escalated."""


def open_referrals(person):
    """The person's open protection referrals (the registry's rule for refusing an erasure)."""
    from registry.erasure import open_referrals as registry_open_referrals

    return registry_open_referrals(person)


def check_erasable(person) -> None:
    """Raise ``ErasureError`` / ``ErasureRefused`` with the reason if ``person`` cannot be erased."""
    if person.status == "erased":
        raise ErasureError(_("This person's data has already been erased."))
    for part in parts():
        reason = part.refuse(person) if part.refuse else None
        if reason:
            raise ErasureRefused(reason)


@transaction.atomic
def erase_person(actor, person, *, reason: str, request=None) -> ErasureRecord:
    """Erase ``person`` everywhere (see the module docstring); returns the tombstone record."""
    from registry.models import Person

    person = Person.objects.select_for_update().get(pk=person.pk)
    check_erasable(person)
    with purge_path():
        counts = _erase_one(actor, person)
        merged_records = list(
            Person.objects.select_for_update().filter(merged_into=person).exclude(status="erased")
        )
        for merged in merged_records:
            sub = _erase_one(actor, merged)
            counts["merged_records"] = counts.get("merged_records", 0) + 1
            for key, value in sub.items():
                counts[key] = counts.get(key, 0) + value
        counts["outbox_messages"] = _erase_outbox(person)
    for each in (person, *merged_records):
        for part in parts():
            if part.announce:
                part.announce(each)
    record = ErasureRecord.objects.create(
        person=person,
        request=request,
        reason=reason[:40],
        erased_by=actor if getattr(actor, "pk", None) else None,
        counts=counts,
    )
    logger.info(
        "privacy.person_erased", person_id=str(person.pk), reason=reason[:40], counts=counts
    )
    return record


def _erase_one(actor, person) -> dict[str, int]:
    """Personal data of one person out of every part's live and history tables; returns counts."""
    counts: dict[str, int] = {}
    for part in parts():
        for key, value in (part.scrub(actor, person) if part.scrub else {}).items():
            counts[key] = counts.get(key, 0) + value
    counts["history_rows"] = sum(
        model.objects.filter(**lookup).delete()[0]
        for part in parts() if part.history for model, lookup in part.history(person)
    )
    for part in parts():
        if part.finish:
            part.finish(actor, person)
    return counts


def _erase_outbox(person) -> int:
    """Empty published payloads that mention the person; drop pending ones (not webhooks)."""
    mentioning = mentions_any(OutboxMessage.objects.all(), "kwargs", [str(person.pk)])
    dropped = (
        mentioning.filter(published_at__isnull=True).exclude(task_name=WEBHOOK_TASK).delete()[0]
    )
    emptied = mentioning.filter(published_at__isnull=False).update(kwargs={})
    return dropped + emptied
