"""The supervisors' duplicate queue: the pairs, a side-by-side comparison with the decision, the
recent merges with their undo, and the redirect of a merged record's pages to its survivor.
The rules (who is in the queue, what a decision does) live in ``registry.resolution.merge``."""

from __future__ import annotations

import functools

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from registry import services
from registry.forms import apply_service_errors
from registry.models import DuplicateCandidate, MergeRecord, Person, Registration
from registry.resolution import merge, reasons
from registry.resolution.engine import probable_threshold
from registry.services import ConflictError
from registry.views.common import PAGE_SIZE, log_people, mask, page_querystring
from registry.vocabulary import PersonStatus

MERGES = "merges"
SHOW = {
    merge.QueueView.PENDING: gettext_lazy("To decide"),
    merge.QueueView.DECIDED: gettext_lazy("Decided"),
    MERGES: gettext_lazy("Merges"),
}
BANDS = {
    "": gettext_lazy("All scores"),
    "probable": gettext_lazy("Probable duplicates"),
    "possible": gettext_lazy("Possible duplicates"),
}


class DecisionForm(forms.Form):
    """Same person (keeping one of the two records) or different people, always with a reason;
    the versions the supervisor saw, so a record changed meanwhile is not merged blindly."""

    KEEP_A, KEEP_B, DIFFERENT = "keep_a", "keep_b", "different"
    decision = forms.ChoiceField(
        label=gettext_lazy("Decision"),
        widget=forms.RadioSelect,
        choices=[(KEEP_A, KEEP_A), (KEEP_B, KEEP_B), (DIFFERENT, DIFFERENT)],  # labelled per pair
        error_messages={"required": gettext_lazy("Choose a decision.")},
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "What convinced you (a document seen, the interview...). Kept in the history."
        ),
        error_messages={"required": gettext_lazy("Give the reason for your decision.")},
    )
    version_a = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    version_b = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, pair: DuplicateCandidate, **kwargs):
        super().__init__(*args, **kwargs)
        refs = {"a": pair.person_a.display_reference, "b": pair.person_b.display_reference}
        self.fields["decision"].choices = [
            (self.KEEP_A, _("Same person: keep %(a)s, merge %(b)s into it") % refs),
            (self.KEEP_B, _("Same person: keep %(b)s, merge %(a)s into it") % refs),
            (self.DIFFERENT, _("Different people")),
        ]


class UnmergeForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason for undoing the merge"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Give the reason for undoing the merge.")},
    )


# --- the queue ------------------------------------------------------------------------------------


def _choice(request, name: str, allowed) -> str:
    value = request.GET.get(name, "")
    return value if value in allowed else next(iter(allowed))


