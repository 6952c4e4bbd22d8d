"""Transit's domain operations (DESIGN.md rule 1): record events and head counts, issue permits
and change their status. Each takes the acting user first, runs in one transaction, checks the
actor's permission, keeps history with the actor and a reason, and raises ``ValidationError``
keyed by field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import require_perm
from privacy.history import save_with_history
from transit.models import HeadCount, Permit, PermitStatus, TransitEvent
from transit.permit_rules import PermitKind, rule_for
from transit.vocabulary import (
    COUNT_FIELDS,
    EXIT_KINDS,
    Direction,
    EventKind,
    FlagReason,
    Mode,
    Source,
)

CLOCK_SKEW = dt.timedelta(minutes=10)
EARLIEST_EVENT = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
MAX_HEAD_COUNT_CELL = 10_000
_KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class IdempotencyConflict(ValidationError):
    """The idempotency key was already used for a different event (HTTP 422 in the API)."""


# --- events ----------------------------------------------------------------------------------


@dataclass
class EventInput:
    """What an official asked to record; ``fingerprint`` identifies it for idempotent replay."""

    place: Any
    kind: str
    idempotency_key: str
    occurred_at: dt.datetime | None = None
    person: Any = None
    head_count: dict[str, Any] | None = None
    direction: str = ""
    mode: str = ""
    source: str = Source.FORM
    errors: dict[str, list] = field(default_factory=dict)

    def fingerprint(self) -> str:
        content = {
            "place": str(getattr(self.place, "pk", "")), "kind": self.kind, "direction": self.direction,
            "mode": self.mode, "source": self.source, "person": str(getattr(self.person, "pk", "")),
            "occurred_at": self.occurred_at.astimezone(dt.UTC).isoformat() if self.occurred_at else None,
            "head_count": self.head_count,
        }
        return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def check_time(value: dt.datetime | None, field_name: str = "occurred_at") -> dt.datetime:
    """An event time: time-zone aware, not before 1990, not beyond the clock skew into the future."""
    if value is None:
        return timezone.now()
    if not isinstance(value, dt.datetime) or timezone.is_naive(value):
        raise ValidationError({field_name: _("The time must include a time zone (Mexico and Guatemala posts differ).")})
    if value > timezone.now() + CLOCK_SKEW:
        raise ValidationError({field_name: _("The time cannot be in the future.")})
    if value < EARLIEST_EVENT:
        raise ValidationError({field_name: _("The time cannot be before 1990.")})
    return value


def check_place(actor, place) -> None:
    """Officials record only at the places they are posted to today; admins (imports) anywhere."""
    if place is None:
        raise ValidationError({"place": _("Choose the place.")})
    if actor.has_role("admin"):
        return
    if place.pk not in actor.current_place_ids():
        raise ValidationError({"place": _("You are not assigned to this place.")})


def clean_head_count(cells: dict[str, Any]) -> dict[str, Any]:
    """Counts per sex × age bracket (whole numbers, at least one person) and a nationality."""
    cleaned: dict[str, Any] = {"nationality": str(cells.get("nationality") or "").upper()[:2]}
    for name in COUNT_FIELDS:
        value = cells.get(name) or 0
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_HEAD_COUNT_CELL:
            raise ValidationError({name: _("Enter a whole number between 0 and %(max)d.") % {"max": MAX_HEAD_COUNT_CELL}})
        cleaned[name] = value
    unknown = set(cells) - {*COUNT_FIELDS, "nationality"}
    if unknown:
        raise ValidationError({sorted(unknown)[0]: _("Unknown head-count field.")})
    if not any(cleaned[name] for name in COUNT_FIELDS):
        raise ValidationError({"head_count": _("Count at least one person.")})
    return cleaned


def _validate(actor, data: EventInput) -> dt.datetime:
    """All input errors at once, keyed by field; returns the event time."""
    errors: dict[str, Any] = {}
    checks = {
        "kind": data.kind in EventKind.values,
        "direction": data.direction in ("", *Direction.values),
        "mode": data.mode in ("", *Mode.values),
        "source": data.source in Source.values,
        "idempotency_key": isinstance(data.idempotency_key, str) and bool(_KEY.match(data.idempotency_key)),
    }
    for name, ok in checks.items():
        if not ok:
            errors[name] = [_("This value is not allowed.")]
    if (data.person is None) == (data.head_count is None):
        errors["person"] = [_("Record either one identified person or an anonymous head count.")]
    occurred_at = None
    for check in (lambda: check_place(actor, data.place), lambda: check_time(data.occurred_at)):
        try:
            occurred_at = check() or occurred_at
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if data.head_count is not None and "person" not in errors:
        try:
            data.head_count = clean_head_count(data.head_count)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return occurred_at


def _replay(data: EventInput) -> TransitEvent | None:
    """The event first recorded under this key, if any; a different body is a conflict."""
    existing = TransitEvent.objects.filter(idempotency_key=data.idempotency_key).first()
    if existing is None:
        return None
    if existing.fingerprint != data.fingerprint():
        raise IdempotencyConflict(
            {"idempotency_key": _("This key was already used for a different event.")}, code="idempotency_conflict"
        )
    existing.replayed = True
    return existing


def exit_without_entry(person, occurred_at: dt.datetime) -> bool:
    """True when the person's last movement before ``occurred_at`` is not an open entry."""
    last = (
        TransitEvent.objects.filter(person=person, occurred_at__lt=occurred_at, kind__in=[EventKind.ENTRY, *EXIT_KINDS])
        .order_by("-occurred_at").values_list("kind", flat=True).first()
    )
    return last != EventKind.ENTRY


