"""AES-256-GCM encryption of single field values, with key ids for rotation.

Token format: ``fx1:<key id>:<base64(nonce || ciphertext+tag)>``.

* The plaintext is the JSON encoding of the Python value, so ``0``, ``False`` and ``""``
  survive the round trip with their type; ``None`` is never encrypted (it stays SQL NULL).
* The associated data is ``fx1:<key id>:<context>`` where the context names the table and
  column. A ciphertext copied into another column or row of another table does not decrypt,
  and neither does one whose key id was edited.
* Keys come from ``settings.FIELD_ENCRYPTION_KEYRING`` (key id -> 32 bytes, first = active)
  and are read at call time, never cached, so rotation and tests can swap the ring.
* Every failure raises :class:`DecryptionError`. Nothing here ever returns ciphertext or a
  "best guess" plaintext: the caller fails closed.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from privacy.errors import FailClosedError

TOKEN_PREFIX = "fx1"  # noqa: S105 - a format tag, not a secret
NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(FailClosedError):
    """A stored value cannot be decrypted: wrong or unknown key, tampering, or not a token."""


def keyring() -> dict[str, bytes]:
    """The configured keyring, checked; read from settings on every call."""
    ring = getattr(settings, "FIELD_ENCRYPTION_KEYRING", None)
    if not ring or any(len(key) != KEY_BYTES for key in ring.values()):
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYRING must map key ids to 32-byte keys.")
    return ring


def active_key_id() -> str:
    """The id of the key that encrypts new values (the first entry of the ring)."""
    return next(iter(keyring()))


@lru_cache(maxsize=16)
def _cipher(key: bytes) -> AESGCM:
    """The AES-GCM object of one key: keyed by the key bytes themselves, so a swapped ring
    (rotation, tests) gets its own object and nothing outlives the configuration's keys' use."""
    return AESGCM(key)


def _aad(key_id: str, context: str) -> bytes:
    return f"{TOKEN_PREFIX}:{key_id}:{context}".encode()


def encrypt_bytes(data: bytes, context: str) -> str:
    """Encrypt raw bytes with the active key, bound to ``context``; returns a token."""
    key_id = active_key_id()
    nonce = os.urandom(NONCE_BYTES)  # random 96-bit nonce: safe far beyond our row counts
    sealed = _cipher(keyring()[key_id]).encrypt(nonce, data, _aad(key_id, context))
    return f"{TOKEN_PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode('ascii')}"


def token_key_id(token: str) -> str:
    """The key id recorded in a token; raises DecryptionError if it is not a token."""
    prefix, sep, rest = token.partition(":") if isinstance(token, str) else ("", "", "")
    key_id, sep2, _payload = rest.partition(":")
    if prefix != TOKEN_PREFIX or not sep or not sep2 or not key_id:
        # Legacy plaintext or a foreign format: never hand it back as if it were data.
        raise DecryptionError("stored value is not an fx1 ciphertext")
    return key_id


def _key_of(ring: dict[str, bytes], key_id: str) -> bytes:
    key = ring.get(key_id)
    if key is None:
        raise DecryptionError(f"no key with id {key_id!r} in FIELD_ENCRYPTION_KEYRING")
    return key


def _head(key_id: str) -> str:
    """What every token of a key starts with."""
    return f"{TOKEN_PREFIX}:{key_id}:"


def _open(payload: str, cipher: AESGCM, aad: bytes) -> bytes:
    """The plaintext of a token's payload (the base64 after its head)."""
    try:
        raw = binascii.a2b_base64(payload, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("ciphertext is not valid base64") from exc
    if len(raw) <= NONCE_BYTES:
        raise DecryptionError("ciphertext is truncated")
    try:
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise DecryptionError(
            "authentication failed (wrong key, wrong column or tampering)"
        ) from exc


def decrypt_bytes(token: str, context: str) -> bytes:
    """Decrypt a token produced by :func:`encrypt_bytes` for the same context."""
    key_id = token_key_id(token)
    return _open(token.removeprefix(_head(key_id)), _cipher(_key_of(keyring(), key_id)), _aad(key_id, context))


def encrypt_value(
    value: Any, context: str, *, encoder: type[json.JSONEncoder] | None = None
) -> str | None:
    """JSON-encode ``value`` and encrypt it; ``None`` stays ``None`` (SQL NULL)."""
    if value is None:
        return None
    data = json.dumps(value, cls=encoder, ensure_ascii=False, separators=(",", ":"))
    return encrypt_bytes(data.encode("utf-8"), context)


# A JSON string without escapes or control characters: its value is the UTF-8 text between the
# quotes. Most stored values are such strings (names) or an empty list (aliases), and
# ``json.loads`` costs more than the AES-GCM decryption on them; anything else goes through it.
_PLAIN_JSON_STRING = re.compile(rb'"[^"\\\x00-\x1f]*"')


def _decoded(data: bytes, decoder: type[json.JSONDecoder] | None) -> Any:
    try:
        if decoder is None:
            if _PLAIN_JSON_STRING.fullmatch(data):
                return data[1:-1].decode("utf-8")
            if data == b"[]":
                return []
        return json.loads(data.decode("utf-8"), cls=decoder)
    except (UnicodeDecodeError, ValueError) as exc:
        raise DecryptionError("decrypted value is not JSON") from exc


def decrypt_value(
    token: str | None, context: str, *, decoder: type[json.JSONDecoder] | None = None
) -> Any:
    """Decrypt a token from :func:`encrypt_value`; ``None`` stays ``None``."""
    if token is None:
        return None
    return _decoded(decrypt_bytes(token, context), decoder)


def decrypt_values(
    tokens: Iterable[str | None], context: str, *, decoder: type[json.JSONDecoder] | None = None
) -> list[Any]:
    """:func:`decrypt_value` of many tokens of one column, the keyring and the associated data
    read once per key id (the matching engine decrypts the names of hundreds of candidates
    per lookup); the same checks and errors."""
    ring = keyring()
    opened: dict[str, tuple[AESGCM, bytes]] = {}
    values = []
    head = ""  # the previous token's "fx1:<key id>:": a column's tokens mostly share one key
    for token in tokens:
        if token is None:
            values.append(None)
            continue
        if not head or not token.startswith(head):
            key_id = token_key_id(token)
            if key_id not in opened:
                opened[key_id] = (_cipher(_key_of(ring, key_id)), _aad(key_id, context))
            head, (cipher, aad) = _head(key_id), opened[key_id]
        values.append(_decoded(_open(token[len(head):], cipher, aad), decoder))
    return values


def reencrypt(token: str, context: str) -> str:
    """Re-encrypt a token with the active key without decoding its value (key rotation)."""
    return encrypt_bytes(decrypt_bytes(token, context), context)
