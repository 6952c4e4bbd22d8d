"""Breach register (SECURITY.md LG-5): facts, effects, remedial action required; append-only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse
from django.utils import timezone

from accounts.models import BreachRecord
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db

ENTRY = {
    "detected_at_0": "2026-03-02",
    "detected_at_1": "10:00:00",
    "facts": "A tablet at post MXGT-03 was lost with an open session.",
    "effects": "Registrations of that day could be viewed by the finder.",
    "remedial_action": "Sessions of the post ended; device wiped remotely.",
}


def entry(user, **overrides) -> BreachRecord:
    values = {
        "detected_at": timezone.now(), "facts": "f", "effects": "e", "remedial_action": "r", "recorded_by": user,
        **overrides,
    }
    return BreachRecord(**values)


@pytest.mark.parametrize("field", ["facts", "effects", "remedial_action"])
def test_each_text_is_required(make_user, field):
    record = entry(make_user("admin"), **{field: ""})
    with pytest.raises(ValidationError) as exc:
        record.full_clean()
    assert field in exc.value.error_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        record.save()


def test_entries_cannot_be_edited_or_deleted(make_user):
    record = entry(make_user("admin"))
    record.save()
    record.facts = "rewritten"
    with pytest.raises(PermissionError):
        record.save()
    with pytest.raises(PermissionError):
        record.delete()


@pytest.mark.parametrize("statement", ["UPDATE {t} SET facts = 'x'", "DELETE FROM {t}"])
def test_register_is_append_only_in_postgresql(make_user, statement):
    assert connection.vendor == "postgresql"
    entry(make_user("admin")).save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(t=BreachRecord._meta.db_table))
    assert BreachRecord.objects.get().facts == "f"


def test_admin_adds_an_entry_as_themselves(make_user):
    admin_user = make_user("admin")
    response = verified_client(admin_user).post(reverse("admin:accounts_breachrecord_add"), ENTRY)
    assert response.status_code == 302
    record = BreachRecord.objects.get()
    assert record.recorded_by == admin_user
    assert record.remedial_action == ENTRY["remedial_action"]


def test_admin_form_refuses_a_missing_effect(make_user):
    client = verified_client(make_user("admin"))
    response = client.post(reverse("admin:accounts_breachrecord_add"), {**ENTRY, "effects": ""})
    assert response.status_code == 200
    assert not BreachRecord.objects.exists()


def test_nobody_changes_or_deletes_through_the_admin(make_user):
    admin_user = make_user("admin")
    record = entry(admin_user)
    record.save()
    client = verified_client(admin_user)
    client.post(reverse("admin:accounts_breachrecord_change", args=[record.pk]), {**ENTRY, "facts": "edited"})
    delete = client.post(reverse("admin:accounts_breachrecord_delete", args=[record.pk]), {"post": "yes"})
    assert delete.status_code == 403
    assert BreachRecord.objects.get().facts == "f"


def test_auditor_reads_but_cannot_add(make_user):
    auditor = make_user("auditor", is_staff=True)
    client = verified_client(auditor)
    assert client.get(reverse("admin:accounts_breachrecord_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_securityevent_changelist")).status_code == 200
    assert client.post(reverse("admin:accounts_breachrecord_add"), ENTRY).status_code == 403


def test_registrar_staff_sees_neither_register(make_user):
    client = verified_client(make_user("registrar", is_staff=True))
    assert client.get(reverse("admin:accounts_breachrecord_changelist")).status_code == 403
    assert client.get(reverse("admin:accounts_securityevent_changelist")).status_code == 403
