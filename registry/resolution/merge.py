"""Adjudication of duplicate pairs, merge and unmerge (the services behind the supervisors'
queue; ``registry.services`` exposes them as thin wrappers).

No merge is ever automatic: ``decide`` (a supervisor's answer on a queued pair) and
``merge_people`` need ``registry.merge_person`` and a reason. A merged record stays as a
tombstone (status ``merged``, ``merged_into`` the survivor): ``survivor_of`` and
``references_of`` make old links, receipts and cards resolve. ``unmerge_people`` undoes a merge
within ``MERGE_UNDO_DAYS``.

Every table that points at a person registers here as a *merge participant*. Registry registers
its own tables below; apps above the registry (transit: events and permits) register theirs from
their ``AppConfig.ready`` (``transit/merge.py``), so the registry never imports them. A merge
moves each participant's rows from the merged record to the survivor, row by row with history
(who, why), and returns the moved ids per table; ``MergeRecord.moved`` keeps them so an unmerge
puts exactly those rows back. ``person_merged`` / ``person_unmerged`` signals fire after the
rows moved, inside the transaction, for anything else that must follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.permissions import require_perm
from privacy import outbox
from privacy.access_log import log_access
from privacy.history import save_with_history
from registry.models import (
    DuplicateCandidate,
    GroupMembership,
    IdentityDocument,
    MergeRecord,
    Person,
    Referral,
    Registration,
    Vulnerability,
)
from registry.vocabulary import DocumentKind, DocumentStatus, DuplicateStatus, PersonStatus

person_merged = Signal()  # kwargs: survivor, merged, record, actor
person_unmerged = Signal()  # kwargs: survivor, merged, record, actor
# Sent by the outbox consumers after commit (sender = task name; kwargs: merge_id, survivor_id,
# merged_id): where partner webhooks attach.
partner_event = Signal()


@dataclass(frozen=True)
class Participant:
    """A model whose ``field`` points at a person; ``blocked(row, survivor)`` says a row cannot
    move (it would break a constraint) and stays with the tombstone."""

    label: str
    model: type
    field: str = "person"
    blocked: Callable | None = None


_PARTICIPANTS: dict[str, Participant] = {}


def register(model, field: str = "person", *, blocked: Callable | None = None) -> Participant:
    """Register a table whose rows follow a person into a merge (idempotent per model)."""
    participant = Participant(model._meta.label_lower, model, field, blocked)
    _PARTICIPANTS[participant.label] = participant
    return participant


_CHECKS: list[Callable] = []


def register_check(check: Callable) -> None:
    """``check(a, b)`` returns what a supervisor must read before merging people ``a`` and ``b``
    (translated sentences); apps above the registry register theirs (transit: visitor cards)."""
    if check not in _CHECKS:
        _CHECKS.append(check)


def warnings(a: Person, b: Person) -> list[str]:
    """Every registered check's warnings for merging ``a`` and ``b`` (nothing is refused)."""
    return [text for check in _CHECKS for text in check(a, b)]


def participants() -> list[Participant]:
    return list(_PARTICIPANTS.values())


def lock_people(*pks) -> dict:
    """Lock the people's rows one by one in a stable order (pk): two merges of overlapping
    pairs wait for each other instead of deadlocking."""
    return {pk: Person.objects.select_for_update().get(pk=pk) for pk in sorted(pks)}


def _save(row, actor, reason: str) -> None:
    row._history_user = actor
    row._change_reason = reason
    row.save()


def move_rows(participant: Participant, source, target, actor, reason: str) -> list[str]:
    """Point the participant's rows of ``source`` at ``target``; returns the moved ids."""
    moved = []
    rows = (
        participant.model.objects.select_for_update()
        .filter(**{participant.field: source})
        .order_by("pk")
    )
    for row in rows:
        if participant.blocked is not None and participant.blocked(row, target):
            continue
        setattr(row, participant.field, target)
        _save(row, actor, reason)
        moved.append(str(row.pk))
    return moved


