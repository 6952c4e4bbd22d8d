"""Finding and reading people: the search page, the person page and the identity edit."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from registry import matching, services
from registry import people as people_rules
from registry.forms import PersonEditForm, SearchForm, apply_service_errors
from registry.models import IdentityDocument, Person, Registration, RegistrationTransition
from registry.services import ConflictError
from registry.views.common import (
    PAGE_SIZE,
    history_entries,
    log_people,
    mask,
    page_querystring,
    visible_person,
)
from registry.views.registration import group_context

TABS = ("summary", "history")


def _filtered_people(user, form: SearchForm):
    """Visible people narrowed by the filters (status and place of any of their registrations)."""
    base = Person.objects.visible_to(user)
    data = form.cleaned_data
    registrations = Registration.objects.all()
    if data.get("status"):
        registrations = registrations.filter(status=data["status"])
    if data.get("place"):
        registrations = registrations.filter(place=data["place"])
    if data.get("status") or data.get("place"):
        base = base.filter(pk__in=registrations.values("person_id"))
    if data.get("nationality"):
        base = base.filter(nationality=data["nationality"])
    return base


def _results(user, form: SearchForm) -> list | None:
    """None when there is nothing to look for (the empty state explains how to search)."""
    if not form.is_valid():
        return None
    text = form.cleaned_data["q"]
    base = _filtered_people(user, form)
    if text:
        return matching.search(user, text, base=base)
    if form.filtered():
        return list(base.order_by("-created_at")[:500])
    return None


@login_required
@require_safe
@permission_required("registry.view_person", raise_exception=True)
def search(request: HttpRequest) -> HttpResponse:
    """One box (name, reference, document number) plus filters; one access-log row per page."""
    form = SearchForm(request.GET or None)
    found = _results(request.user, form)
    page = Paginator(found or [], PAGE_SIZE).get_page(request.GET.get("page"))
    people = list(page.object_list)
    latest = {r.person_id: r for r in Registration.objects.filter(person__in=people).select_related("place").order_by("registered_at")}
    rows = [{"person": p, "registration": latest.get(p.pk)} for p in people]
    if rows:
        action = "search" if form.cleaned_data.get("q") else "list"
        log_people(request, action, [p.pk for p in people], purpose="search")
    context = {"form": form, "page_obj": page, "rows": rows, "searched": found is not None, "querystring": page_querystring(request)}
    template = "registry/_search_results.html" if request.htmx else "registry/search.html"
    return render(request, template, context)


def _registrations(user, person: Person) -> list[Registration]:
    transitions = Prefetch("transitions", queryset=RegistrationTransition.objects.select_related("by"))
    return list(
        Registration.objects.visible_to(user).filter(person=person)
        .select_related("place", "agency", "official").prefetch_related(transitions)
    )


def _documents(person: Person, reveal) -> list[dict]:
    return [
        {"doc": d, "masked": mask(d.number), "revealed": str(d.pk) == reveal}
        for d in person.documents.all()
    ]


def _history(person: Person, registrations) -> list[dict]:
    entries = history_entries(person.history.select_related("history_user"), Person)
    entries += history_entries(Registration.history.filter(id__in=[r.pk for r in registrations]).select_related("history_user"), Registration)
    entries += history_entries(IdentityDocument.history.filter(person_id=person.pk).select_related("history_user"), IdentityDocument)
    return sorted(entries, key=lambda e: e["at"], reverse=True)


@login_required
@require_safe
@permission_required("registry.view_person", raise_exception=True)
def person_detail(request: HttpRequest, pk) -> HttpResponse:
    """The person page. Every view is logged in the request's transaction (LG-1); revealing a
    document number writes one more row."""
    person = visible_person(request, pk)
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "summary"
    registrations = _registrations(request.user, person)
    documents = _documents(person, request.GET.get("reveal", ""))
    group = group_context(request.user, person)
    context = {
        "person": person, "tab": tab, "registrations": registrations, "documents": documents, **group,
        "age": people_rules.age_on(person), "child_protection": people_rules.child_protection_status(person),
        "flags": person.vulnerabilities.filter(is_active=True).select_related("recorded_by"),
        "referrals": person.referrals.select_related("to_agency", "to_place"),
        "can_see_flag_details": request.user.has_perm("registry.view_vulnerability"),
        "history": _history(person, registrations) if tab == "history" else [],
        "latest": registrations[0] if registrations else None,
    }
    shown = [person.pk, *[row["membership"].person_id for row in group["members"] if row["visible"]]]
    log_people(request, "view", shown, purpose="person page")
    revealed = [row["doc"].pk for row in documents if row["revealed"]]
    if revealed:
        log_people(request, "view", revealed, purpose="reveal document number", object_type="registry.identitydocument")
    return render(request, "registry/person_detail.html", context)


def _conflict_form(request, person: Person, message: str) -> PersonEditForm:
    """The user's input again, now against the current version: saving it again is a
    deliberate overwrite after seeing the current values next to it."""
    data = request.POST.copy()
    data["version"] = str(person.version)
    form = PersonEditForm(data, initial=PersonEditForm.initial_for(person))
    form.is_valid()
    form.add_error(None, message)
    return form


@login_required
@require_http_methods(["GET", "POST"])
@permission_required("registry.change_person", raise_exception=True)
def person_edit(request: HttpRequest, pk) -> HttpResponse:
    """Correct the identity. A stale ``version`` (someone saved first) shows a conflict and keeps
    the user's input; the current values are shown so the user can decide."""
    person = visible_person(request, pk)
    form = PersonEditForm(request.POST or None, initial=PersonEditForm.initial_for(person))
    conflict = False
    if request.method == "POST" and form.is_valid():
        try:
            services.update_person(
                request.user, person, form.changes(), expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data["reason"],
            )
        except ConflictError as exc:
            conflict = True
            person.refresh_from_db()
            form = _conflict_form(request, person, str(exc))
        except ValidationError as exc:
            apply_service_errors(form, exc)
            person.refresh_from_db()
        else:
            messages.success(request, _("The identity was corrected."))
            return redirect("registry:person", pk=person.pk)
    log_people(request, "view", [person.pk], purpose="identity edit")
    return render(request, "registry/person_edit.html", {"person": person, "form": form, "conflict": conflict})
