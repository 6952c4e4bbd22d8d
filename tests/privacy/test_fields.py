"""Encrypted model fields against a real PostgreSQL table."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import FieldError, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from privacy import crypto
from privacy.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
)
from tests.privacy.conftest import CANARY, make_key, raw_column, set_raw


def test_raw_columns_hold_no_plaintext(secret_model):
    secret_model.objects.create(
        name=CANARY,
        text=f"notes about {CANARY}",
        data={"who": CANARY},
        born=datetime.date(1990, 5, 17),
    )
    dump = " ".join(str(v) for col in ("name", "text", "data", "born") for v in raw_column(col))
    for needle in (CANARY, "Ñandú", "Canary", "Nandu", "1990-05-17"):
        assert needle not in dump
    assert all(v.startswith("fx1:t1:") for v in raw_column("name"))


def test_values_decrypt_with_the_key(secret_model):
    note = secret_model.objects.create(
        name=CANARY, data={"who": CANARY}, born=datetime.date(2001, 2, 3)
    )
    note = secret_model.objects.get(pk=note.pk)
    assert (note.name, note.data, note.born) == (CANARY, {"who": CANARY}, datetime.date(2001, 2, 3))
    token = raw_column("name")[0]
    assert crypto.decrypt_value(token, "privacy_test_secretnote.name") == CANARY


@pytest.mark.parametrize("value", [0, False, "", [], {}])
def test_falsy_json_values_round_trip(secret_model, value):
    note = secret_model.objects.create(data=value)
    assert secret_model.objects.get(pk=note.pk).data == value
    assert type(secret_model.objects.get(pk=note.pk).data) is type(value)


def test_empty_string_round_trips_and_none_stays_null(secret_model):
    note = secret_model.objects.create(name="", text=None, data=None, born=None)
    note = secret_model.objects.get(pk=note.pk)
    assert note.name == ""
    assert (note.text, note.data, note.born) == (None, None, None)
    assert (
        raw_column("text") == [None]
        and raw_column("data") == [None]
        and raw_column("born") == [None]
    )
    assert raw_column("name")[0].startswith("fx1:")


def test_wrong_key_fails_closed(secret_model, settings):
    note = secret_model.objects.create(name=CANARY)
    settings.FIELD_ENCRYPTION_KEYRING = {"t1": make_key()}
    with pytest.raises(crypto.DecryptionError):
        secret_model.objects.get(pk=note.pk)


def test_tampered_column_fails_closed(secret_model):
    note = secret_model.objects.create(name=CANARY)
    token = raw_column("name")[0]
    flipped = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
    set_raw(note.pk, "name", flipped)
    with pytest.raises(crypto.DecryptionError):
        secret_model.objects.get(pk=note.pk)


def test_legacy_plaintext_column_fails_closed(secret_model):
    note = secret_model.objects.create(name="x")
    set_raw(note.pk, "name", CANARY)
    with pytest.raises(crypto.DecryptionError) as info:
        list(secret_model.objects.values_list("name", flat=True))
    assert CANARY not in str(info.value)


def test_ciphertext_moved_to_another_column_fails_closed(secret_model):
    note = secret_model.objects.create(name="short", text=CANARY)
    set_raw(note.pk, "name", raw_column("text")[0])
    with pytest.raises(crypto.DecryptionError):
        secret_model.objects.get(pk=note.pk)


@pytest.mark.parametrize(
    "lookup",
    [
        {"name": CANARY},
        {"name__iexact": CANARY},
        {"name__icontains": "Ñandú"},
        {"name__startswith": "C"},
        {"name__in": [CANARY]},
        {"text__regex": "."},
        {"data__who": CANARY},
        {"data__contains": {"who": CANARY}},
        {"born__year": 1990},
        {"born__gte": datetime.date(1990, 1, 1)},
    ],
)
def test_only_isnull_lookups(secret_model, lookup):
    with pytest.raises(FieldError, match="supports only the 'isnull' lookup"):
        secret_model.objects.filter(**lookup)


def test_isnull_and_none_lookups_work(secret_model):
    secret_model.objects.create(text=CANARY)
    secret_model.objects.create(text=None)
    assert secret_model.objects.filter(text__isnull=True).count() == 1
    assert secret_model.objects.filter(text=None).count() == 1
    assert secret_model.objects.exclude(text__isnull=True).count() == 1


def test_char_max_length_is_checked_on_plaintext_and_column_is_text(secret_model):
    field = secret_model._meta.get_field("name")
    assert field.db_type(connection) == "text"
    secret_model(name="x" * 20).full_clean()
    with pytest.raises(ValidationError, match="name"):
        secret_model(name="x" * 21).full_clean()


def test_nul_characters_are_rejected_by_validation(secret_model):
    with pytest.raises(ValidationError):
        secret_model(name="Mar\x00ía").full_clean()


def test_unique_and_index_are_refused():
    with pytest.raises(TypeError, match="unique"):
        EncryptedTextField(unique=True)
    with pytest.raises(TypeError, match="db_index"):
        EncryptedCharField(max_length=5, db_index=True)
    with pytest.raises(TypeError, match="max_length"):
        EncryptedCharField()


@pytest.mark.parametrize(
    "field",
    [
        EncryptedCharField("name", max_length=40, blank=True),
        EncryptedTextField(null=True),
        EncryptedJSONField(default=list, encoder=DjangoJSONEncoder),
        EncryptedDateField(null=True, blank=True),
    ],
)
def test_deconstruct_rebuilds_an_equal_field(field):
    name, path, args, kwargs = field.deconstruct()
    assert path.startswith("privacy.fields.Encrypted")
    rebuilt = type(field)(*args, **kwargs)
    assert rebuilt.deconstruct()[1:] == (path, args, kwargs)
    if isinstance(field, EncryptedCharField):
        assert kwargs["max_length"] == 40
    if isinstance(field, EncryptedJSONField):
        assert kwargs["encoder"] is DjangoJSONEncoder


def test_update_and_bulk_create_encrypt_too(secret_model):
    secret_model.objects.bulk_create([secret_model(name="a"), secret_model(name="b")])
    secret_model.objects.update(text=CANARY)
    assert CANARY not in " ".join(raw_column("text"))
    assert set(secret_model.objects.values_list("text", flat=True)) == {CANARY}