def restore_rows(participant: Participant, ids, source, target, actor, reason: str) -> int:
    """Move the rows with ``ids`` that still point at ``source`` back to ``target``."""
    rows = participant.model.objects.select_for_update().filter(
        pk__in=ids, **{participant.field: source}
    )
    count = 0
    for row in rows.order_by("pk"):
        setattr(row, participant.field, target)
        _save(row, actor, reason)
        count += 1
    return count


def _already_in_group(membership: GroupMembership, survivor) -> bool:
    return GroupMembership.objects.filter(group_id=membership.group_id, person=survivor).exists()


def duplicate_flags(survivor, merged) -> list[Vulnerability]:
    """Active flags of the merged record whose kind is already active on the survivor (one
    active flag per kind): they are deactivated before moving, and reactivated by an unmerge."""
    kinds = Vulnerability.objects.filter(person=survivor, is_active=True).values("kind")
    return list(
        Vulnerability.objects.select_for_update().filter(
            person=merged, is_active=True, kind__in=kinds
        )
    )


def _open_request_on_survivor(request, survivor) -> bool:
    """One open rights request per person and right: the merged record's stays with it (the
    survivor's answers the person); closed requests always move."""
    from privacy.models import OPEN_STATUSES, RightsRequest

    return (
        request.status in OPEN_STATUSES
        and RightsRequest.objects.filter(
            person=survivor, right=request.right, status__in=OPEN_STATUSES
        ).exists()
    )


def _register_privacy() -> None:
    from privacy.models import RightsRequest  # privacy sits below registry: no layering issue

    register(RightsRequest, blocked=_open_request_on_survivor)


def documents_of_both(a: Person, b: Person) -> list[str]:
    """Both records hold a valid document of one kind and issuing country; their numbers
    differ (a valid number is unique), and one person rarely holds two: they may be two people
    (a CURP or a CUI is for life), or one document was renewed and the old one never marked."""
    from django_countries import countries

    both = (IdentityDocument.objects.filter(person__in=[a, b], status=DocumentStatus.VALID)
            .values("kind", "issuing_country").annotate(holders=Count("person", distinct=True))
            .filter(holders=2).order_by("kind", "issuing_country"))
    return [
        _("Both records hold a valid document “%(kind)s” issued by %(country)s, with different numbers. One "
          "person rarely holds two: make sure they are the same person; if so, mark the outdated one as "
          "“%(superseded)s” after the merge.") % {
            "kind": DocumentKind(row["kind"]).label, "country": countries.name(row["issuing_country"]),
            "superseded": DocumentStatus.SUPERSEDED.label}
        for row in both
    ]


register(Registration)
register(IdentityDocument)
register(Vulnerability)
register(Referral)
register(GroupMembership, blocked=_already_in_group)
_register_privacy()
register_check(documents_of_both)


# --- what stays with the tombstone --------------------------------------------------------------

# Tables pointing at a person whose rows deliberately do NOT move in a merge, and why. Together
# with the participants above this must account for every foreign key to Person in every app:
# ``unaccounted_person_links()`` lists any that is neither (tests/registry/test_merge.py fails on
# it), so a new table cannot be forgotten.
KEPT_WITH_RECORD = {
    ("registry.person", "merged_into"): "the tombstone's pointer to its survivor",
    ("registry.personnameterm", "person"): "search index: rebuilt for both records by the merge",
    (
        "registry.personblockingkey",
        "person",
    ): "blocking index: rebuilt for both records by the merge",
    (
        "registry.duplicatecandidate",
        "person_a",
    ): "the decision on the pair is the memory of the merge",
    (
        "registry.duplicatecandidate",
        "person_b",
    ): "the decision on the pair is the memory of the merge",
    ("registry.mergerecord", "survivor"): "the audit record of the merge itself",
    ("registry.mergerecord", "merged"): "the audit record of the merge itself",
    (
        "accounts.partnerpseudonym",
        "person",
    ): "a partner keeps the pseudonym it was shown; sync reports it as a tombstone",
    (
        "privacy.erasurerecord",
        "person",
    ): "only erased records have one, and erased records are never merged",
}


