"""The one entry point for the rights register (DESIGN.md rule 1; SECURITY.md DP-3).

Every function takes the acting user, checks their permission, runs in one transaction and
leaves the request's status, decision, reason and handler recorded. Views and commands call
these and nothing else.

* ``open_request``: a person (by reference) asks, or a representative on their behalf, with a
  note of how identity was checked; the due date is ``RIGHTS_DUE_WORKING_DAYS`` working days
  later (weekends and the official holidays of ``RIGHTS_HOLIDAY_COUNTRIES`` not counted). Unknown or erased people and a second open request for the same right are refused.
* access: ``privacy.rights.export`` builds the export; ``complete`` records its delivery.
* ``rectify``: ``registry.services.update_person`` with the request as the reason.
* ``block`` then ``erase``: a cancellation first blocks the record for ``RIGHTS_BLOCKING_DAYS``,
  then ``privacy.erasure.erase_person`` removes the data. An open protection referral refuses
  both, and the request is escalated to a supervisor of the registering agency.
* ``oppose``: consent is withdrawn on every registration, so consent-based agreements stop
  seeing the person at once (``Registration.objects.visible_to_agreement``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import holidays
import numpy as np
import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.permissions import require_perm
from privacy import erasure
from privacy.models import RequesterKind, RequestStatus, RightKind, RightsRequest

logger = structlog.get_logger(__name__)

ADD = "privacy.add_rightsrequest"
CHANGE = "privacy.change_rightsrequest"
ERASE = "privacy.erase_person"


def official_holidays(countries, years) -> list[dt.date]:
    """Public holidays of ``countries`` (ISO codes, the ``holidays`` package) in ``years``."""
    days: set[dt.date] = set()
    for country in countries:
        days.update(holidays.country_holidays(country, years=list(years)))
    return sorted(days)


def due_date(received: dt.date, working_days: int | None = None) -> dt.date:
    """``working_days`` working days after ``received``: Monday to Friday, without the official
    holidays of ``RIGHTS_HOLIDAY_COUNTRIES`` (numpy's business-day rules)."""
    days = settings.RIGHTS_DUE_WORKING_DAYS if working_days is None else working_days
    closed = official_holidays(settings.RIGHTS_HOLIDAY_COUNTRIES, range(received.year, received.year + 2))
    return np.busday_offset(
        np.datetime64(received, "D"), days, roll="forward", holidays=np.array(closed, dtype="datetime64[D]")
    ).astype(dt.date)


def reason_tag(request: RightsRequest) -> str:
    """The change reason written to history: the request id, never personal data."""
    return f"rights-request:{request.pk}"


def _log(event: str, request: RightsRequest, actor) -> None:
    logger.info(
        event,
        request_id=str(request.pk),
        right=request.right,
        status=request.status,
        actor_id=str(getattr(actor, "pk", "")),
    )


def find_person(reference: str):
    """The person with this printed reference (dashes and case ignored), or a field error. A
    record merged into another stands for the surviving record (the same human being)."""
    from registry.models import Person
    from registry.vocabulary import PersonStatus

    cleaned = "".join(ch for ch in (reference or "") if ch.isalnum()).upper()
    person = Person.objects.filter(reference=cleaned).first() if cleaned else None
    if person is None:
        raise ValidationError(
            {"person_reference": _("No person has this reference. Check the receipt or card.")}
        )
    seen = set()
    while person.status == PersonStatus.MERGED and person.merged_into_id and person.pk not in seen:
        seen.add(person.pk)
        person = person.merged_into
    if person.status == PersonStatus.ERASED:
        raise ValidationError(
            {"person_reference": _("This person's data has already been erased.")}
        )
    return person


@transaction.atomic
def open_request(
    actor,
    *,
    person_reference: str,
    right: str,
    requester: str,
    identity_check: str,
    representative_name: str = "",
    details: str = "",
    received_at: dt.datetime | None = None,
) -> RightsRequest:
    """Register a request; every input error is reported at once, keyed by field."""
    require_perm(actor, ADD)
    errors: dict[str, Any] = {}
    person = None
    try:
        person = find_person(person_reference)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if right not in RightKind.values:
        errors["right"] = [_("Choose the right the person exercises.")]
    if requester not in RequesterKind.values:
        errors["requester"] = [_("Say who made the request.")]
    if not (identity_check or "").strip():
        errors["identity_check"] = [_("Note how the identity of whoever asked was checked.")]
    if requester == RequesterKind.REPRESENTATIVE and not (representative_name or "").strip():
        errors["representative_name"] = [_("Give the representative's name.")]
    received_at = received_at or timezone.now()
    if received_at > timezone.now() + dt.timedelta(minutes=10):
        errors["received_at"] = [_("The date received cannot be in the future.")]
    if (
        person is not None
        and right in RightKind.values
        and RightsRequest.objects.open().filter(person=person, right=right).exists()
    ):
        errors["right"] = [_("This person already has an open request for this right.")]
    if errors:
        raise ValidationError(errors)
    request = RightsRequest(
        person=person,
        right=right,
        requester=requester,
        identity_check=identity_check.strip(),
        representative_name=(representative_name or "").strip()
        if requester == RequesterKind.REPRESENTATIVE
        else "",
        details=(details or "").strip(),
        received_at=received_at,
        due_date=due_date(timezone.localdate(received_at)),
        created_by=actor,
    )
    try:
        with transaction.atomic():
            request.save(force_insert=True)
    except IntegrityError:  # a simultaneous duplicate lost the race against the unique constraint
        raise ValidationError(
            {"right": [_("This person already has an open request for this right.")]}
        ) from None
    _log("privacy.rights_request_opened", request, actor)
    return request


def _locked(request: RightsRequest) -> RightsRequest:
    return RightsRequest.objects.select_for_update().get(pk=request.pk)


def _close(actor, request: RightsRequest, status: str, reason: str) -> RightsRequest:
    request.status = status
    request.decision_reason = reason
    request.decided_at = timezone.now()
    request.handled_by = actor or request.handled_by  # None: the scheduled erasure
    request.save()
    _log("privacy.rights_request_closed", request, actor)
    return request


def _require_open(request: RightsRequest, *rights: str) -> None:
    if not request.is_open:
        raise ValidationError(_("This request is already closed."))
    if rights and request.right not in rights:
        raise ValidationError(_("This action does not apply to this kind of request."))


@transaction.atomic
def complete(actor, request: RightsRequest, *, reason: str) -> RightsRequest:
    """Record that the request was answered (e.g. the access export was handed over)."""
    require_perm(actor, CHANGE)
    request = _locked(request)
    _require_open(request, RightKind.ACCESS)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say how the export was delivered.")})
    return _close(actor, request, RequestStatus.COMPLETED, reason.strip())


@transaction.atomic
def refuse(actor, request: RightsRequest, *, reason: str) -> RightsRequest:
    """Refuse a request; the reason is required and is what the person is told."""
    require_perm(actor, CHANGE)
    request = _locked(request)
    _require_open(request)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason for refusing the request.")})
    return _close(actor, request, RequestStatus.REFUSED, reason.strip())


@transaction.atomic
def rectify(
    actor,
    request: RightsRequest,
    changes: dict[str, Any],
    *,
    expected_version: int | None,
    reason: str = "",
) -> RightsRequest:
    """Correct the person's identity through the registry's own service; the history records
    the request as the reason. Registry validation errors come back unchanged, by field."""
    from registry import services as registry_services

    require_perm(actor, CHANGE)
    request = _locked(request)
    _require_open(request, RightKind.RECTIFICATION)
    if not changes:
        raise ValidationError(_("Nothing to correct: change at least one field."))
    registry_services.update_person(
        actor,
        request.person,
        changes,
        expected_version=expected_version,
        reason=reason_tag(request),
    )
    fields = ", ".join(sorted(changes))
    return _close(
        actor,
        request,
        RequestStatus.COMPLETED,
        (reason or "").strip() or str(_("Corrected: %(f)s") % {"f": fields}),
    )


@transaction.atomic
def oppose(actor, request: RightsRequest, *, reason: str = "") -> RightsRequest:
    """Withdraw consent on all the person's registrations: consent-based partner agreements stop
    seeing them at once; sharing on another legal basis (a legal mandate) is not affected."""
    require_perm(actor, CHANGE)
    request = _locked(request)
    _require_open(request, RightKind.OPPOSITION)
    withdraw_consent(actor, request.person, reason_tag(request))
    return _close(
        actor,
        request,
        RequestStatus.COMPLETED,
        (reason or "").strip() or str(_("Consent withdrawn; consent-based sharing stopped.")),
    )


def withdraw_consent(actor, person, change_reason: str) -> int:
    """The registry's own service (registrations are its rows)."""
    from registry import services as registry_services

    return registry_services.withdraw_consent(actor, person, change_reason)


def _escalate(actor, request: RightsRequest, reason: str) -> RightsRequest:
    request.status = RequestStatus.ESCALATED
    request.escalated_to = supervisor_for(request.person)
    request.decision_reason = reason
    request.handled_by = actor or request.handled_by  # None: the scheduled erasure
    request.save()
    _log("privacy.rights_request_escalated", request, actor)
    return request


def supervisor_for(person):
    """An active supervisor of the agency that registered the person last (else any)."""
    from accounts.models import User
    from accounts.roles import SUPERVISOR

    supervisors = User.objects.filter(is_active=True, groups__name=SUPERVISOR).order_by(
        "date_joined"
    )
    registration = person.registrations.order_by("-registered_at").first()
    if registration is not None:
        own = supervisors.filter(agency_id=registration.agency_id).first()
        if own is not None:
            return own
    return supervisors.first()


def block(actor, request: RightsRequest) -> RightsRequest:
    """First step of a cancellation: hide the record for the blocking period. An open
    protection referral refuses it: the request is escalated and ``ErasureRefused`` raised."""
    require_perm(actor, ERASE)
    with transaction.atomic():
        request = _locked(request)
        _require_open(request, RightKind.CANCELLATION)
        if request.status == RequestStatus.BLOCKED:
            raise ValidationError(_("The record is already blocked."))
        try:
            erasure.check_erasable(request.person)
        except erasure.ErasureRefused as exc:
            _escalate(actor, request, str(exc))
            refused = exc
        else:
            request.status = RequestStatus.BLOCKED
            request.blocked_until = timezone.now() + dt.timedelta(
                days=settings.RIGHTS_BLOCKING_DAYS
            )
            request.handled_by = actor or request.handled_by  # None: the scheduled erasure
            request.escalated_to = None
            request.save()
            _log("privacy.person_blocked", request, actor)
            return request
    raise refused  # after the escalation committed


def erase(actor, request: RightsRequest, *, now: dt.datetime | None = None) -> RightsRequest:
    """Second step: once the blocking period is over, erase the person and close the request.
    All or nothing; a refusal (open referral) escalates the request and raises."""
    require_perm(actor, ERASE)
    return _erase(actor, request, now=now)


def _erase(actor, request: RightsRequest, *, now: dt.datetime | None) -> RightsRequest:
    with transaction.atomic():
        request = _locked(request)
        _require_open(request, RightKind.CANCELLATION)
        if request.status != RequestStatus.BLOCKED:
            raise ValidationError(
                _("Block the record first; it is erased when the blocking period ends.")
            )
        if request.blocked_until > (now or timezone.now()):
            raise ValidationError(
                _("The record is blocked until %(d)s; it cannot be erased before.")
                % {"d": timezone.localtime(request.blocked_until).strftime("%Y-%m-%d %H:%M")}
            )
        try:
            erasure.erase_person(actor, request.person, reason="rights-request", request=request)
        except erasure.ErasureRefused as exc:
            _escalate(actor, request, str(exc))
            refused = exc
        else:
            return _close(
                actor,
                request,
                RequestStatus.COMPLETED,
                str(_("Personal data erased; tombstone kept.")),
            )
    raise refused


def erase_due(now: dt.datetime | None = None) -> dict[str, int]:
    """Erase every blocked person whose blocking period is over (called by the daily purge);
    refusals are escalated and counted, never fatal."""
    done = refused = 0
    for request in RightsRequest.objects.blocking().filter(
        blocked_until__lte=now or timezone.now()
    ):
        try:
            _erase(None, request, now=now)  # the scheduled step of a decision already taken
            done += 1
        except (erasure.ErasureError, ValidationError):
            refused += 1
    return {"erased": done, "refused": refused}
