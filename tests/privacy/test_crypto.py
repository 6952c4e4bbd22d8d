"""AES-GCM tokens: format, key ids, context binding, and failing closed."""

from __future__ import annotations

import base64
import json

import pytest

from privacy import crypto
from tests.privacy.conftest import CANARY, make_key


def test_token_format_names_the_active_key(settings):
    settings.FIELD_ENCRYPTION_KEYRING = {"k2": make_key(), "k1": make_key()}
    token = crypto.encrypt_value(CANARY, "t.c")
    prefix, kid, payload = token.split(":")
    assert (prefix, kid) == ("fx1", "k2")
    assert len(base64.b64decode(payload)) == crypto.NONCE_BYTES + len(f'"{CANARY}"'.encode()) + 16
    assert CANARY not in token


@pytest.mark.parametrize("value", [0, False, "", [], {}, 0.0, "0", CANARY, {"a": [1, None, True]}])
def test_falsy_and_typed_values_round_trip(value):
    decrypted = crypto.decrypt_value(crypto.encrypt_value(value, "t.c"), "t.c")
    assert decrypted == value
    assert type(decrypted) is type(value)


def test_none_is_not_encrypted():
    assert crypto.encrypt_value(None, "t.c") is None
    assert crypto.decrypt_value(None, "t.c") is None


def test_same_value_encrypts_differently_each_time():
    assert crypto.encrypt_value(CANARY, "t.c") != crypto.encrypt_value(CANARY, "t.c")


def test_wrong_key_raises(settings):
    token = crypto.encrypt_value(CANARY, "t.c")
    settings.FIELD_ENCRYPTION_KEYRING = {"t1": make_key()}  # same id, different key
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_value(token, "t.c")


def test_unknown_key_id_raises(settings):
    settings.FIELD_ENCRYPTION_KEYRING = {"old": make_key()}
    token = crypto.encrypt_value(CANARY, "t.c")
    settings.FIELD_ENCRYPTION_KEYRING = {"new": make_key()}
    with pytest.raises(crypto.DecryptionError, match="no key with id 'old'"):
        crypto.decrypt_value(token, "t.c")


def test_other_context_raises():
    token = crypto.encrypt_value(CANARY, "registry_person.given_names")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_value(token, "registry_person.first_surname")


def test_edited_key_id_raises(settings):
    key = make_key()
    settings.FIELD_ENCRYPTION_KEYRING = {"a": key, "b": key}  # even the same key under another id
    token = crypto.encrypt_value(CANARY, "t.c")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_value(token.replace("fx1:a:", "fx1:b:"), "t.c")


@pytest.mark.parametrize("position", [0, 5, 20, -3])
def test_tampered_ciphertext_raises(position):
    token = crypto.encrypt_value(CANARY, "t.c")
    prefix, payload = token.rsplit(":", 1)
    raw = bytearray(base64.b64decode(payload))
    raw[position] ^= 0x01
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_value(f"{prefix}:{base64.b64encode(bytes(raw)).decode()}", "t.c")


@pytest.mark.parametrize(
    "stored",
    [
        CANARY,
        "",
        "fx1:",
        "fx1:t1:",
        "fx1:t1:not base64!",
        "fx1:t1:AAAA",
        "fx2:t1:AAAAAAAAAAAAAAAAAAAAAAAA",
    ],
)
def test_legacy_plaintext_and_garbage_raise_without_echo(stored):
    with pytest.raises(crypto.DecryptionError) as info:
        crypto.decrypt_value(stored, "t.c")
    assert CANARY not in str(info.value)


def test_keys_are_read_at_call_time(settings):
    settings.FIELD_ENCRYPTION_KEYRING = {"first": make_key()}
    assert crypto.active_key_id() == "first"
    settings.FIELD_ENCRYPTION_KEYRING = {"second": make_key()}
    assert crypto.encrypt_value(1, "t.c").startswith("fx1:second:")


def test_a_column_decrypts_in_one_call_with_the_same_answers_and_checks(settings):
    """``decrypt_values`` (the matching engine's batch path) answers what ``decrypt_value`` does
    token by token, ``None`` kept in place, under every key of the ring; one bad token fails the
    whole call closed."""
    settings.FIELD_ENCRYPTION_KEYRING = {"old": make_key()}
    values = [CANARY, "", 0, [], None, {"a": 1}]
    tokens = [crypto.encrypt_value(v, "t.c") for v in values]
    settings.FIELD_ENCRYPTION_KEYRING = {"new": make_key(), **settings.FIELD_ENCRYPTION_KEYRING}
    tokens.append(crypto.encrypt_value("nuevo", "t.c"))
    assert crypto.decrypt_values(tokens, "t.c") == [*values, "nuevo"]
    assert crypto.decrypt_values(tokens, "t.c") == [crypto.decrypt_value(t, "t.c") for t in tokens]
    for bad in (CANARY, tokens[0][:-6] + "AAAAAA", tokens[0].replace("fx1:old:", "fx1:gone:")):
        with pytest.raises(crypto.DecryptionError):
            crypto.decrypt_values([tokens[1], bad], "t.c")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt_values(tokens, "other.column")


@pytest.mark.parametrize("value", [
    "", "María José", "Nguyễn 阮", "comilla \" dentro", "barra \\ dentro", "tab\tdentro", "línea\nnueva",
    "\u2028", "\x7f", "emoji 🌵", "[]", "null", 0, 1.5, None, True, [], ["Chuy"], {"a": "b"},
])
def test_decoded_values_are_what_json_says(value):
    """The shortcut for plain strings answers what ``json.loads`` does, escapes included."""
    encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    assert crypto._decoded(encoded, None) == json.loads(encoded) == value


@pytest.mark.parametrize("data", [b'"\x01"', b'"\xff"', b'"abc', b'abc"', b'"a"b"', b""])
def test_malformed_plaintexts_fail_closed(data):
    """What ``json.loads`` refuses (raw control characters, bad UTF-8, torn quotes) is refused."""
    with pytest.raises(crypto.DecryptionError):
        crypto._decoded(data, None)