def person_links() -> list[tuple[str, str]]:
    """Every (model label, field) that is a foreign key or one-to-one to Person, in every
    installed app (history tables excluded: they record the past as it was)."""
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    links = []
    for model in apps.get_models():
        if issubclass(model, HistoricalChanges):
            continue
        for field in model._meta.get_fields():
            is_link = getattr(field, "many_to_one", False) or getattr(field, "one_to_one", False)
            if is_link and field.concrete and field.related_model is Person:
                links.append((model._meta.label_lower, field.name))
    return sorted(links)


def unaccounted_person_links() -> list[tuple[str, str]]:
    """Links to Person that neither move in a merge nor are listed in ``KEPT_WITH_RECORD``."""
    moving = {(p.label, p.field) for p in participants()}
    return [link for link in person_links() if link not in moving and link not in KEPT_WITH_RECORD]


# --- resolving old references -------------------------------------------------------------------


def survivor_of(person: Person | None, max_hops: int = 10) -> Person | None:
    """The active record a merged tombstone now lives in (following chained merges), the person
    itself when active, None when erased or the chain is broken."""
    for _hop in range(max_hops):
        if person is None or person.status != PersonStatus.MERGED:
            break
        person = person.merged_into
    return person if person is not None and person.status == PersonStatus.ACTIVE else None


def references_of(person: Person) -> set[str]:
    """The person's reference and those of every record merged into it (chained merges too):
    cards and receipts printed for a merged record name the old reference and stay genuine."""
    refs, frontier = {person.reference}, [person.pk]
    while frontier:
        rows = list(
            Person.objects.filter(merged_into__in=frontier, status=PersonStatus.MERGED).values_list(
                "pk", "reference"
            )
        )
        frontier = [pk for pk, ref in rows if ref not in refs]
        refs.update(ref for _pk, ref in rows)
    return refs


# --- the adjudication queue -----------------------------------------------------------------------


class QueueView:
    """The queue's filters (the ``show`` parameter of the page)."""

    PENDING = "pending"
    DECIDED = "decided"
    CHOICES = (PENDING, DECIDED)


def queue_for(user, show: str = QueueView.PENDING, band: str = ""):
    """Candidate pairs a supervisor may adjudicate: both records visible to ``user``.

    ``pending``: undecided pairs of two active records, plus pairs an official at registration
    called "same person" that nobody merged yet (both still active); highest score first.
    ``decided``: pairs with a supervisor's or official's decision, latest first. ``band``
    narrows to ``probable`` (at or above the upper threshold) or ``possible`` (below it)."""
    from registry.resolution.engine import probable_threshold

    visible = Person.objects.visible_to(user).filter(status=PersonStatus.ACTIVE).values("pk")
    pairs = DuplicateCandidate.objects.select_related("person_a", "person_b", "decided_by")
    if show == QueueView.DECIDED:
        visible = Person.objects.visible_to(user).values("pk") | Person.objects.filter(
            status=PersonStatus.MERGED, merged_into__in=Person.objects.visible_to(user)
        ).values("pk")
        pairs = pairs.exclude(status=DuplicateStatus.PENDING).order_by("-decided_at", "-score")
    else:
        pairs = pairs.filter(
            Q(status=DuplicateStatus.PENDING) | Q(status=DuplicateStatus.SAME_PERSON),
            person_a__status=PersonStatus.ACTIVE,
            person_b__status=PersonStatus.ACTIVE,
        ).order_by("-score", "created_at")
    pairs = pairs.filter(person_a__in=visible, person_b__in=visible)
    if band == "probable":
        pairs = pairs.filter(score__gte=probable_threshold())
    elif band == "possible":
        pairs = pairs.filter(score__lt=probable_threshold())
    return pairs


