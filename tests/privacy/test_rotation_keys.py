"""BLIND_INDEX_KEY rotation: the optional previous key is checked at startup like every other
key, and while it is set, lookups compute indexes under both keys but writes use only the new one."""

from __future__ import annotations

import base64
import os

import pytest

from config import keys as keyconf
from privacy import blind_index as bi
from tests.config.test_settings import SETUP, base_env, run_python

BLIND_KEY = os.environ["BLIND_INDEX_KEY"]
PSEUDONYM_KEY = os.environ["PSEUDONYM_KEY"]
OLD = os.urandom(32)

PREVIOUS_KEY_ERRORS = {
    "malformed": ("not base64!", "BLIND_INDEX_KEY_PREVIOUS is not valid base64"),
    "too short": (
        base64.b64encode(b"x" * 16).decode(),
        "BLIND_INDEX_KEY_PREVIOUS must decode to 32 bytes",
    ),
    "equal to BLIND_INDEX_KEY": (
        BLIND_KEY,
        "BLIND_INDEX_KEY_PREVIOUS must differ from BLIND_INDEX_KEY",
    ),
    "equal to PSEUDONYM_KEY": (
        PSEUDONYM_KEY,
        "PSEUDONYM_KEY must differ from BLIND_INDEX_KEY_PREVIOUS",
    ),
}


@pytest.mark.parametrize("case", PREVIOUS_KEY_ERRORS, ids=list(PREVIOUS_KEY_ERRORS))
def test_startup_refuses_a_bad_previous_blind_index_key_and_names_it(case):
    value, expected = PREVIOUS_KEY_ERRORS[case]
    result = run_python(["-c", SETUP], base_env(BLIND_INDEX_KEY_PREVIOUS=value))
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and expected in result.stderr
    assert BLIND_KEY not in result.stderr and PSEUDONYM_KEY not in result.stderr


def test_startup_accepts_a_distinct_previous_key_and_an_empty_one():
    code = (
        SETUP
        + "; from django.conf import settings; print(len(settings.BLIND_INDEX_KEY_PREVIOUS or b''))"
    )
    distinct = run_python(
        ["-c", code], base_env(BLIND_INDEX_KEY_PREVIOUS=base64.b64encode(OLD).decode())
    )
    assert distinct.returncode == 0, distinct.stderr
    assert distinct.stdout.strip() == "32"
    empty = run_python(["-c", code], base_env(BLIND_INDEX_KEY_PREVIOUS=""))
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == "0"


def test_optional_key_parsing():
    assert keyconf.optional_key("X", "") is None
    assert keyconf.optional_key("X", "  ") is None
    assert keyconf.optional_key("X", base64.b64encode(OLD).decode()) == OLD
    with pytest.raises(keyconf.KeyConfigError, match="^X is not valid base64$"):
        keyconf.optional_key("X", "%%%")


def test_lookups_try_both_keys_while_writes_use_only_the_current_one(settings):
    settings.BLIND_INDEX_KEY_PREVIOUS = None
    only_current = bi.name_index_terms("José Pérez")
    assert bi.lookup_keys() == [bytes(settings.BLIND_INDEX_KEY)]
    assert bi.name_lookup_terms("José Pérez") == only_current
    assert bi.document_lookup_indexes("passport", "GT", "g-123") == [
        bi.document_index("passport", "GT", "G123")
    ]

    settings.BLIND_INDEX_KEY_PREVIOUS = OLD
    assert bi.lookup_keys() == [bytes(settings.BLIND_INDEX_KEY), OLD]
    under_old = bi.name_index_terms("José Pérez", key=OLD)
    assert under_old.isdisjoint(only_current)
    assert bi.name_index_terms("José Pérez") == only_current  # stored terms: the current key only
    assert bi.name_lookup_terms("José Pérez") == only_current | under_old
    assert bi.document_lookup_indexes("passport", "GT", "G123") == [
        bi.document_index("passport", "GT", "G123"),
        bi.document_index("passport", "GT", "G123", key=OLD),
    ]
    assert bi.blind_indexes("x", "d") == [
        bi.blind_index("x", "d"),
        bi.blind_index("x", "d", key=OLD),
    ]

    # A leftover previous key equal to the current one adds nothing.
    settings.BLIND_INDEX_KEY_PREVIOUS = settings.BLIND_INDEX_KEY
    assert bi.lookup_keys() == [bytes(settings.BLIND_INDEX_KEY)]
