"""Bulk import of registrations (issue 5): dry run, resume, duplicates, and every bad file of
SECURITY.md bad input 22. Files are written by the tests (synthetic names only)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook

from privacy.cells import safe_cell
from registry.models import DuplicateCandidate, ImportJob, ImportJobStatus, Person, Registration
from registry.resolution.importer import runner
from registry.vocabulary import DuplicateStatus

HEADER = ["given_names", "first_surname", "second_surname", "sex", "birth_date", "birth_year", "age", "nationality",
          "document_kind", "document_number", "document_country", "place_code", "registered_at", "group_key",
          "relationship", "legal_basis"]


def row(given="Ana Lucía", first="Pérez", second="Gómez", *, sex="f", birth_date="1990-05-17", birth_year="", age="",
        nationality="GT", doc="", place="MXGT-T1", at="2026-01-10 10:00", group="", rel="", basis="public_interest"):
    return [given, first, second, sex, birth_date, birth_year, age, nationality, "passport" if doc else "", doc,
            nationality if doc else "", place, at, group, rel, basis]


PEOPLE = [
    row("Ana Lucía", "Pérez", "Gómez"),
    row("Wilmer", "Tzul", "Ixcot", sex="m", birth_date="", birth_year="1988", nationality="GT", doc="G1234567"),
    row("Yesenia", "Batz", "Coj", birth_date="", age="34", nationality="HN"),
    row("Marvin", "López", "Cux", sex="m", birth_date="12/03/1985", nationality="SV", group="fam1", rel="head"),
    row("Kevin", "López", "Chávez", sex="m", birth_date="2016-07-01", nationality="SV", group="fam1", rel="child"),
]
NAMES = ["Alba", "Berta", "Carmen", "Dulce", "Elena", "Fabiola", "Gloria"]


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8") -> Path:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run(path: Path, actor, **options) -> runner.ImportResult:
    return runner.run_import(path, runner.ImportOptions(actor=actor, **options))


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"
    return settings.IMPORT_DIR


@pytest.fixture
def importer(supervisor, place):
    return supervisor


def report_lines(job) -> list[dict]:
    from django.conf import settings

    with (Path(settings.IMPORT_DIR) / job.report_name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_import_creates_people_documents_groups_through_the_services(importer, tmp_path):
    result = run(write_csv(tmp_path / "a.csv", PEOPLE), importer)
    assert result.counts["imported"] == 5 and result.counts["failed"] == 0
    assert Person.objects.count() == 5 and Registration.objects.count() == 5
    wilmer = Person.objects.get(documents__isnull=False)
    assert wilmer.birth_precision == "year" and wilmer.birth_year == 1988
    marvin, kevin = (Person.objects.get(memberships__relationship=r) for r in ("head", "child"))
    assert marvin.memberships.get().group_id == kevin.memberships.get().group_id
    assert marvin.birth_date == dt.date(1985, 3, 12)
    assert Person.objects.get(birth_precision="estimated").birth_year in (1991, 1992)
    assert result.job.status == ImportJobStatus.DONE and result.job.imported == 5
    # Encrypted at rest: no name in the table.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT given_names FROM registry_person")
        assert all(value.startswith("fx1:") for (value,) in cursor.fetchall())


def test_dry_run_writes_nothing_but_reports_everything(importer, tmp_path):
    rows = [*PEOPLE, row("", "Sin", "Nombre")]
    tables = (Person, Registration, DuplicateCandidate, ImportJob)
    before = {m: m.objects.count() for m in tables}
    result = run(write_csv(tmp_path / "a.csv", rows), importer, dry_run=True)
    assert result.counts["imported"] == 5 and result.counts["failed"] == 1
    assert {m: m.objects.count() for m in tables} == before
    assert result.job is None
    assert [line[0] for line in result.lines if line[1] == "error"] == [7]
    assert not Path(runner.settings.IMPORT_DIR).exists() or not any(Path(runner.settings.IMPORT_DIR).iterdir())


def test_command_dry_run(importer, tmp_path, capsys):
    path = write_csv(tmp_path / "a.csv", PEOPLE)
    call_command("import_registrations", str(path), "--dry-run", "--as", importer.username)
    assert "Dry run (nothing written): imported=5 failed=0" in capsys.readouterr().out
    assert Person.objects.count() == 0


def test_same_file_twice_and_repeated_rows_do_not_duplicate(importer, tmp_path):
    path = write_csv(tmp_path / "a.csv", [*PEOPLE, PEOPLE[0]])
    first = run(path, importer)
    assert first.counts["imported"] == 5 and first.counts["skipped"] == 1
    again = run(path, importer)
    assert again.already_done
    # The same rows in a re-exported file (another order, one new row) are not imported again.
    more = run(write_csv(tmp_path / "b.csv", [row("Glenda", "Sic", "Tum"), *reversed(PEOPLE)]), importer)
    assert more.counts["imported"] == 1 and more.counts["skipped"] == 5
    assert Person.objects.count() == 6


def test_resumed_import_continues_after_the_last_committed_batch(importer, tmp_path, monkeypatch):
    rows = [row(n, "Quiej", "Tuyuc", birth_date=f"19{70 + i}-01-0{1 + i}") for i, n in enumerate(NAMES[:7])]
    path = write_csv(tmp_path / "a.csv", rows)
    real = runner._commit_batch
    calls = {"n": 0}

    def crash_on_third_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # the process dies (not a row error)
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "_commit_batch", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        run(path, importer, batch_size=2)
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.RUNNING and job.last_committed_row == 5 and job.imported == 4
    assert Person.objects.count() == 4
    monkeypatch.setattr(runner, "_commit_batch", real)
    with pytest.raises(Exception, match="resume"):
        run(path, importer, batch_size=2)
    result = run(path, importer, batch_size=2, resume=True)
    assert result.counts["imported"] == 3 and result.counts["skipped"] == 0
    job.refresh_from_db()
    assert job.status == ImportJobStatus.DONE and job.imported == 7
    assert Person.objects.count() == 7


def test_a_failing_batch_rolls_back_is_reported_and_the_rest_continues(importer, tmp_path, monkeypatch):
    rows = [row(n, "Quiej", "Tuyuc", birth_date=f"19{70 + i}-02-0{1 + i}") for i, n in enumerate(NAMES[:6])]
    real = runner.import_batch

    def broken_batch_of_row_four(ctx, rows, report, counts):
        real(ctx, rows, report, counts)
        if any(number == 4 for number, _values in rows):  # after rows 4, 5 were written: both must go
            raise RuntimeError("disk full")

    monkeypatch.setattr(runner, "import_batch", broken_batch_of_row_four)
    result = run(write_csv(tmp_path / "a.csv", rows), importer, batch_size=2)
    assert result.counts["imported"] == 4 and result.counts["failed"] == 2
    assert Person.objects.count() == 4
    lines = report_lines(result.job)
    assert [(line["row"], line["outcome"]) for line in lines] == [("4", "batch_failed"), ("5", "batch_failed")]
    assert "RuntimeError" in lines[0]["message"]


@pytest.mark.smoke  # also on SQLite, the embedded default (its admin import page)
def test_duplicates_are_linked_to_the_queue_never_merged(importer, place, tmp_path):
    from tests.registry.factories import register_person

    existing = register_person(importer, place, given_names="José Ángel", first_surname="Hernández",
                               second_surname="Gómez", sex="m", nationality="HN", birth_date=dt.date(1992, 3, 14)).person
    rows = [
        row("Jose Angel", "Gomez", "Hernandez", sex="m", birth_date="1992-03-14", nationality="HN"),  # swapped
        row("Glenda", "Sic", "Tum", birth_date="1991-04-27"),
        row("Glenda", "Sic", "", birth_date="1991-04-27", at="2026-01-11 09:00"),  # earlier row of the same file
    ]
    result = run(write_csv(tmp_path / "a.csv", rows), importer)
    assert result.counts["imported"] == 3 and result.counts["duplicates"] == 2
    assert Person.objects.filter(status="active").count() == 4  # nobody merged
    pairs = DuplicateCandidate.objects.all()
    assert pairs.count() == 2 and {p.status for p in pairs} == {DuplicateStatus.PENDING}
    assert any(existing.pk in (p.person_a_id, p.person_b_id) for p in pairs)
    for pair in pairs:
        assert pair.reasons and all(code.islower() and " " not in code for code in pair.reasons)  # codes
    outcomes = {line["row"]: line["outcome"] for line in report_lines(result.job)}
    assert outcomes == {"2": "probable_duplicate", "4": "probable_duplicate"}


def test_a_registered_document_is_refused_with_the_holder(importer, tmp_path):
    run(write_csv(tmp_path / "a.csv", PEOPLE[1:2]), importer)
    holder = Person.objects.get()
    result = run(write_csv(tmp_path / "b.csv", [row("Otro", "Nombre", "Distinto", doc="G-1234567")]), importer)
    [line] = report_lines(result.job)
    assert line["outcome"] == "error" and line["column"] == "document_number"
    assert holder.display_reference in line["message"]


# --- bad files -----------------------------------------------------------------------------------


def test_latin1_file_is_refused_clearly_or_read_when_chosen(importer, tmp_path):
    path = write_csv(tmp_path / "latin.csv", PEOPLE[:1], encoding="latin-1")
    with pytest.raises(Exception, match="not UTF-8"):
        run(path, importer)
    assert not ImportJob.objects.exists()
    result = run(path, importer, encoding="latin-1")
    assert result.counts["imported"] == 1
    person = Person.objects.get()
    assert (person.given_names, person.second_surname) == ("Ana Lucía", "Gómez")


def test_utf8_with_bom_from_excel_is_read(importer, tmp_path):
    path = tmp_path / "bom.csv"
    write_csv(path, PEOPLE[:1])
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert run(path, importer).counts["imported"] == 1


def test_empty_file_is_refused(importer, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(Exception, match="empty"):
        run(path, importer)


def test_file_over_50_mb_is_refused_before_reading(importer, tmp_path, settings):
    assert settings.IMPORT_MAX_BYTES == 50 * 1024 * 1024
    path = tmp_path / "big.csv"
    with path.open("wb") as handle:  # sparse: 50 MB + 1 byte without writing them
        handle.truncate(50 * 1024 * 1024 + 1)
    with pytest.raises(Exception, match="too large"):
        run(path, importer)
    assert not ImportJob.objects.exists()


def test_missing_required_columns_refuse_the_file(importer, tmp_path):
    path = write_csv(tmp_path / "a.csv", [["Pérez", "f"]], header=["first_surname", "sex"])
    with pytest.raises(Exception, match="Missing columns: given_names, birth_date | birth_year | age"):
        run(path, importer)
    assert not Person.objects.exists()


def test_extra_columns_are_ignored_with_a_warning_and_repeated_ones_refused(importer, tmp_path):
    rows = [[*r, "nota libre"] for r in PEOPLE[:1]]
    result = run(write_csv(tmp_path / "a.csv", rows, header=[*HEADER, "comentarios"]), importer)
    assert result.counts["imported"] == 1
    assert any("comentarios" in w for w in result.warnings)
    with pytest.raises(Exception, match="Repeated columns: sex"):
        run(write_csv(tmp_path / "b.csv", [[*r, "f"] for r in PEOPLE[:1]], header=[*HEADER, "sex"]), importer)


def test_rows_with_impossible_dates_and_bad_values_are_reported_per_row(importer, tmp_path):
    rows = [
        row("Uno", "Fecha", "Imposible", birth_date="1990-02-30"),
        row("Dos", "Fecha", "Futura", birth_date="2090-01-01"),
        row("Tres", "Registro", "Raro", at="31/31/2025 10:00"),
        row("Cuatro", "País", "Raro", nationality="ZZ"),
        row("Cinco", "Sexo", "Raro", sex="q"),
        row("Seis", "Edad", "Rara", birth_date="", age="doce"),
        row("Siete", "Bien", "Escrito"),
    ]
    result = run(write_csv(tmp_path / "a.csv", rows), importer)
    assert result.counts["imported"] == 1 and result.counts["failed"] == 6
    errors = {(line["row"], line["column"]) for line in report_lines(result.job) if line["outcome"] == "error"}
    assert errors >= {("2", "birth_date"), ("4", "registered_at"), ("5", "nationality"), ("6", "sex"), ("7", "age")}
    assert any(r == "3" for r, _c in errors)  # a birth in the future: the services' own rule
    assert Person.objects.count() == 1


def test_formula_injection_is_neutralised_in_the_error_file(importer, tmp_path):
    rows = [row("=HYPERLINK(\"http://x\")", "+Pérez", "@Gómez", birth_date="=1+1")]
    result = run(write_csv(tmp_path / "a.csv", rows), importer)
    lines = report_lines(result.job)
    assert lines and all(not line["value"].startswith(("=", "+", "-", "@")) for line in lines)
    assert any(line["value"] == "'=1+1" for line in lines)
    assert safe_cell("-2") == "'-2" and safe_cell("Ana") == "Ana"


def test_formula_like_names_are_refused_by_the_name_rule(importer, tmp_path):
    result = run(write_csv(tmp_path / "a.csv", [row("=cmd|' /C calc'!A0", "Pérez", "Gómez")]), importer)
    assert result.counts["failed"] == 1 and not Person.objects.exists()
    [line] = report_lines(result.job)
    assert line["column"] == "given_names" and line["value"].startswith("'=")


def test_xlsx_is_read_and_a_csv_named_xlsx_is_refused(importer, tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    values = row("Heidy", "Yax", "Tzoc")
    values[4] = dt.datetime(1999, 9, 9)
    sheet.append(values)
    path = tmp_path / "a.xlsx"
    book.save(path)
    result = run(path, importer, claimed_format="xlsx")
    assert result.counts["imported"] == 1
    assert Person.objects.get().birth_date == dt.date(1999, 9, 9)
    fake = write_csv(tmp_path / "fake.xlsx", PEOPLE[:1])
    with pytest.raises(Exception, match="says it is XLSX"):
        run(fake, importer, claimed_format="xlsx")


def test_command_refuses_unknown_user_and_reports_bad_files(importer, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(CommandError, match="Unknown or inactive user"):
        call_command("import_registrations", str(path), "--as", "nadie")
    with pytest.raises(CommandError, match="empty"):
        call_command("import_registrations", str(path), "--as", importer.username)


def test_too_many_rows_stops_with_a_clear_error_and_keeps_committed_batches(importer, tmp_path, settings):
    settings.IMPORT_MAX_ROWS = 3
    rows = [row(n, "Quiej", "Tuyuc", birth_date=f"19{70 + i}-03-0{1 + i}") for i, n in enumerate(NAMES[:5])]
    with pytest.raises(Exception, match="more than 3 rows"):
        run(write_csv(tmp_path / "a.csv", rows), importer, batch_size=2)
    job = ImportJob.objects.get()
    assert job.status == ImportJobStatus.FAILED and job.last_committed_row == 3 and job.imported == 2
    assert any("more than 3 rows" in w for w in job.warnings)
    assert Person.objects.count() == 2