def awaiting_decision(pair: DuplicateCandidate) -> bool:
    """A pair still open in the queue: undecided, or called "same" but not merged yet."""
    both_active = (
        pair.person_a.status == PersonStatus.ACTIVE and pair.person_b.status == PersonStatus.ACTIVE
    )
    return both_active and pair.status in (DuplicateStatus.PENDING, DuplicateStatus.SAME_PERSON)


def suggested_survivor(a: Person, b: Person) -> Person:
    """The record to keep by default: the one with more registrations, else the older one."""
    counts = dict(
        Registration.objects.filter(person__in=[a, b])
        .values_list("person")
        .annotate(n=Count("id"))
        .values_list("person", "n")
    )
    return min((a, b), key=lambda p: (-counts.get(p.pk, 0), p.created_at))


def _visible_pair(actor, *people_: Person) -> None:
    """Defence in depth: the views already 404 outside the actor's scope."""
    ids = {p.pk for p in people_}
    if Person.objects.visible_to(actor).filter(pk__in=ids).count() != len(ids):
        raise PermissionDenied("registry.merge_person")


@transaction.atomic
def decide(
    actor,
    pair: DuplicateCandidate,
    *,
    same: bool,
    reason: str,
    survivor: Person | None = None,
    expected_versions=None,
) -> MergeRecord | DuplicateCandidate:
    """A supervisor's decision on a queued pair. "Same person" merges the other record into
    ``survivor`` (one of the pair) and returns the MergeRecord; "different people" records the
    decision and returns the pair. Either way the pair never comes back to the queue. A pair
    decided meanwhile (stale page, double submit) raises ConflictError and nothing changes."""
    from registry import services

    require_perm(
        actor, "registry.merge_person" if same else "registry.change_duplicatecandidate"
    )
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for your decision.")})
    pair = (
        DuplicateCandidate.objects.select_for_update(of=("self",))
        .select_related("person_a", "person_b")
        .get(pk=pair.pk)
    )
    if not awaiting_decision(pair):
        raise services.ConflictError(
            _("This pair was already decided (%(decision)s). Nothing was changed.")
            % {"decision": pair.get_status_display()}
        )
    _visible_pair(actor, pair.person_a, pair.person_b)
    if not same:
        _set_decision(actor, pair, DuplicateStatus.DIFFERENT_PEOPLE, reason.strip())
        return pair
    if survivor is None or survivor.pk not in (pair.person_a_id, pair.person_b_id):
        raise ValidationError({"survivor": _("Choose which of the two records to keep.")})
    merged = pair.person_b if survivor.pk == pair.person_a_id else pair.person_a
    return merge_people(actor, survivor, merged, reason, expected_versions)


def _set_decision(actor, pair: DuplicateCandidate, status: str, reason: str) -> None:

    pair.status, pair.decided_by, pair.decided_at, pair.decision_reason = (
        status,
        actor,
        timezone.now(),
        reason,
    )
    save_with_history(pair, actor, "duplicate decided")


def _mark_pair(actor, survivor: Person, merged: Person, status: str, reason: str) -> None:
    a, b = sorted([survivor.pk, merged.pk])
    pair, _created = DuplicateCandidate.objects.select_for_update().get_or_create(
        person_a_id=a, person_b_id=b, defaults={"score": 0.0, "reasons": []}
    )
    _set_decision(actor, pair, status, reason)


# --- merge ------------------------------------------------------------------------------------------


def _expected(expected_versions, survivor: Person, merged: Person) -> tuple[int | None, int | None]:
    """``expected_versions`` as ``{pk: version}`` or ``(survivor_version, merged_version)``."""
    if expected_versions is None:
        return None, None
    if isinstance(expected_versions, dict):
        return expected_versions.get(survivor.pk), expected_versions.get(merged.pk)
    return tuple(expected_versions)


