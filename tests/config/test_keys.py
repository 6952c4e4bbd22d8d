"""Unit tests for config/keys.py: key decoding, keyrings and key separation."""

from __future__ import annotations

import base64

import pytest

from config import keys

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()


def test_decode_key_returns_32_bytes():
    assert keys.decode_key("BLIND_INDEX_KEY", f"  {KEY_A}\n") == b"a" * 32


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("not base64!", "BLIND_INDEX_KEY is not valid base64"),
        (base64.b64encode(b"short").decode(), "BLIND_INDEX_KEY must decode to 32 bytes, got 5"),
        ("", "BLIND_INDEX_KEY must decode to 32 bytes, got 0"),
    ],
)
def test_decode_key_errors_name_the_variable(value, message):
    with pytest.raises(keys.KeyConfigError, match=message):
        keys.decode_key("BLIND_INDEX_KEY", value)


def test_decode_key_error_does_not_echo_the_value():
    with pytest.raises(keys.KeyConfigError) as info:
        keys.decode_key("PSEUDONYM_KEY", "s3cr3t-but-broken")
    assert "s3cr3t" not in str(info.value)


def test_parse_keyring_keeps_order_first_is_active():
    ring = keys.parse_keyring("FIELD_ENCRYPTION_KEYS", f"k2:{KEY_B}, k1:{KEY_A},")
    assert list(ring) == ["k2", "k1"]
    assert ring["k2"] == b"b" * 32


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "FIELD_ENCRYPTION_KEYS is empty"),
        (KEY_A, "entries must look like 'k1:<base64 key>'"),
        (f"bad id!:{KEY_A}", "entries must look like"),
        (f"k1:{KEY_A},k1:{KEY_B}", "lists key id 'k1' twice"),
        ("k1:notbase64", r"FIELD_ENCRYPTION_KEYS\[k1\] is not valid base64"),
    ],
)
def test_parse_keyring_errors(value, message):
    with pytest.raises(keys.KeyConfigError, match=message):
        keys.parse_keyring("FIELD_ENCRYPTION_KEYS", value)


def test_check_separation_accepts_distinct_keys():
    keys.check_separation("a long secret", {"FIELD": {"k1": b"a" * 32}, "BLIND": b"b" * 32})


def test_check_separation_rejects_key_equal_to_secret_key_raw_or_base64():
    with pytest.raises(keys.KeyConfigError, match="BLIND must not equal SECRET_KEY"):
        keys.check_separation("a" * 32, {"BLIND": b"a" * 32})
    with pytest.raises(keys.KeyConfigError, match="PSEUDO must not equal SECRET_KEY"):
        keys.check_separation(KEY_B, {"PSEUDO": b"b" * 32})


def test_check_separation_rejects_shared_keys_naming_both():
    with pytest.raises(keys.KeyConfigError, match="BLIND must differ from FIELD"):
        keys.check_separation("secret", {"FIELD": {"k1": b"a" * 32}, "BLIND": b"a" * 32})


def test_new_keys_are_valid_and_distinct():
    first, second = keys.new_key(), keys.new_key()
    assert first != second
    assert len(keys.decode_key("X", first)) == keys.KEY_BYTES


def test_local_demo_dotenv_passes_its_own_checks():
    lines = dict(
        line.split("=", 1) for line in keys.dotenv_for_local_demo().splitlines() if "=" in line
    )
    ring = keys.parse_keyring("FIELD_ENCRYPTION_KEYS", lines["FIELD_ENCRYPTION_KEYS"])
    named = {"FIELD_ENCRYPTION_KEYS": ring}
    for name in ("BLIND_INDEX_KEY", "PSEUDONYM_KEY", "CARD_SIGNING_KEY"):
        named[name] = keys.decode_key(name, lines[name])
    keys.check_separation(lines["SECRET_KEY"], named)
    assert lines["DEBUG"] == "true"