def _build(actor, data: EventInput, occurred_at: dt.datetime) -> TransitEvent:
    head_count = None
    if data.head_count is not None:
        head_count = HeadCount.objects.create(**data.head_count)
    flag = ""
    if data.person is not None and data.kind in EXIT_KINDS and exit_without_entry(data.person, occurred_at):
        flag = FlagReason.EXIT_WITHOUT_ENTRY
    return TransitEvent(
        place=data.place, kind=data.kind, direction=data.direction, mode=data.mode, occurred_at=occurred_at,
        person=data.person, head_count=head_count, recorded_by=actor, source=data.source,
        idempotency_key=data.idempotency_key, fingerprint=data.fingerprint(), flag=flag,
    )


@transaction.atomic
def record_event(actor, data: EventInput) -> TransitEvent:
    """Record one transit event (identified or head count). Idempotent on the key: a replay
    returns the first event with ``replayed = True``; the same key with another body raises
    ``IdempotencyConflict``. An exit without an open entry is accepted but flagged."""
    require_perm(actor, "transit.add_transitevent")
    occurred_at = _validate(actor, data)
    existing = _replay(data)
    if existing is not None:
        return existing
    event = _build(actor, data, occurred_at)
    try:
        with transaction.atomic():
            save_with_history(event, actor, f"recorded ({data.source})", force_insert=True)
    except IntegrityError:  # a concurrent request with the same key committed first
        winner = _replay(data)
        if winner is None:
            raise ValidationError({"idempotency_key": _("This event is being recorded by another request.")}, code="conflict") from None
        return winner
    event.replayed = False
    return event


# --- permits ---------------------------------------------------------------------------------


def new_permit_number(kind: str, on: dt.date) -> str:
    """A card number such as ``TVR-2026-7KQ3M9XD``: prefix, year, 8 random characters."""
    body = "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(8))
    return f"{rule_for(kind).number_prefix}-{on.year}-{body}"


