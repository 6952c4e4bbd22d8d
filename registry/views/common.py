"""What every registry page shares: scoped lookups, the access log, masking, history."""

from __future__ import annotations

from collections.abc import Iterable

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from privacy.access_log import log_access
from registry.models import Person, Registration

PAGE_SIZE = 25
HISTORY_TYPES = {"+": _("Created"), "~": _("Changed"), "-": _("Deleted")}
PERSON = "registry.person"


def visible_person(request, pk) -> Person:
    """The person if the user may see them, else 404 (never 403: no existence oracle)."""
    return get_object_or_404(Person.objects.visible_to(request.user), pk=pk)


def visible_registration(request, pk) -> Registration:
    queryset = Registration.objects.visible_to(request.user).select_related("person", "place", "official")
    return get_object_or_404(queryset, pk=pk)


def log_people(request, action: str, ids: Iterable, purpose: str = "", object_type: str = PERSON) -> None:
    """One access-log row for the identified people a response shows; raises (→ 503) on failure."""
    log_access(
        user=request.user, action=action, object_type=object_type, object_ids=list(dict.fromkeys(ids)),
        purpose=purpose, request=request,
    )


def mask(number: str, shown: int = 3) -> str:
    """A document number with all but the last ``shown`` characters hidden."""
    if len(number) <= shown:
        return "•" * len(number)
    return "•" * (len(number) - shown) + number[-shown:]


def page_querystring(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _field_label(model, name: str) -> str:
    try:
        return str(model._meta.get_field(name).verbose_name)
    except Exception:  # noqa: BLE001 - a field removed since the record was written
        return name


def history_entries(records: Iterable, model) -> list[dict]:
    """Who changed what and when, as field *names* only: values (often encrypted) never leave."""
    entries, previous = [], {}
    for record in sorted(records, key=lambda r: r.history_date):
        before = previous.get(record.id)
        if before is None or record.history_type != "~":
            fields = []
        else:
            changed = [name for name in record.diff_against(before).changed_fields if name != "version"]
            if not changed:  # the optimistic version bump before a save: bookkeeping, not a change
                previous[record.id] = record
                continue
            fields = [_field_label(model, name) for name in changed]
        previous[record.id] = record
        entries.append({
            "at": record.history_date, "user": record.history_user, "type": HISTORY_TYPES.get(record.history_type, record.history_type),
            "model": model._meta.verbose_name, "fields": fields, "reason": record.history_change_reason or "",
        })
    return sorted(entries, key=lambda e: e["at"], reverse=True)
