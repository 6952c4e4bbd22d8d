"""The message catalogues: Spanish complete, placeholders intact, .mo in step with .po, and a
page that really comes out in Spanish.

The .po files are read with a small stdlib parser; the GNU gettext tools (msgattrib, msgfmt)
are used as well where they are installed, and the checks fall back to the parser otherwise.
"""

from __future__ import annotations

import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
ES_PO = LOCALE_DIR / "es" / "LC_MESSAGES" / "django.po"
CATALOGUES = sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po"))
MSGATTRIB = shutil.which("msgattrib")
MSGFMT = shutil.which("msgfmt")


# --- A minimal .po reader ---------------------------------------------------------------------
@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    @property
    def fuzzy(self) -> bool:
        return "fuzzy" in self.flags

    @property
    def untranslated(self) -> bool:
        return not self.msgstr or any(s == "" for s in self.msgstr.values())

    def label(self, path: Path) -> str:
        return f"{path.relative_to(settings.BASE_DIR)}:{self.line}: {self.msgid!r}"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def parse_po(text: str) -> list[Entry]:
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # the keyword a continuation line ("...") extends
    seen_msgid = False

    def start(lineno: int) -> Entry:
        nonlocal seen_msgid
        seen_msgid = False
        entries.append(Entry(line=lineno))
        return entries[-1]

    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            current, target = None, None
        elif line.startswith("#"):
            if current is not None and current.msgstr:
                current, target = None, None  # comments of the next entry
            if line.startswith("#,"):
                current = current or start(lineno)
                current.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
        elif match := _KEYWORD.match(line):
            keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            after_context = target is not None and target[0] == "msgctxt"
            new_message = keyword in ("msgctxt", "msgid") and (
                current is None or bool(current.msgstr) or (keyword == "msgid" and seen_msgid and not after_context)
            )
            if current is None or new_message:
                current = start(lineno)
            current.obsolete = current.obsolete or obsolete
            if keyword.startswith("msgstr"):
                target = ("msgstr", int(index or 0))
                current.msgstr[target[1]] = value
            else:
                target = (keyword, 0)
                seen_msgid = seen_msgid or keyword == "msgid"
                setattr(current, keyword, value)
        elif line.startswith('"') and current is not None and target is not None:
            value = _unquote(line[1:-1])
            if target[0] == "msgstr":
                current.msgstr[target[1]] += value
            else:
                setattr(current, target[0], getattr(current, target[0]) + value)
    return [e for e in entries if not e.obsolete]


def read_po(path: Path) -> list[Entry]:
    return parse_po(path.read_text(encoding="utf-8"))


def messages(entries: list[Entry]) -> list[Entry]:
    return [e for e in entries if not e.is_header]


# --- (a) The Spanish catalogue is complete -----------------------------------------------------
SAMPLE = r'''msgid ""
msgstr ""
"Plural-Forms: nplurals=3; plural=n == 1 ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;\n"

#: a.py:1
msgid "Done"
msgstr "Hecho"

#: a.py:2
#, fuzzy, python-format
#| msgid "Old %(n)s"
msgid "New %(n)s"
msgstr "Viejo %(n)s"

msgctxt "month"
msgid "May"
msgstr ""

msgid "%(n)s file"
msgid_plural "%(n)s files"
msgstr[0] "%(n)s archivo"
msgstr[1] ""
msgstr[2] "%(n)s "
"archivos"

#~ msgid "Gone"
#~ msgstr "Ido"
'''


def test_parser_on_a_sample():
    header, done, fuzzy, may, files = parse_po(SAMPLE)
    assert header.is_header and "nplurals=3" in header.msgstr[0]
    assert (done.msgid, done.msgstr, done.fuzzy, done.untranslated) == ("Done", {0: "Hecho"}, False, False)
    assert fuzzy.fuzzy and "python-format" in fuzzy.flags and fuzzy.msgid == "New %(n)s"
    assert (may.msgctxt, may.msgid, may.untranslated) == ("month", "May", True)
    assert files.msgid_plural == "%(n)s files" and files.msgstr[2] == "%(n)s archivos" and files.untranslated


def test_parser_reads_the_spanish_catalogue():
    entries = messages(read_po(ES_PO))
    assert len(entries) > 500
    assert any(e.msgid_plural for e in entries)
    assert not [e for e in entries if not e.msgid], "an entry without msgid: the parser is off"


def test_spanish_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = messages(read_po(ES_PO))
    problems = [f"untranslated {e.label(ES_PO)}" for e in entries if e.untranslated]
    problems += [f"fuzzy {e.label(ES_PO)}" for e in entries if e.fuzzy]
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(MSGATTRIB is None, reason="GNU gettext's msgattrib is not installed")
@pytest.mark.parametrize("option", ["--untranslated", "--only-fuzzy"])
def test_msgattrib_finds_nothing_left_to_translate(option):
    result = subprocess.run(
        [MSGATTRIB, option, "--no-obsolete", str(ES_PO)], capture_output=True, text=True, check=True
    )
    left = [e.msgid for e in messages(parse_po(result.stdout))]
    assert not left, f"msgattrib {option}: {left}"


