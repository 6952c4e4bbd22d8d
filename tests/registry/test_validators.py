"""Validators: ICAO 9303 MRZ, CURP, CUI, names (SECURITY.md bad inputs 3-9) and references."""

from __future__ import annotations

import itertools
import unicodedata

import pytest
from django.core.exceptions import ValidationError
from stdnum.iso7064 import mod_37_36

from registry import reference
from registry.validators import (
    clean_name,
    mrz_check_digit,
    parse_mrz,
    validate_cui,
    validate_curp,
    validate_mrz,
)

# --- ICAO 9303 ---------------------------------------------------------------------------------

# The TD3 specimen of ICAO Doc 9303 part 4 (fictitious state "UTO").
TD3_LINE1 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
TD3_LINE2 = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD3 = f"{TD3_LINE1}\n{TD3_LINE2}"
# The TD1 specimen of ICAO Doc 9303 part 5.
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"

_VALUES = {ch: i for i, ch in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")} | {"<": 0}


def independent_check_digit(data: str) -> str:
    """A second, separately written 7-3-1 check digit, to test the project's one against."""
    return str(sum(_VALUES[ch] * w for ch, w in zip(data, itertools.cycle((7, 3, 1)), strict=False)) % 10)


def test_td3_specimen_is_valid_with_every_field_checked():
    mrz = validate_mrz(TD3)
    assert mrz.format == "TD3"
    assert mrz.checks == {
        "document_number": True, "birth_date": True, "expiry_date": True, "optional_data": True, "composite": True,
    }
    assert (mrz.document_number, mrz.issuing_state, mrz.nationality) == ("L898902C3", "UTO", "UTO")
    assert (mrz.surnames, mrz.given_names, mrz.sex) == ("ERIKSSON", "ANNA MARIA", "F")
    assert (mrz.birth_date, mrz.expiry_date) == ("740812", "120415")
    assert mrz.birth().isoformat() == "1974-08-12"
    assert mrz.expiry().isoformat() == "2012-04-15"


def test_td3_specimen_digits_match_the_independent_computation():
    assert independent_check_digit("L898902C3") == "6" == mrz_check_digit("L898902C3")
    assert independent_check_digit("740812") == "2" == mrz_check_digit("740812")
    assert independent_check_digit("120415") == "9" == mrz_check_digit("120415")
    assert independent_check_digit("ZE184226B<<<<<") == "1" == mrz_check_digit("ZE184226B<<<<<")
    composite = TD3_LINE2[0:10] + TD3_LINE2[13:20] + TD3_LINE2[21:43]
    assert independent_check_digit(composite) == "0" == mrz_check_digit(composite)


def test_wrong_document_number_digit_is_named():
    bad = TD3.replace("L898902C36", "L898902C35")
    parsed = parse_mrz(bad)
    assert parsed.checks["document_number"] is False
    assert parsed.checks["birth_date"] is True
    with pytest.raises(ValidationError) as exc:
        validate_mrz(bad)
    assert exc.value.code == "mrz_check_digit"
    assert "document_number" in exc.value.params["fields"]
    assert "birth_date" not in exc.value.params["fields"]


@pytest.mark.parametrize(
    "text",
    [
        f"{TD3_LINE1}\n{TD3_LINE2[:-1]}",  # 43 characters
        f"{TD3_LINE1}\n{TD3_LINE2}<",  # 45 characters
        f"{TD3_LINE1[:-1]}\n{TD3_LINE2[:-1]}",  # both 43
        f"{TD3_LINE1}<\n{TD3_LINE2}<",  # both 45
        TD3_LINE2,  # one line
        "",
    ],
)
def test_wrong_shape_is_refused(text):
    with pytest.raises(ValidationError) as exc:
        validate_mrz(text)
    assert exc.value.code == "mrz_shape"


@pytest.mark.parametrize(
    "text",
    [
        TD3.lower(),
        TD3.replace("P<UTO", "p<UTO"),
        TD3.replace("<", " ", 1),  # a space where the filler belongs
        TD3.replace("<", "«"),  # a look-alike filler
        TD3.replace("<<ANNA", "‹‹ANNA"),
        TD3.replace("ERIKSSON", "ERIKSSÖN"),
    ],
)
def test_wrong_characters_are_refused(text):
    with pytest.raises(ValidationError) as exc:
        validate_mrz(text)
    assert exc.value.code in {"mrz_charset", "mrz_shape"}


def test_filler_in_a_check_digit_position_is_refused():
    bad = TD3.replace("L898902C36", "L898902C3<")
    with pytest.raises(ValidationError) as exc:
        validate_mrz(bad)
    assert "document_number" in exc.value.params["fields"]


def test_td1_specimen_is_valid():
    mrz = validate_mrz(TD1)
    assert mrz.format == "TD1"
    assert set(mrz.checks) == {"document_number", "birth_date", "expiry_date", "composite"}
    assert all(mrz.checks.values())
    assert (mrz.document_number, mrz.nationality, mrz.surnames, mrz.given_names) == ("D23145890", "UTO", "ERIKSSON", "ANNA MARIA")
    assert independent_check_digit("D23145890") == "7"


def test_td1_with_a_wrong_composite_digit_is_refused():
    with pytest.raises(ValidationError) as exc:
        validate_mrz(TD1.replace("<<<<<<6\n", "<<<<<<5\n"))
    assert exc.value.params["fields"] == "composite"


def build_td2(number: str, birth: str, expiry: str, optional: str = "<<<<<<<") -> str:
    """A TD2 MRZ assembled field by field with the project's check-digit function."""
    line1 = "I<UTOERIKSSON<<ANNA<MARIA".ljust(36, "<")
    body = f"{number}{mrz_check_digit(number)}UTO{birth}{mrz_check_digit(birth)}F{expiry}{mrz_check_digit(expiry)}{optional}"
    composite = body[0:10] + body[13:20] + body[21:35]
    return f"{line1}\n{body}{mrz_check_digit(composite)}"


def test_td2_built_with_the_check_digit_function_is_valid_and_digits_agree():
    text = build_td2("D23145890", "740812", "120415")
    line2 = text.splitlines()[1]
    assert len(line2) == 36
    # Digits computed independently, and ICAO's own TD2 specimen line.
    assert line2[9] == independent_check_digit("D23145890") == "7"
    assert line2[19] == independent_check_digit("740812") == "2"
    assert line2[27] == independent_check_digit("120415") == "9"
    assert line2[35] == independent_check_digit(line2[0:10] + line2[13:20] + line2[21:35]) == "6"
    assert line2 == "D231458907UTO7408122F1204159<<<<<<<6"
    mrz = validate_mrz(text)
    assert mrz.format == "TD2"
    assert all(mrz.checks.values()) and set(mrz.checks) == {"document_number", "birth_date", "expiry_date", "composite"}


def test_td2_with_a_wrong_birth_digit_is_named():
    text = build_td2("X12345678", "010203", "300101")
    line1, line2 = text.splitlines()
    wrong = line2[:19] + str((int(line2[19]) + 1) % 10) + line2[20:]
    with pytest.raises(ValidationError) as exc:
        validate_mrz(f"{line1}\n{wrong}")
    assert "birth_date" in exc.value.params["fields"]


# --- National identity numbers ------------------------------------------------------------------


def test_curp_valid_and_wrong_check_digit():
    assert validate_curp("BOXW310820HNERXN09") == "BOXW310820HNERXN09"
    with pytest.raises(ValidationError) as exc:
        validate_curp("BOXW310820HNERXN08")
    assert exc.value.code == "curp"


def cui(body: str, department: int, municipality: int) -> str:
    """A CUI with its verifier digit computed here (weights 2..9, mod 11), independently."""
    verifier = sum(int(d) * w for d, w in zip(body, range(2, 10), strict=True)) % 11
    assert verifier < 10, "no CUI exists with this body"
    return f"{body}{verifier}{department:02d}{municipality:02d}"


def test_cui_valid_with_spaces_or_dashes():
    assert cui("12345678", 1, 1) == "1234567890101"  # 240 mod 11 = 9, worked by hand
    assert validate_cui("1234 56789 0101") == "1234567890101"
    assert validate_cui("1234-56789-0101") == "1234567890101"
    assert validate_cui(cui("26589001", 12, 30)) == cui("26589001", 12, 30)  # San Marcos has 30


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("1234567880101", "cui_check_digit"),
        ("1234567890001", "cui_place"),  # department 00
        ("1234567892301", "cui_place"),  # department 23 does not exist
        ("1234567890118", "cui_place"),  # Guatemala department has 17 municipalities
        ("1234567891231", "cui_place"),  # San Marcos has 30
        ("1234567890100", "cui_place"),  # municipality 00
        ("123456789010", "cui_format"),
        ("12345678901011", "cui_format"),
        ("12345678A0101", "cui_format"),
    ],
)
def test_cui_invalid(value, code):
    with pytest.raises(ValidationError) as exc:
        validate_cui(value)
    assert exc.value.code == code


