"""Short human references for people and groups: 8 random characters and a check character.

The body uses Crockford's base32 alphabet (no I, L, O, U: nothing to misread on a printed card);
the check character is ISO 7064 MOD 37-36, so a single mistyped character is always caught and
nearly every swap of two neighbours (over 98 % measured in the tests). Stored as 9 characters, shown as ``XXXX-XXXX-C``.
"""

from __future__ import annotations

import secrets

from stdnum.iso7064 import mod_37_36

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BODY_LENGTH = 8
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def new_reference() -> str:
    # MOD 37-36 check characters range over 0-9A-Z; bodies whose check would be I, L, O or U
    # are drawn again, so nothing on a card can be misread and the check is read like the body.
    while True:
        body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
        check = mod_37_36.calc_check_digit(body)
        if check in ALPHABET:
            return body + check


def display(ref: str) -> str:
    return f"{ref[:4]}-{ref[4:8]}-{ref[8:]}" if len(ref) == BODY_LENGTH + 1 else ref


def normalise(text: str) -> str | None:
    """Canonical reference from what an official typed or scanned, or None if it is not one."""
    raw = text.strip().upper().replace("-", "").replace(" ", "")
    if len(raw) != BODY_LENGTH + 1:
        return None
    body, check = raw[:BODY_LENGTH].translate(_READ_AS), raw[BODY_LENGTH:].translate(_READ_AS)
    if any(ch not in ALPHABET for ch in body + check):
        return None
    return body + check if mod_37_36.is_valid(body + check) else None