@pytest.mark.skipif(MSGFMT is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_msgfmt_check_passes(po, tmp_path):
    result = subprocess.run(
        [MSGFMT, "--check", "-o", str(tmp_path / "out.mo"), str(po)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


# --- (b) Placeholders survive translation -----------------------------------------------------
PRINTF = re.compile(r"%(?:%|(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.(?:\d+|\*))?[hlL]?[diouxXeEfFgGcrsa])")
BRACES = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.]*\}")
MARKUP = re.compile(r"</?[A-Za-z][^<>]*>|&[A-Za-z]+;|&#\d+;")


def placeholders(text: str, flags: set[str]) -> list[str]:
    found = MARKUP.findall(text)
    if "python-format" in flags or ("no-python-format" not in flags and re.search(r"%\(\w+\)", text)):
        found += PRINTF.findall(text)
    if "python-brace-format" in flags or BRACES.search(text):
        found += BRACES.findall(text)
    return sorted(found)


def test_placeholder_regex_sees_what_it_should():
    assert placeholders("%(n)d of %(total)s, %s and %%", {"python-format"}) == ["%%", "%(n)d", "%(total)s", "%s"]
    assert placeholders("score %(score).2f", {"python-format"}) == ["%(score).2f"]
    assert placeholders("progress (%)", set()) == []
    assert placeholders('<a href="x">{name}</a> &lt;', set()) == sorted(['<a href="x">', "&lt;", "</a>", "{name}"])


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_translations_keep_the_placeholders(po):
    problems = []
    for entry in messages(read_po(po)):
        sources = [entry.msgid] + ([entry.msgid_plural] if entry.msgid_plural else [])
        expected = {tuple(placeholders(s, entry.flags)) for s in sources}
        for index, text in sorted(entry.msgstr.items()):
            if not text:
                continue  # an empty msgstr falls back to the source (English catalogue)
            got = tuple(placeholders(text, entry.flags))
            if got not in expected:
                problems.append(f"{entry.label(po)} msgstr[{index}]: {list(got)} not in {sorted(expected)}")
    assert not problems, "\n".join(problems)


def test_plural_entries_fill_every_plural_form():
    header = read_po(ES_PO)[0].msgstr[0]
    nplurals = int(re.search(r"nplurals\s*=\s*(\d+)", header).group(1))
    wrong = [e.label(ES_PO) for e in messages(read_po(ES_PO)) if e.msgid_plural and sorted(e.msgstr) != list(range(nplurals))]
    assert not wrong, "\n".join(wrong)


# --- (c) The compiled catalogue matches its source --------------------------------------------
def po_catalog(entries: list[Entry]) -> dict:
    """What a correct .mo holds: translated, non-fuzzy entries, keyed as gettext keys them."""
    catalog = {}
    for entry in messages(entries):
        if entry.fuzzy or entry.untranslated:
            continue
        key = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            catalog[key] = entry.msgstr[0]
        else:
            for index, text in entry.msgstr.items():
                catalog[(key, index)] = text
    return catalog


def mo_catalog(path: Path) -> dict:
    with path.open("rb") as handle:
        catalog = dict(gettext.GNUTranslations(handle)._catalog)
    catalog.pop("", None)  # the header: dates in it may change without any message changing
    return catalog


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_compiled_catalogue_matches_the_po(po):
    mo = po.with_suffix(".mo")
    assert mo.exists(), f"{mo} is missing: run manage.py compilemessages"
    expected, compiled = po_catalog(read_po(po)), mo_catalog(mo)
    missing = sorted(str(k) for k in expected.keys() - compiled.keys())
    extra = sorted(str(k) for k in compiled.keys() - expected.keys())
    changed = sorted(str(k) for k in expected.keys() & compiled.keys() if expected[k] != compiled[k])
    assert not (missing or extra or changed), (
        f"{mo.relative_to(settings.BASE_DIR)} is stale, run manage.py compilemessages.\n"
        f"missing: {missing[:20]}\nextra: {extra[:20]}\nchanged: {changed[:20]}"
    )


@pytest.mark.skipif(MSGFMT is None, reason="GNU gettext's msgfmt is not installed")
@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: str(p.relative_to(LOCALE_DIR)))
def test_msgfmt_compiles_the_same_messages(po, tmp_path):
    fresh = tmp_path / "django.mo"
    subprocess.run([MSGFMT, "-o", str(fresh), str(po)], check=True, capture_output=True)
    assert mo_catalog(fresh) == mo_catalog(po.with_suffix(".mo"))


# --- (d) Pages come out in the reader's language ----------------------------------------------
@pytest.mark.django_db
def test_login_page_is_in_spanish_for_a_spanish_browser():
    response = Client().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'lang="es' in html
    assert "Iniciar sesión en Frontera" in html
    assert "Sign in to Frontera" not in html


@pytest.mark.django_db
def test_login_page_is_in_english_for_an_english_browser():
    response = Client().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Sign in to Frontera" in html
    assert "Iniciar sesión en Frontera" not in html


@pytest.mark.django_db
def test_spanish_is_the_default_without_accept_language():
    html = Client().get(reverse("accounts:login")).content.decode()
    assert "Iniciar sesión en Frontera" in html


# --- Protocol text that has its own character rules -------------------------------------------
def test_oauth_error_descriptions_stay_ascii():
    """RFC 6749 §5.2: error_description is limited to printable ASCII without '"' and '\\'."""
    oauth = {"Too many token requests."}
    for po in CATALOGUES:
        for entry in messages(read_po(po)):
            if entry.msgid in oauth:
                for text in entry.msgstr.values():
                    bad = [c for c in text if not (0x20 <= ord(c) <= 0x7E) or c in '"\\']
                    assert not bad, f"{entry.label(po)}: {text!r} has {bad}"