# --- Names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["Xiomara", "K'iche' B'alam", "O'Hara", "O’Hara", "de la Cruz", "Ñandú", "Ana-María", "María José", "Jr.", "Nguyễn", "a" * 100],
)
def test_real_names_are_accepted_unchanged(name):
    assert clean_name(name) == name


def test_nfd_input_is_stored_nfc_and_spaces_collapse():
    nfd = unicodedata.normalize("NFD", "José Ñandú")
    assert nfd != "José Ñandú"
    cleaned = clean_name(f"  {nfd}   ")
    assert cleaned == "José Ñandú"
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_name("José  Pérez ") == "José Pérez"


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("\u202eozneroL", "invisible"),  # right-to-left override
        ("Ma\u200bria", "invisible"),  # zero-width space
        ("Ma\u200dria", "invisible"),  # zero-width joiner
        ("\ufeffMaria", "invisible"),  # byte-order mark
        ("Ma\u2066ria", "invisible"),  # left-to-right isolate
        ("M\u0430ria", "mixed_script"),  # Cyrillic а inside Maria
        ("Jos\u0435", "mixed_script"),  # Cyrillic е
        ("Mar\x00ía", "control"),
        ("Ana\r\nX-Injected: 1", "control"),
        ("Maria2", "characters"),
        ("Mar!a", "characters"),
        ("<script>", "characters"),
        ("{{7*7}}", "characters"),
        ("=HYPERLINK", "characters"),
        ("Ana_María", "characters"),
        ("a" * 101, "max_length"),
        ("a" * 256, "max_length"),
        ("Ma\u0301\u0302\u0303\u0304ria", "combining"),  # a short Zalgo stack
    ],
)
def test_spoofing_and_junk_names_are_refused(name, code):
    with pytest.raises(ValidationError) as exc:
        clean_name(name)
    assert exc.value.code == code


