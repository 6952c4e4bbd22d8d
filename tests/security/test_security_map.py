"""docs/security.md maps every SECURITY.md item to tests that exist (issue 8 "Done when").

The table must list all 40 item ids once, give every item at least one test (or say ``open``
with the gap), and every ``path::test`` it names must be a real test function, so the table
cannot silently drift from the suite.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
DOC = ROOT / "docs" / "security.md"
SHARED = ROOT.parent / "shared" / "SECURITY.md"
ITEMS = (
    [f"AC-{n}" for n in range(1, 7)]
    + [f"AU-{n}" for n in range(1, 5)]
    + [f"SE-{n}" for n in range(1, 4)]
    + [f"IN-{n}" for n in range(1, 5)]
    + [f"CR-{n}" for n in range(1, 5)]
    + [f"LG-{n}" for n in range(1, 6)]
    + [f"DP-{n}" for n in range(1, 6)]
    + [f"CF-{n}" for n in range(1, 4)]
    + [f"RL-{n}" for n in range(1, 7)]
)
ROW = re.compile(r"^\| ([A-Z]{2}-\d) \| (proven|partial|open) \| (.*?) \| (.*?) \|$", re.MULTILINE)


def rows() -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for item, status, proof, _gap in ROW.findall(DOC.read_text(encoding="utf-8")):
        assert item not in found, f"{item} is listed twice"
        found[item] = (status, proof)
    return found


def references(proof: str) -> list[tuple[str, str | None]]:
    """``[(test file, test name or None)]`` from the backticked references of one row."""
    refs, current = [], None
    for token in re.findall(r"`([^`]+)`", proof):
        if "::" in token:
            path, name = token.split("::", 1)
            current = path or current
            refs.append((current, name))
        elif token.endswith(".py"):
            current = token
            refs.append((token, None))
    return refs


def test_the_forty_items_are_the_items_of_security_md():
    assert len(ITEMS) == 40
    if SHARED.exists():
        ids = set(
            re.findall(
                r"^\*\*([A-Z]{2}-\d) \(", SHARED.read_text(encoding="utf-8"), flags=re.MULTILINE
            )
        )
        assert ids == set(ITEMS)


def test_every_item_is_in_the_table_once():
    assert sorted(rows()) == sorted(ITEMS)


@pytest.mark.parametrize("item", ITEMS)
def test_every_item_names_real_tests(item):
    status, proof = rows()[item]
    refs = references(proof)
    if status == "open":
        return
    assert refs, f"{item} is {status} but names no test"
    for path, name in refs:
        file = ROOT / "tests" / path
        assert file.exists(), f"{item}: {path} does not exist"
        if name is not None:
            assert re.search(
                rf"^\s*def {re.escape(name)}\(", file.read_text(encoding="utf-8"), re.MULTILINE
            ), f"{item}: {path}::{name} is not a test in that file"