def _permit_errors(person, kind: str, valid_from: dt.date, valid_until: dt.date, states: list[str]) -> dict:
    rule = rule_for(kind)
    errors: dict[str, list] = {}
    if rule.nationalities is not None and str(person.nationality) not in rule.nationalities:
        errors["kind"] = [_("This card is only for nationals of %(countries)s.") % {"countries": ", ".join(rule.nationalities)}]
    if valid_until < valid_from:
        errors["valid_until"] = [_("The card cannot expire before it starts.")]
    elif (valid_until - valid_from).days + 1 > rule.max_validity_days:
        errors["valid_until"] = [_("This card is valid for at most %(days)d days.") % {"days": rule.max_validity_days}]
    if valid_from < timezone.localdate() - dt.timedelta(days=1):
        errors["valid_from"] = [_("A card cannot start in the past.")]
    if not states or not set(states) <= set(rule.states):
        errors["allowed_states"] = [_("Choose states this card allows.")]
    return errors


@transaction.atomic
def issue_permit(
    actor, person, *, kind: str, valid_from: dt.date | None = None, valid_until: dt.date | None = None,
    allowed_states: list[str] | None = None, place=None,
) -> Permit:
    """Issue a visitor card; the kind's rules (``permit_rules.PERMIT_RULES``) decide who may hold
    it, where it is valid and for how long. One active card of a kind per person."""
    require_perm(actor, "transit.add_permit")
    if kind not in PermitKind.values:
        raise ValidationError({"kind": _("Choose the kind of card.")})
    rule = rule_for(kind)
    valid_from = valid_from or timezone.localdate()
    valid_until = valid_until or valid_from + dt.timedelta(days=rule.max_validity_days - 1)
    states = sorted(set(allowed_states or rule.states))
    errors = _permit_errors(person, kind, valid_from, valid_until, states)
    overlapping = Permit.objects.select_for_update().filter(
        person=person, kind=kind, status=PermitStatus.ACTIVE, valid_until__gte=valid_from, valid_from__lte=valid_until
    )
    if overlapping.exists():
        errors.setdefault("kind", []).append(_("This person already holds an active card of this kind."))
    if errors:
        raise ValidationError(errors)
    permit = Permit(
        person=person, kind=kind, number=new_permit_number(kind, valid_from), valid_from=valid_from,
        valid_until=valid_until, allowed_states=states, issued_by=actor, issued_at=timezone.now(), issued_place=place,
    )
    save_with_history(permit, actor, "issued")
    return permit


_STATUS_MOVES = {
    PermitStatus.SUSPENDED: {PermitStatus.ACTIVE},
    PermitStatus.ACTIVE: {PermitStatus.SUSPENDED},
    PermitStatus.REVOKED: {PermitStatus.ACTIVE, PermitStatus.SUSPENDED},
}


@transaction.atomic
def change_permit_status(actor, permit: Permit, status: str, *, reason: str) -> Permit:
    """Suspend, reinstate or revoke a card; a reason is always required and kept in history.
    Revocation is final."""
    require_perm(actor, "transit.revoke_permit")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for this change.")})
    permit = Permit.objects.select_for_update().get(pk=permit.pk)
    if status not in _STATUS_MOVES or permit.status not in _STATUS_MOVES[status]:
        raise ValidationError({"status": _("A card that is %(status)s cannot be changed that way.") % {"status": permit.get_status_display()}})
    permit.status = status
    permit.status_reason = reason[:300]
    save_with_history(permit, actor, status)  # the reason itself is encrypted on the permit
    return permit


def revoke_permit(actor, permit: Permit, *, reason: str) -> Permit:
    """Revoke a card for good (reason required)."""
    return change_permit_status(actor, permit, PermitStatus.REVOKED, reason=reason)


def effective_status(permit: Permit, on: dt.date | None = None) -> str:
    """Status as a checkpoint should read it today: an active card past its validity is expired."""
    on = on or timezone.localdate()
    if permit.status == PermitStatus.ACTIVE and on > permit.valid_until:
        return PermitStatus.EXPIRED
    return permit.status


def permit_for_entry(person, on: dt.date) -> Permit | None:
    """The card that covers an entry on a date (a revoked card covers nothing)."""
    return (
        Permit.objects.filter(person=person, valid_from__lte=on, valid_until__gte=on)
        .exclude(status=PermitStatus.REVOKED).order_by("-valid_until").first()
    )