def test_zalgo_with_500_combining_marks_is_refused():
    zalgo = "Z" + "".join(chr(0x0300 + i % 0x70) for i in range(500)) + "algo"
    with pytest.raises(ValidationError) as exc:
        clean_name(zalgo)
    assert exc.value.code in {"combining", "max_length"}
    # Under the length limit too: the marks themselves are refused.
    with pytest.raises(ValidationError) as exc:
        clean_name("Zal" + "\u0300\u0301\u0302\u0303\u0304\u0305" + "go")
    assert exc.value.code == "combining"


# --- References ---------------------------------------------------------------------------------


def test_new_reference_has_a_valid_check_character_and_no_ambiguous_letters():
    for _ in range(2000):
        ref = reference.new_reference()
        assert len(ref) == 9
        assert mod_37_36.is_valid(ref)
        assert set(ref) <= set(reference.ALPHABET), ref  # I, L, O, U appear nowhere on a card
        assert reference.normalise(ref) == ref


def _refs(n: int = 25) -> list[str]:
    return [reference.new_reference() for _ in range(n)]


def test_every_single_typo_is_detected():
    for ref in _refs():
        for position, wrong in itertools.product(range(9), reference.ALPHABET):
            if wrong == ref[position]:
                continue
            typo = ref[:position] + wrong + ref[position + 1:]
            assert reference.normalise(typo) is None, (ref, typo)


def test_almost_every_adjacent_swap_is_detected():
    """ISO 7064 hybrid systems catch every single substitution but not every transposition
    (e.g. '0Z' <-> 'Z0' at some positions): measure the rate instead of claiming all."""
    swaps = missed = 0
    for ref in _refs(200):
        for position in range(8):
            if ref[position] == ref[position + 1]:
                continue
            swapped = ref[:position] + ref[position + 1] + ref[position] + ref[position + 2:]
            swaps += 1
            missed += reference.normalise(swapped) is not None
    assert swaps > 1000
    assert missed / swaps < 0.02, f"{missed} of {swaps} swaps went unnoticed"


def test_display_and_normalise_round_trip():
    for ref in _refs():
        shown = reference.display(ref)
        assert shown == f"{ref[:4]}-{ref[4:8]}-{ref[8]}"
        assert reference.normalise(shown) == ref
        assert reference.normalise(shown.lower()) == ref
        assert reference.normalise(f"  {ref[:4]} {ref[4:8]} {ref[8]} ") == ref


def _ref_with_check(check: str) -> str:
    for body in itertools.product("0123456789", repeat=8):
        text = "".join(body)
        if mod_37_36.calc_check_digit(text) == check:
            return text + check
    raise AssertionError(check)


def test_misread_o_and_i_are_read_as_zero_and_one_everywhere():
    for ref in _refs(200):
        misread = ref.replace("0", "O").replace("1", "I")
        assert reference.normalise(misread) == ref
        assert reference.normalise(ref.replace("1", "l")) == ref
    # The check character too: a card printing "…-0" read back as "…-O".
    for check in "01":
        ref = _ref_with_check(check)
        assert reference.normalise(ref[:8] + {"0": "O", "1": "I"}[check]) == ref


def test_not_a_reference():
    assert reference.normalise("") is None
    assert reference.normalise("12345678") is None
    assert reference.normalise("Ñandú Pérez") is None
    assert reference.normalise("UUUUUUUUU") is None