def _check_mergeable(survivor: Person, merged: Person) -> None:
    from registry import services

    for person in (survivor, merged):
        if person.status == PersonStatus.MERGED:
            raise services.ConflictError(
                _(
                    "Record %(ref)s was already merged into another record; open the record it was merged into."
                )
                % {"ref": person.display_reference}
            )
        if person.status != PersonStatus.ACTIVE:
            raise services.ConflictError(
                _("Record %(ref)s was erased and cannot be merged.")
                % {"ref": person.display_reference}
            )


def _lock_pair(survivor: Person, merged: Person, expected_versions) -> tuple[Person, Person]:
    """Both rows locked in pk order, both active, both at the versions the user saw."""
    from registry import services

    locked = lock_people(survivor.pk, merged.pk)
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    _check_mergeable(survivor, merged)
    for person, version in zip(
        (survivor, merged), _expected(expected_versions, survivor, merged), strict=True
    ):
        if version is not None and person.version != int(version):
            raise services.ConflictError(
                _("Someone changed record %(ref)s after you opened it. Compare again and decide.")
                % {"ref": person.display_reference}
            )
    return survivor, merged


def _move_all(actor, survivor: Person, merged: Person, note: str) -> tuple[dict, list]:

    deactivated = []
    for flag_ in duplicate_flags(survivor, merged):
        flag_.is_active = False
        save_with_history(flag_, actor, note)
        deactivated.append(str(flag_.pk))
    moved = {p.label: move_rows(p, merged, survivor, actor, note) for p in participants()}
    return {label: ids for label, ids in moved.items() if ids}, deactivated


def _reindex(actor, *people_: Person) -> None:
    from registry import people, services
    from registry.resolution import engine

    for person in people_:
        people.reindex_names(person)
        engine.reindex(person)
        services.refresh_group_protection(actor, person)


def _log_and_announce(actor, record: MergeRecord, action: str) -> None:
    log_access(
        user=actor,
        action="view",
        object_type="registry.person",
        object_ids=[record.survivor_id, record.merged_id],
        purpose=f"{action} {record.pk}",
    )
    task = f"registry.person_{action}d"
    outbox.enqueue(
        task,
        {
            "merge_id": str(record.pk),
            "survivor_id": str(record.survivor_id),
            "merged_id": str(record.merged_id),
        },
        dedup_key=f"person_{action}d:{record.pk}",
    )


