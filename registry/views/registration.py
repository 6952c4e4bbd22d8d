"""Registration in two steps: the short form that creates the draft, then the details page
whose sub-forms post through htmx (and work without JavaScript), the duplicate warning and
Submit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from registry import matching, people, services
from registry.forms import (
    DocumentForm,
    DuplicateDecisionForm,
    GroupForm,
    LanguagesForm,
    ReferralForm,
    ShortRegistrationForm,
    TravelDetailsForm,
    VulnerabilityForm,
    apply_service_errors,
)
from registry.models import DuplicateCandidate, GroupMembership, Person
from registry.services import ConflictError
from registry.views.common import log_people, mask, visible_person, visible_registration
from registry.vocabulary import RegistrationStatus

EDITABLE = {RegistrationStatus.DRAFT, RegistrationStatus.NEEDS_CORRECTION}


@login_required
@require_http_methods(["GET", "POST"])
@permission_required("registry.add_registration", raise_exception=True)
def register(request: HttpRequest) -> HttpResponse:
    """Step 1. A resubmitted POST with the same hidden token returns the first draft."""
    form = ShortRegistrationForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            registration = services.register(
                request.user, place=data["place"], person_data=form.person_data(), registered_at=data["registered_at"],
                legal_basis=data["legal_basis"], submission_token=data["submission_token"],
            )
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            return redirect("registry:details", pk=registration.pk)
    return render(request, "registry/register.html", {"form": form})


# --- details page ------------------------------------------------------------------------------


def group_context(user, person: Person) -> dict:
    membership = GroupMembership.objects.filter(person=person).select_related("group").order_by("-joined_at").first()
    if membership is None:
        return {"membership": None, "members": []}
    rows = list(membership.group.memberships.select_related("person"))
    visible = set(Person.objects.visible_to(user).filter(pk__in=[m.person_id for m in rows]).values_list("pk", flat=True))
    members = [
        {"membership": m, "visible": m.person_id in visible, "minor": people.is_minor(m.person),
         "protection": people.child_protection_status(m.person)}
        for m in rows
    ]
    return {"membership": membership, "members": members}


def _duplicate_context(user, person: Person) -> dict:
    """Visible candidates in full (enough to tell people apart); the others only as a count."""
    candidates = matching.candidates_for_person(person)
    shown = matching.load_people(candidates, Person.objects.visible_to(user))
    visible = {m.person_id for m in shown}
    decisions = {}
    if shown:
        for pair in DuplicateCandidate.objects.filter(person_a__in=[person.pk, *visible], person_b__in=[person.pk, *visible]):
            decisions[pair.person_b_id if pair.person_a_id == person.pk else pair.person_a_id] = pair
    return {
        "duplicates": [{"match": m, "decision": decisions.get(m.person_id)} for m in shown],
        "hidden_duplicates": len(candidates) - len(shown),
    }


def details_context(request, registration, forms: dict | None = None) -> dict:
    """Everything the details page and its fragments show, plus fresh or bound sub-forms."""
    person = registration.person
    forms = forms or {}
    context = {
        "registration": registration, "person": person, "editable": registration.status in EDITABLE,
        "child_protection": people.child_protection_status(person),
        "documents": [{"doc": d, "masked": mask(d.number)} for d in person.documents.all()],
        "flags": person.vulnerabilities.filter(is_active=True),
        "referrals": person.referrals.select_related("to_agency", "to_place"),
        **group_context(request.user, person),
        **_duplicate_context(request.user, person),
    }
    for name, section in SECTIONS.items():
        context[f"{name}_form"] = forms[name] if name in forms else section.empty_form(request, registration)
    return context


def _shown_people(context) -> list:
    ids = [context["person"].pk]
    ids += [row["membership"].person_id for row in context["members"] if row["visible"]]
    ids += [row["match"].person_id for row in context["duplicates"]]
    return ids


@login_required
@require_http_methods(["GET"])
@permission_required("registry.view_registration", raise_exception=True)
def details(request: HttpRequest, pk) -> HttpResponse:
    """Step 2: documents, group, languages, travel, flags, referrals, duplicates, Submit."""
    registration = visible_registration(request, pk)
    context = details_context(request, registration)
    log_people(request, "view", _shown_people(context), purpose="registration details")
    return render(request, "registry/details.html", context)


# --- sub-forms ----------------------------------------------------------------------------------


class Section:
    """One sub-form of the details page: its form, the service call, the fragments it redraws."""

    form_class = None
    also_redraw: tuple[str, ...] = ()

    def form_kwargs(self, request, registration) -> dict:
        return {}

    def initial(self, registration) -> dict:
        return {}

    def empty_form(self, request, registration):
        return self.form_class(initial=self.initial(registration), **self.form_kwargs(request, registration))

    def bound_form(self, request, registration):
        return self.form_class(request.POST, **self.form_kwargs(request, registration))

    def save(self, request, registration, form) -> None:
        raise NotImplementedError


class DocumentSection(Section):
    form_class = DocumentForm

    def save(self, request, registration, form):
        services.add_document(request.user, registration.person, **form.cleaned_data)


class GroupSection(Section):
    form_class = GroupForm
    also_redraw = ("flags", "protection")

    def form_kwargs(self, request, registration):
        return {"visible_people": Person.objects.visible_to(request.user)}

    def save(self, request, registration, form):
        data = form.cleaned_data
        services.add_to_group(
            request.user, registration.person, relationship=data["relationship"], group=data["group_reference"],
            is_legal_guardian=data["is_legal_guardian"],
        )


class LanguagesSection(Section):
    form_class = LanguagesForm

    def initial(self, registration):
        person = registration.person
        return {"languages": person.languages, "version": person.version}

    def save(self, request, registration, form):
        services.update_person(
            request.user, registration.person, {"languages": form.codes()},
            expected_version=form.cleaned_data["version"], reason="languages",
        )


class TravelSection(Section):
    form_class = TravelDetailsForm

    def initial(self, registration):
        return {
            "purpose": registration.purpose, "destination_country": str(registration.destination_country),
            "destination_detail": registration.destination_detail, "consent_purposes": registration.consent_purposes,
            "version": registration.version,
        }

    def save(self, request, registration, form):
        services.update_details(request.user, registration, form.changes(), expected_version=form.cleaned_data["version"])


class FlagSection(Section):
    form_class = VulnerabilityForm

    def save(self, request, registration, form):
        services.flag(request.user, registration.person, form.cleaned_data["kind"], details=form.cleaned_data["details"], registration=registration)


class ReferralSection(Section):
    form_class = ReferralForm

    def save(self, request, registration, form):
        services.refer(request.user, registration.person, registration=registration, **form.cleaned_data)


class DuplicatesSection(Section):
    """Redrawn after a decision; its buttons post to ``decide_duplicate``."""

    def empty_form(self, request, registration):
        return None


SECTIONS: dict[str, Section] = {
    "documents": DocumentSection(), "group": GroupSection(), "languages": LanguagesSection(),
    "travel": TravelSection(), "flags": FlagSection(), "referrals": ReferralSection(),
    "duplicates": DuplicatesSection(),
}


def _run_section(request, registration, section: Section):
    """Validate and call the service; returns the form (bound with errors, or None if saved)."""
    form = section.bound_form(request, registration)
    if not form.is_valid():
        return form
    try:
        section.save(request, registration, form)
    except ValidationError as exc:
        apply_service_errors(form, exc)
    except (ConflictError, PermissionDenied) as exc:
        form.add_error(None, str(exc) or _("You may not do this."))
    else:
        return None
    return form


def _fragments(request, registration, name: str, form) -> HttpResponse:
    """The section's fragment (plus out-of-band copies of the sections it affects)."""
    registration.refresh_from_db()
    context = details_context(request, registration, {name: form} if form is not None else None)
    context["saved"] = form is None
    log_people(request, "view", _shown_people(context), purpose="registration details")
    html = render_to_string(f"registry/details/_{name}.html", context, request=request)
    for other in SECTIONS[name].also_redraw:
        html += render_to_string(f"registry/details/_{other}.html", {**context, "oob": True, "saved": False}, request=request)
    return HttpResponse(html)


