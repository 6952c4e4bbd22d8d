"""Pages of the rights register (data-protection role): list, new request, one request with the
actions its right allows, the access export, and the retention runs with a dry run.

Requests outside a user's scope answer 404 (``RightsRequest.objects.visible_to``); every rule is
in ``privacy.rights.services``; every page that shows a person's data writes the access log.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from privacy import erasure, retention
from privacy.access_log import log_access
from privacy.forms import (
    OptionalReasonForm,
    PersonEditForm,
    ReasonForm,
    RequestFilterForm,
    RightsRequestForm,
    apply_service_errors,
)
from privacy.models import (
    AccessAction,
    ErasureRecord,
    RequestStatus,
    RetentionRun,
    RightKind,
    RightsRequest,
)
from privacy.rights import export, services
from registry.services import ConflictError

PAGE_SIZE = 25
view_required = permission_required("privacy.view_rightsrequest", raise_exception=True)
add_required = permission_required("privacy.add_rightsrequest", raise_exception=True)
retention_required = permission_required("privacy.view_retentionrun", raise_exception=True)


def _visible(request: HttpRequest):
    return RightsRequest.objects.visible_to(request.user).select_related(
        "person", "handled_by", "escalated_to"
    )


def _get(request: HttpRequest, pk) -> RightsRequest:
    return get_object_or_404(_visible(request), pk=pk)


@login_required
@view_required
@require_safe
def request_list(request: HttpRequest) -> HttpResponse:
    """The register, oldest due first; filter by status and right."""
    form = RequestFilterForm(request.GET or None)
    rows = _visible(request)
    if form.is_valid():
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["right"]:
            rows = rows.filter(right=form.cleaned_data["right"])
    page = Paginator(rows.order_by("due_date", "received_at"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "privacy/request_list.html",
        {"page_obj": page, "form": form, "today": timezone.localdate()},
    )


@login_required
@add_required
@require_http_methods(["GET", "POST"])
def request_new(request: HttpRequest) -> HttpResponse:
    form = RightsRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = services.open_request(
                request.user,
                person_reference=data["person_reference"],
                right=data["right"],
                requester=data["requester"],
                identity_check=data["identity_check"],
                representative_name=data["representative_name"],
                details=data["details"],
                received_at=form.received_at(),
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("The request was registered. Answer it by %(d)s.") % {"d": created.due_date},
            )
            return redirect("privacy:request", pk=created.pk)
    return render(
        request, "privacy/request_new.html", {"form": form}, status=400 if form.errors else 200
    )


@login_required
@view_required
@require_safe
def request_detail(request: HttpRequest, pk) -> HttpResponse:
    item = _get(request, pk)
    log_access(
        user=request.user,
        action=AccessAction.VIEW,
        object_type="registry.person",
        object_ids=[item.person_id],
        purpose=f"rights:{item.right}:{item.pk}",
        request=request,
    )
    return render(request, "privacy/request_detail.html", _detail_context(request, item))


def _detail_context(request: HttpRequest, item: RightsRequest, **forms) -> dict:
    user = request.user
    can_change = item.is_open and user.has_perm("privacy.change_rightsrequest")
    return {
        "item": item,
        "person": item.person,
        "can_change": can_change,
        "can_block": can_change
        and item.right == RightKind.CANCELLATION
        and item.status != RequestStatus.BLOCKED
        and user.has_perm("privacy.erase_person"),
        "can_erase": can_change
        and item.status == RequestStatus.BLOCKED
        and user.has_perm("privacy.erase_person"),
        "open_referrals": erasure.open_referrals(item.person).count()
        if item.right == RightKind.CANCELLATION
        else 0,
        "tombstone": _tombstone(item),
        "refuse_form": forms.get("refuse_form") or ReasonForm(prefix="refuse"),
        "complete_form": forms.get("complete_form") or ReasonForm(prefix="complete"),
        "note_form": forms.get("note_form") or OptionalReasonForm(prefix="note"),
    }


def _tombstone(item: RightsRequest) -> list[tuple[str, int]] | None:
    record = ErasureRecord.objects.filter(person_id=item.person_id).first()
    if record is None:
        return None
    return [
        (str(erasure.COUNT_LABELS.get(key, key)), value)
        for key, value in sorted(record.counts.items())
    ]


def _action_error(
    request: HttpRequest, item: RightsRequest, exc: Exception, **forms
) -> HttpResponse:
    """Show what went wrong: next to the field of the form that was sent, else on top."""
    shown = False
    for form in forms.values():
        if form.errors:
            shown = True
        elif isinstance(exc, ValidationError):
            apply_service_errors(form, exc)
            shown = True
    if not shown:
        for message in exc.messages if isinstance(exc, ValidationError) else [str(exc)]:
            messages.error(request, message)
    item.refresh_from_db()
    return render(
        request, "privacy/request_detail.html", _detail_context(request, item, **forms), status=400
    )


@login_required
@view_required
@require_POST
def request_action(request: HttpRequest, pk, action: str) -> HttpResponse:
    """One of: complete (access), refuse, block and erase (cancellation), oppose (opposition)."""
    item = _get(request, pk)
    forms = {}
    try:
        if action == "refuse":
            forms["refuse_form"] = form = ReasonForm(request.POST, prefix="refuse")
            if not form.is_valid():
                raise ValidationError(form.errors.as_data().get("reason", []))
            services.refuse(request.user, item, reason=form.cleaned_data["reason"])
            done = _("The request was refused.")
        elif action == "complete":
            forms["complete_form"] = form = ReasonForm(request.POST, prefix="complete")
            if not form.is_valid():
                raise ValidationError(form.errors.as_data().get("reason", []))
            services.complete(request.user, item, reason=form.cleaned_data["reason"])
            done = _("The request was marked as answered.")
        elif action == "oppose":
            note = OptionalReasonForm(request.POST, prefix="note")
            services.oppose(request.user, item, reason=note.data.get("note-reason", "")[:2000])
            done = _(
                "Consent was withdrawn: partners relying on consent no longer receive this person's data."
            )
        elif action == "block":
            services.block(request.user, item)
            done = _(
                "The record is blocked: only the data-protection role can see it until it is erased."
            )
        elif action == "erase":
            services.erase(request.user, item)
            done = _(
                "The person's data was erased. The tombstone keeps the reference and the counts."
            )
        else:
            raise Http404
    except erasure.ErasureRefused as exc:
        messages.warning(request, _("Refused and escalated to a supervisor: %(r)s") % {"r": exc})
        return redirect("privacy:request", pk=item.pk)
    except (ValidationError, erasure.ErasureError) as exc:
        return _action_error(request, item, exc, **forms)
    messages.success(request, done)
    return redirect("privacy:request", pk=item.pk)


@login_required
@view_required
@require_http_methods(["GET", "POST"])
def request_rectify(request: HttpRequest, pk) -> HttpResponse:
    """Correct the identity through the registry's service, with the request as the reason."""
    item = _get(request, pk)
    if item.right != RightKind.RECTIFICATION or not item.is_open:
        raise Http404
    person = item.person
    form = PersonEditForm(request.POST or None, initial=PersonEditForm.initial_for(person))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            services.rectify(
                request.user,
                item,
                form.changes(),
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except ConflictError as exc:
            form.add_error(None, str(exc))
            status = 409
        except ValidationError as exc:
            apply_service_errors(form, exc)
            status = 400
        else:
            messages.success(request, _("The identity was corrected and the request closed."))
            return redirect("privacy:request", pk=item.pk)
    elif request.method == "POST":
        status = 400
    log_access(
        user=request.user,
        action=AccessAction.VIEW,
        object_type="registry.person",
        object_ids=[person.pk],
        purpose=f"rights:rectification:{item.pk}",
        request=request,
    )
    return render(
        request,
        "privacy/request_rectify.html",
        {"item": item, "person": person, "form": form},
        status=status,
    )


@login_required
@view_required
@require_safe
def request_export(request: HttpRequest, pk, fmt: str) -> HttpResponse:
    """The subject access export, generated now and logged as an export of the person."""
    item = _get(request, pk)
    try:
        content, content_type, name = export.deliver(request.user, item, fmt, http_request=request)
    except ValidationError as exc:
        raise Http404 from exc
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@retention_required
@require_http_methods(["GET", "POST"])
def retention_runs(request: HttpRequest) -> HttpResponse:
    """The purge runs and their counts; POST starts a dry run (nothing is changed)."""
    if request.method == "POST":
        run = retention.purge(dry_run=True, user=request.user)
        messages.info(
            request,
            _(
                "Dry run done: nothing was changed. The counts show what the next purge would remove."
            ),
        )
        return redirect(f"{request.path}#run-{run.pk}")
    page = Paginator(RetentionRun.objects.all(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "privacy/retention.html", {"page_obj": page, "classes": retention.CLASSES}
    )