@login_required
@require_safe
@permission_required("registry.view_duplicatecandidate", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    """Pairs to decide (highest score first), decided pairs, or recent merges; one access-log row."""
    show, band = _choice(request, "show", SHOW), _choice(request, "band", BANDS)
    if show == MERGES:
        rows = merge.merges_visible_to(request.user)
    else:
        rows = merge.queue_for(request.user, show, band)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [pid for row in page.object_list for pid in _people_ids(row)]
    if shown:
        log_people(request, "list", shown, purpose=f"duplicate queue ({show})")
    context = {
        "page_obj": page,
        "querystring": page_querystring(request),
        "show": show,
        "band": band,
        "shows": SHOW,
        "bands": BANDS,
        "probable": probable_threshold(),
        "pairs": [_pair_row(row) for row in page.object_list] if show != MERGES else [],
        "merges": [
            {"record": r, "undoable": merge.can_undo(r), "deadline": merge.undo_deadline(r)}
            for r in page.object_list
        ]
        if show == MERGES
        else [],
    }
    return render(request, "registry/duplicates/queue.html", context)


def _people_ids(row) -> list:
    if isinstance(row, MergeRecord):
        return [row.survivor_id, row.merged_id]
    return [row.person_a_id, row.person_b_id]


def _pair_row(pair: DuplicateCandidate) -> dict:
    return {
        "pair": pair,
        "reasons": reasons.labels(reasons.to_code(r) for r in pair.reasons),
        "probable": pair.score >= probable_threshold(),
    }


# --- the comparison and the decision ------------------------------------------------------------


def _birth(person: Person) -> str:
    if person.birth_date:
        return person.birth_date.isoformat()
    if person.birth_year:
        return f"{person.birth_year} ({person.get_birth_precision_display()})"
    return ""


def _documents(person: Person) -> tuple[list[str], set]:
    """Masked documents for display, and their full identity for comparing (never shown)."""
    docs = list(person.documents.all())
    shown = [f"{d.get_kind_display()} {d.issuing_country} {mask(d.number)}" for d in docs]
    return shown, {(d.kind, str(d.issuing_country), d.number) for d in docs}


def _places(person: Person) -> list[str]:
    return sorted(
        {r.place.code for r in Registration.objects.filter(person=person).select_related("place")}
    )


def _row(label, a, b, *, same=None) -> dict:
    """One line of the comparison; ``differs`` highlights it (empty on both sides is no difference)."""
    differs = (a != b) if same is None else not same
    return {"label": label, "a": a, "b": b, "differs": differs and bool(a or b)}


def comparison(a: Person, b: Person) -> list[dict]:
    docs_a, keys_a = _documents(a)
    docs_b, keys_b = _documents(b)
    rows = [
        _row(_("Given names"), a.given_names, b.given_names),
        _row(_("First surname"), a.first_surname, b.first_surname),
        _row(_("Second surname"), a.second_surname, b.second_surname),
        _row(_("Other names"), ", ".join(a.aliases), ", ".join(b.aliases)),
        _row(_("Sex"), a.get_sex_display(), b.get_sex_display()),
        _row(_("Date of birth"), _birth(a), _birth(b)),
        _row(
            _("Nationality"),
            a.nationality.name if a.nationality else "",
            b.nationality.name if b.nationality else "",
        ),
        _row(
            _("Country of birth"),
            a.country_of_birth.name if a.country_of_birth else "",
            b.country_of_birth.name if b.country_of_birth else "",
        ),
        _row(_("Languages"), ", ".join(a.languages), ", ".join(b.languages)),
        _row(_("Documents"), "; ".join(docs_a), "; ".join(docs_b), same=keys_a == keys_b),
        _row(_("Registered at"), ", ".join(_places(a)), ", ".join(_places(b))),
        _row(_("Vulnerabilities"), ", ".join(_flags(a)), ", ".join(_flags(b))),
    ]
    return rows


def _flags(person: Person) -> list[str]:
    """Active flags by kind only (details stay on the person page, behind their permission)."""
    return sorted(str(f.get_kind_display()) for f in person.vulnerabilities.filter(is_active=True))


def _visible_pair(request, pk) -> DuplicateCandidate:
    """The pair if the user can see both records (either may since be a merged tombstone whose
    survivor they see), else 404."""
    pair = get_object_or_404(
        DuplicateCandidate.objects.select_related("person_a", "person_b", "decided_by"), pk=pk
    )
    visible = Person.objects.visible_to(request.user)
    for person in (pair.person_a, pair.person_b):
        if not visible.filter(pk=(merge.survivor_of(person) or person).pk).exists():
            raise Http404
    return pair


def _decide(request, pair: DuplicateCandidate, form: DecisionForm):
    """Call the service; errors land on the form. Returns the result or None."""
    data = form.cleaned_data
    same = data["decision"] != DecisionForm.DIFFERENT
    survivor = pair.person_a if data["decision"] == DecisionForm.KEEP_A else pair.person_b
    versions = {pair.person_a_id: data["version_a"], pair.person_b_id: data["version_b"]}
    try:
        return services.decide_candidate(
            request.user,
            pair,
            same=same,
            reason=data["reason"],
            survivor=survivor if same else None,
            expected_versions=versions,
        )
    except ValidationError as exc:
        apply_service_errors(form, exc)
    except (PermissionDenied, ConflictError) as exc:
        form.add_error(
            None,
            str(exc) if isinstance(exc, ConflictError) else _("You may not decide on this pair."),
        )
    return None


def _done(request, result) -> HttpResponse:
    if isinstance(result, MergeRecord):
        messages.success(
            request,
            _(
                "Records merged: %(merged)s now points to %(survivor)s. You can undo this from Merges."
            )
            % {
                "merged": result.merged.display_reference,
                "survivor": result.survivor.display_reference,
            },
        )
    else:
        messages.success(request, _("Recorded as different people. The pair will not come back."))
    return redirect("registry:duplicates")


@login_required
@require_http_methods(["GET", "POST"])
@permission_required("registry.change_duplicatecandidate", raise_exception=True)
def compare(request: HttpRequest, pk) -> HttpResponse:
    """Both records side by side, differences highlighted, the score's reasons, and the decision."""
    pair = _visible_pair(request, pk)
    open_ = merge.awaiting_decision(pair)
    initial = {"version_a": pair.person_a.version, "version_b": pair.person_b.version}
    form = DecisionForm(request.POST or None, initial=initial, pair=pair)
    if request.method == "POST":
        if not open_:
            form.is_valid()
            form.add_error(
                None,
                _("This pair was already decided (%(decision)s). Nothing was changed.")
                % {"decision": pair.get_status_display()},
            )
        elif form.is_valid() and (result := _decide(request, pair, form)) is not None:
            return _done(request, result)
        pair = _visible_pair(request, pk)
        open_ = merge.awaiting_decision(pair)
        if "version_a" in form.errors or "version_b" in form.errors or form.non_field_errors():
            form = _refreshed(form, pair)
    a, b = pair.person_a, pair.person_b
    log_people(request, "view", [a.pk, b.pk], purpose="duplicate comparison")
    context = {
        "pair": pair,
        "a": a,
        "b": b,
        "rows": comparison(a, b),
        "form": form,
        "open": open_,
        "reasons": reasons.labels(reasons.to_code(r) for r in pair.reasons),
        "probable": pair.score >= probable_threshold(),
        "suggested": merge.suggested_survivor(a, b) if open_ else None,
        "warnings": merge.warnings(a, b) if open_ else [],
        "record": MergeRecord.objects.filter(survivor__in=[a, b], merged__in=[a, b]).first(),
    }
    status = 409 if request.method == "POST" and form.non_field_errors() else 200
    return render(request, "registry/duplicates/compare.html", context, status=status)


def _refreshed(form: DecisionForm, pair: DuplicateCandidate) -> DecisionForm:
    """The supervisor's input again against the current versions: deciding again is deliberate
    after seeing the records as they are now."""
    data = form.data.copy()
    data["version_a"], data["version_b"] = str(pair.person_a.version), str(pair.person_b.version)
    fresh = DecisionForm(data, pair=pair)
    fresh.is_valid()
    for error in form.non_field_errors():
        fresh.add_error(None, error)
    return fresh


# --- undo -------------------------------------------------------------------------------------------


@login_required
@require_POST
@permission_required("registry.merge_person", raise_exception=True)
def unmerge(request: HttpRequest, pk) -> HttpResponse:
    """Undo a merge (within MERGE_UNDO_DAYS) with a reason; errors come back as messages."""
    record = get_object_or_404(merge.merges_visible_to(request.user), pk=pk)
    form = UnmergeForm(request.POST)
    back = f"{reverse('registry:duplicates')}?show={MERGES}"
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["reason"]))
        return redirect(back)
    try:
        services.unmerge_people(request.user, record, form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except ConflictError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Merge undone: %(merged)s and %(survivor)s are separate records again.")
            % {
                "merged": record.merged.display_reference,
                "survivor": record.survivor.display_reference,
            },
        )
    return redirect(back)


# --- old references keep working --------------------------------------------------------------------


def follows_merges(view):
    """Wrap a person page (``pk`` in the URL) so a merged record's address leads to its
    survivor's page: links, bookmarks and printed receipts of the old record keep working.
    Nothing is revealed: the survivor must be visible to the user, else the view's own 404."""

    @functools.wraps(view)
    def wrapper(request, pk, *args, **kwargs):
        person = (
            Person.objects.filter(pk=pk, status=PersonStatus.MERGED)
            .select_related("merged_into")
            .first()
        )
        survivor = merge.survivor_of(person) if person else None
        if (
            survivor is not None
            and Person.objects.visible_to(request.user).filter(pk=survivor.pk).exists()
        ):
            messages.info(
                request,
                _("Record %(old)s was merged into %(new)s; you are seeing %(new)s.")
                % {"old": person.display_reference, "new": survivor.display_reference},
            )
            return redirect(request.resolver_match.view_name, pk=survivor.pk, **kwargs)
        return view(request, pk, *args, **kwargs)

    return wrapper
