"""The border post: scan or type a card, confirm the person, one tap for entry or exit; and the
anonymous head-count form for informal crossings."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from registry import reference
from registry.models import Person
from registry.resolution import merge
from transit import cards, services
from transit.forms import HeadCountForm, LookupForm, MovementForm, post_places
from transit.models import Permit, TransitEvent
from transit.views.common import card_holders_or_visible, log_person_read
from transit.vocabulary import EventKind, Source

PERM = "transit.add_transitevent"


def _find(user, code: str):
    """(person, permit) for a scanned token or a typed reference; (None, None) if unknown."""
    people = card_holders_or_visible(user)
    if cards.looks_like_token(code):
        claims = cards.read_token(code)
        if claims is None:
            return None, None
        permit = Permit.objects.select_related("person").filter(number=claims.number).first()
        if permit is None or claims.reference not in merge.references_of(permit.person):
            return None, None
        person = people.filter(pk=permit.person_id).first()
        return person, permit if person else None
    ref = reference.normalise(code)
    typed = Person.objects.filter(reference=ref).select_related("merged_into").first() if ref else None
    survivor = merge.survivor_of(typed)  # a merged record's reference leads to its survivor
    person = people.filter(pk=survivor.pk).first() if survivor else None
    permit = Permit.objects.filter(person=person).order_by("-valid_until").first() if person else None
    return person, permit


def _default_place(request, places):
    wanted = request.GET.get("place") or request.POST.get("place")
    return next((p for p in places if str(p.pk) == wanted), places[0] if places else None)


@login_required
@permission_required(PERM, raise_exception=True)
def post_home(request: HttpRequest) -> HttpResponse:
    """The quick-entry screen of the official's post."""
    places = list(post_places(request.user))
    place = _default_place(request, places)
    return render(request, "transit/post.html", {"places": places, "place": place, "form": LookupForm()})


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def lookup(request: HttpRequest) -> HttpResponse:
    """The confirm-identity panel (htmx fragment); the read of the person is access-logged."""
    form = LookupForm(request.POST)
    places = list(post_places(request.user))
    place = _default_place(request, places)
    person = permit = None
    if form.is_valid():
        person, permit = _find(request.user, form.cleaned_data["code"])
    base = {"places": places, "place": place, "form": form}
    if person is None:
        return _panel(request, "transit/_not_found.html", base)
    log_person_read(request, [person], purpose="transit.quick_entry")
    last = TransitEvent.objects.filter(person=person).select_related("place").order_by("-occurred_at").first()
    context = {
        **base, "person": person, "permit": permit, "last_event": last, "key": uuid.uuid4().hex,
        "scanned": cards.looks_like_token(form.cleaned_data["code"]),
        "permit_status": services.effective_status(permit) if permit else None,
        "entry": EventKind.ENTRY, "exit": EventKind.EXIT,
    }
    return _panel(request, "transit/_confirm.html", context)


def _panel(request, template: str, context: dict) -> HttpResponse:
    """htmx gets the panel alone; a plain form post gets the whole post page around it."""
    if request.htmx:
        return render(request, template, context)
    return render(request, "transit/post.html", {**context, "panel": template})


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def record_movement(request: HttpRequest) -> HttpResponse:
    """One tap: record the entry or exit of the confirmed person."""
    form = MovementForm(request.POST, user=request.user)
    if not form.is_valid():
        return render(request, "transit/_recorded.html", {"errors": form.errors}, status=400)
    person = card_holders_or_visible(request.user).filter(pk=form.cleaned_data["person"]).first()
    if person is None:
        raise Http404
    data = services.EventInput(
        place=form.cleaned_data["place"], kind=form.cleaned_data["kind"], person=person,
        idempotency_key=form.cleaned_data["idempotency_key"], occurred_at=form.event_time(),
        direction=form.cleaned_data["direction"], mode=form.cleaned_data["mode"],
        source=Source.CARD_SCAN if form.cleaned_data["scanned"] else Source.FORM,
    )
    try:
        event = services.record_event(request.user, data)
    except ValidationError as exc:
        return render(request, "transit/_recorded.html", {"errors": exc.message_dict}, status=422)
    return render(request, "transit/_recorded.html", {"event": event, "person": person})


@login_required
@permission_required(PERM, raise_exception=True)
@require_http_methods(["GET", "POST"])
def head_count(request: HttpRequest) -> HttpResponse:
    """Anonymous counts by sex × age bracket at an informal crossing."""
    form = HeadCountForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = services.EventInput(
            place=form.cleaned_data["place"], kind=form.cleaned_data["kind"], head_count=form.counts(),
            idempotency_key=form.cleaned_data["idempotency_key"], occurred_at=form.event_time(),
            direction=form.cleaned_data["direction"], mode=form.cleaned_data["mode"],
        )
        try:
            event = services.record_event(request.user, data)
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            total = event.head_count.total
            messages.success(
                request, ngettext("Head count recorded: %(n)d person.", "Head count recorded: %(n)d people.", total) % {"n": total}
            )
            return redirect("transit:head-count")
    return render(request, "transit/head_count.html", {"form": form}, status=200 if form.is_valid() or not form.is_bound else 400)


def _add_errors(form, exc: ValidationError) -> None:
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)
