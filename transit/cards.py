"""Signed card tokens for the QR code of a visitor card (Ed25519, verifiable offline).

Format (version 1)::

    FC1.<base64url(payload JSON)>.<base64url(signature)>

The signature covers the ASCII bytes ``FC1.<payload>``, so the version cannot be swapped. The
payload holds the person's short reference, the permit number, the kind and the validity, never a
name: ``{"r": "...", "n": "...", "k": "tvr", "f": "2026-01-01", "u": "2026-01-08"}``.

``read_token`` never raises on bad input: garbage, truncation, a tampered payload or a signature
by another key all come back as ``None`` ("forged").
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "FC1"
MAX_TOKEN_LENGTH = 400
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
_FIELDS = {"r", "n", "k", "f", "u"}


@dataclass(frozen=True)
class CardClaims:
    """What a card token asserts: no name, nothing beyond what the printed card shows."""

    reference: str
    number: str
    kind: str
    valid_from: dt.date
    valid_until: dt.date


def private_key() -> Ed25519PrivateKey:
    """The signing key: settings.CARD_SIGNING_KEY (32 raw bytes) used as the Ed25519 seed."""
    seed = settings.CARD_SIGNING_KEY
    if not seed:
        raise ImproperlyConfigured("CARD_SIGNING_KEY is not set; cards cannot be signed.")
    return Ed25519PrivateKey.from_private_bytes(bytes(seed))


def public_key() -> Ed25519PublicKey:
    return private_key().public_key()


def public_key_pem(key: Ed25519PublicKey | None = None) -> str:
    key = key or public_key()
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key_pem(data: bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM; ValueError for anything else."""
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    if not _B64URL.match(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(claims: CardClaims, key: Ed25519PrivateKey | None = None) -> str:
    """The compact signed token for a card."""
    payload = {
        "r": claims.reference, "n": claims.number, "k": claims.kind,
        "f": claims.valid_from.isoformat(), "u": claims.valid_until.isoformat(),
    }
    body = f"{VERSION}.{_b64encode(json.dumps(payload, separators=(',', ':'), sort_keys=True).encode())}"
    signature = (key or private_key()).sign(body.encode("ascii"))
    return f"{body}.{_b64encode(signature)}"


def _claims(payload: object) -> CardClaims | None:
    if not isinstance(payload, dict) or set(payload) != _FIELDS:
        return None
    if not all(isinstance(payload[name], str) for name in _FIELDS):
        return None
    valid_from = dt.date.fromisoformat(payload["f"])
    valid_until = dt.date.fromisoformat(payload["u"])
    return CardClaims(payload["r"], payload["n"], payload["k"], valid_from, valid_until)


def read_token(token: str, key: Ed25519PublicKey | None = None) -> CardClaims | None:
    """The claims of a genuine token, or None for anything not signed by ``key``."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != VERSION:
        return None
    try:
        signature = _b64decode(parts[2])
        (key or public_key()).verify(signature, f"{parts[0]}.{parts[1]}".encode("ascii"))
        return _claims(json.loads(_b64decode(parts[1])))
    except (InvalidSignature, ValueError, binascii.Error, UnicodeError, TypeError):
        return None


def looks_like_token(text: str) -> bool:
    """True when scanned text is a card token rather than a typed reference."""
    return isinstance(text, str) and text.strip().startswith(f"{VERSION}.")