@login_required
@require_POST
@permission_required("registry.change_registration", raise_exception=True)
def section(request: HttpRequest, pk, name: str) -> HttpResponse:
    """POST one sub-form. htmx gets the fragment back; a plain browser is redirected (PRG)
    on success or sees the whole page with the errors next to the fields."""
    registration = visible_registration(request, pk)
    if SECTIONS.get(name) is None or SECTIONS[name].form_class is None:
        raise Http404
    form = _run_section(request, registration, SECTIONS[name])
    if request.htmx:
        return _fragments(request, registration, name, form)
    if form is None:
        messages.success(request, _("Saved."))
        return redirect(f"{registration_url(registration)}#section-{name}")
    registration.refresh_from_db()
    context = details_context(request, registration, {name: form})
    log_people(request, "view", _shown_people(context), purpose="registration details")
    return render(request, "registry/details.html", context)


def registration_url(registration) -> str:
    return reverse("registry:details", kwargs={"pk": registration.pk})


@login_required
@require_POST
@permission_required("registry.change_registration", raise_exception=True)
def decide_duplicate(request: HttpRequest, pk, other) -> HttpResponse:
    """'Same person' / 'different person' on a visible candidate, kept as a decision."""
    registration = visible_registration(request, pk)
    candidate = visible_person(request, other)
    form = DuplicateDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.decide_duplicate(request.user, registration.person, candidate, form.cleaned_data["same"], form.cleaned_data["reason"])
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.error(request, _("Choose 'same person' or 'different person'."))
    if request.htmx:
        return _fragments(request, registration, "duplicates", None)
    return redirect(f"{registration_url(registration)}#section-duplicates")


@login_required
@require_POST
@permission_required("registry.change_registration", raise_exception=True)
def submit(request: HttpRequest, pk) -> HttpResponse:
    """Send the registration to review; possible duplicates at other posts go to supervisors."""
    registration = visible_registration(request, pk)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.submit(request.user, registration, expected_version=version)
    except (ValidationError, ConflictError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("registry:details", pk=registration.pk)
    matching.record_candidates(registration.person)
    messages.success(request, _("Registration %(ref)s submitted for review.") % {"ref": registration.person.display_reference})
    return redirect("registry:person", pk=registration.person.pk)