@transaction.atomic
def merge_people(
    actor, survivor: Person, merged: Person, reason: str, expected_versions=None
) -> MergeRecord:
    """Merge ``merged`` into ``survivor``: every registration, document, flag, referral, group
    membership, transit event and permit moves to the survivor (rows listed in a MergeRecord),
    the merged names become the survivor's aliases, and the merged record becomes a tombstone
    pointing at the survivor. Both rows are locked in pk order and must be at
    ``expected_versions``; a concurrent merge of either gets ConflictError. Never automatic:
    only a person with ``registry.merge_person`` calls this, with a reason."""
    from registry import services

    require_perm(actor, "registry.merge_person")
    if survivor.pk == merged.pk:
        raise ValidationError(_("A record cannot be merged into itself."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for the merge.")})
    survivor, merged = _lock_pair(survivor, merged, expected_versions)
    _visible_pair(actor, survivor, merged)
    note = f"merge {merged.reference} -> {survivor.reference}"
    moved, deactivated = _move_all(actor, survivor, merged, note)
    added = [
        n
        for n in [merged.full_name, *merged.aliases]
        if n and n not in [survivor.full_name, *survivor.aliases]
    ]
    services._bump_version(Person, survivor, survivor.version)
    services._bump_version(Person, merged, merged.version)
    survivor.aliases = [*survivor.aliases, *added]
    save_with_history(survivor, actor, note)
    merged.status, merged.merged_into = PersonStatus.MERGED, survivor
    save_with_history(merged, actor, note)
    _reindex(actor, survivor)
    record = MergeRecord.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=actor,
        reason=reason.strip(),
        moved=moved,
        deactivated=deactivated,
        aliases_added=added,
        survivor_version=survivor.version,
        merged_version=merged.version,
    )
    _mark_pair(actor, survivor, merged, DuplicateStatus.SAME_PERSON, reason.strip())
    _log_and_announce(actor, record, "merge")
    person_merged.send(sender=Person, survivor=survivor, merged=merged, record=record, actor=actor)
    return record


# --- unmerge ----------------------------------------------------------------------------------------


def undo_deadline(record: MergeRecord):
    return record.merged_at + dt.timedelta(days=settings.MERGE_UNDO_DAYS)


def can_undo(record: MergeRecord) -> bool:
    return record.undone_at is None and timezone.now() <= undo_deadline(record)


def merges_visible_to(user):
    """Merges whose survivor the user can see, latest first (the undo list)."""
    return MergeRecord.objects.filter(survivor__in=Person.objects.visible_to(user)).select_related(
        "survivor", "merged", "merged_by", "undone_by"
    )


def _undo_window_check(record: MergeRecord) -> None:
    from registry import services

    if record.undone_at is not None:
        raise services.ConflictError(_("This merge has already been undone. Nothing was changed."))
    if not can_undo(record):
        raise ValidationError(
            _("A merge can only be undone within %(days)d days.")
            % {"days": settings.MERGE_UNDO_DAYS}
        )


def _restore_flags(actor, record: MergeRecord, merged: Person, note: str) -> None:

    for flag_ in Vulnerability.objects.filter(
        pk__in=record.deactivated, person=merged, is_active=False
    ):
        if not Vulnerability.objects.filter(
            person=merged, kind=flag_.kind, is_active=True
        ).exists():
            flag_.is_active = True
            save_with_history(flag_, actor, note)


@transaction.atomic
def unmerge_people(actor, record: MergeRecord, reason: str) -> MergeRecord:
    """Undo a merge within ``MERGE_UNDO_DAYS``: the moved rows go back, deactivated flags come
    back, the added aliases leave the survivor, and both records are active again. Rows added
    to the survivor after the merge stay with it. The pair is then recorded as different people
    so it does not come back to the queue."""
    from registry import services

    require_perm(actor, "registry.merge_person")
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for undoing the merge.")})
    record = MergeRecord.objects.select_for_update().get(pk=record.pk)
    _undo_window_check(record)
    locked = lock_people(record.survivor_id, record.merged_id)
    survivor, merged = locked[record.survivor_id], locked[record.merged_id]
    if survivor.status != PersonStatus.ACTIVE or merged.merged_into_id != survivor.pk:
        raise services.ConflictError(
            _("The survivor was merged or changed again; undo the later merge first.")
        )
    _visible_pair(actor, survivor)
    note = f"unmerge {merged.reference} <- {survivor.reference}"
    by_label = {p.label: p for p in participants()}
    for label, ids in record.moved.items():
        restore_rows(by_label[label], ids, survivor, merged, actor, note)
    _restore_flags(actor, record, merged, note)
    services._bump_version(Person, survivor, survivor.version)
    services._bump_version(Person, merged, merged.version)
    survivor.aliases = [a for a in survivor.aliases if a not in record.aliases_added]
    save_with_history(survivor, actor, note)
    merged.status, merged.merged_into = PersonStatus.ACTIVE, None
    save_with_history(merged, actor, note)
    _reindex(actor, survivor, merged)
    record.undone_at, record.undone_by, record.undo_reason = timezone.now(), actor, reason.strip()
    record.save(update_fields=["undone_at", "undone_by", "undo_reason"])
    _mark_pair(actor, survivor, merged, DuplicateStatus.DIFFERENT_PEOPLE, reason.strip())
    _log_and_announce(actor, record, "unmerge")
    person_unmerged.send(
        sender=Person, survivor=survivor, merged=merged, record=record, actor=actor
    )
    return record
