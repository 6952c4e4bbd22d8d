"""Key rotation: old ciphertext reads during rotation; afterwards everything is under the new key."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from privacy import rotation
from tests.privacy.conftest import CANARY, make_key, raw_column

OLD, NEW, LOST = make_key(), make_key(), make_key()


@pytest.fixture
def rotate_only(secret_model, monkeypatch):
    """Point the command at the test table (the real models are covered by the same code)."""
    monkeypatch.setattr(rotation, "models_with_encrypted_fields", lambda: [secret_model])
    return secret_model


def _key_ids(column: str) -> list[str]:
    return [token.split(":")[1] for token in raw_column(column) if token is not None]


def test_rotation_reencrypts_every_row_and_old_ciphertext_reads_meanwhile(
    rotate_only, settings, capsys
):
    model = rotate_only
    settings.FIELD_ENCRYPTION_KEYRING = {"old": OLD}
    for i in range(7):
        model.objects.create(name=f"{CANARY[:10]}{i}", data={"i": i}, text=None)
    settings.FIELD_ENCRYPTION_KEYRING = {"new": NEW, "old": OLD}  # step 1: new key first, old kept
    model.objects.create(name="written during rotation", data=0)
    assert sorted(model.objects.values_list("name", flat=True))[0] == f"{CANARY[:10]}0"
    assert _key_ids("name") == ["old"] * 7 + ["new"]

    call_command("rotate_keys", "--batch-size", "3")

    assert _key_ids("name") == ["new"] * 8 and _key_ids("data") == ["new"] * 8
    assert raw_column("text") == [None] * 8
    assert "re-encrypted 14 of 16 values" in capsys.readouterr().out
    settings.FIELD_ENCRYPTION_KEYRING = {"new": NEW}  # step 3: the old key is gone
    assert [n.data for n in model.objects.order_by("id")] == [{"i": i} for i in range(7)] + [0]


def test_dry_run_changes_nothing(rotate_only, settings, capsys):
    settings.FIELD_ENCRYPTION_KEYRING = {"old": OLD}
    rotate_only.objects.create(name="a")
    before = raw_column("name")
    settings.FIELD_ENCRYPTION_KEYRING = {"new": NEW, "old": OLD}
    call_command("rotate_keys", "--dry-run")
    assert raw_column("name") == before
    assert "would re-encrypt 1 of 1 values" in capsys.readouterr().out


def test_missing_key_stops_clearly_and_leaves_the_batch_unchanged(rotate_only, settings):
    model = rotate_only
    settings.FIELD_ENCRYPTION_KEYRING = {"old": OLD}
    first = [model.objects.create(name=f"n{i}") for i in range(2)]
    settings.FIELD_ENCRYPTION_KEYRING = {"lost": LOST}
    model.objects.create(name="under a key nobody kept")
    settings.FIELD_ENCRYPTION_KEYRING = {"old": OLD}
    model.objects.create(name="n3")
    before = raw_column("name")
    settings.FIELD_ENCRYPTION_KEYRING = {"new": NEW, "old": OLD}

    with pytest.raises(
        CommandError, match=r"privacy\.SecretNote\.name pk=\d+: no key with id 'lost'"
    ):
        call_command("rotate_keys", "--batch-size", "2")

    after = raw_column("name")
    assert [t.split(":")[1] for t in after[:2]] == ["new", "new"]  # the first batch completed
    assert after[2:] == before[2:]  # the failing batch changed nothing
    assert model.objects.get(pk=first[0].pk).name == "n0"
