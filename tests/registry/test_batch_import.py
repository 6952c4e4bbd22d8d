"""Batch registration and batch matching (the bulk import's fast path): the same rules, rows,
history and pairs as registering and matching the rows one by one. Synthetic people only."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from registry import services
from registry.models import (
    DuplicateCandidate,
    GroupMembership,
    IdentityDocument,
    Person,
    PersonBlockingKey,
    Registration,
)
from registry.resolution import batch, blocking, engine, synthetic
from registry.resolution.identity import from_person
from registry.resolution.importer import runner, schema
from registry.vocabulary import VulnerabilityKind
from tests.registry.factories import born_years_ago
from tests.registry.test_import import report_lines, row, run, write_csv


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"


def item(place, given="Ana Lucía", first="Pérez", second="Gómez", *, born=dt.date(1990, 5, 17), token=None, doc="",
         group="", rel="", **person) -> services.NewRegistration:
    data = {"given_names": given, "first_surname": first, "second_surname": second, "sex": "f", "nationality": "GT",
            "birth_precision": "exact", "birth_date": born, **person}
    return services.NewRegistration(
        place=place, person_data=data, legal_basis="public_interest", submission_token=token,
        document={"kind": "passport", "number": doc, "issuing_country": "GT"} if doc else None,
        group_key=group, relationship=rel,
    )


def synthetic_items(records, place) -> list[services.NewRegistration]:
    """The import's own cleaning of synthetic rows, as service input."""
    items = []
    for record in records:
        cleaned = schema.clean_row(record.as_row(), default_place=place.code, default_legal_basis="public_interest")
        assert not cleaned.errors, cleaned.errors
        items.append(services.NewRegistration(
            place=place, person_data=cleaned.person, legal_basis=cleaned.legal_basis, registered_at=cleaned.registered_at,
            document=cleaned.document, group_key=cleaned.group_key, relationship=cleaned.relationship,
        ))
    return items


# --- batch matching == the per-row engine --------------------------------------------------------


def test_batch_matching_finds_the_same_pairs_as_the_per_row_engine(supervisor, place):
    records = synthetic.generate(90, duplicate_rate=0.4, seed=2031)
    registry, incoming = records[:50], records[50:]
    # The registry: registered and matched one by one, as forms do.
    for new in synthetic_items(registry, place):
        registration = services.register(supervisor, place=place, person_data=new.person_data, legal_basis=new.legal_basis,
                                          registered_at=new.registered_at, scan_duplicates=False)
        if new.document:
            with contextlib.suppress(ValidationError):  # a corrupted copy may repeat a document
                services.add_document(supervisor, registration.person, **new.document)
    items = services.register_many(supervisor, synthetic_items(incoming, place))
    people = [i.registration.person for i in items if i.created]
    assert len(people) >= 30 and any(i.membership for i in items if i.created)

    found = batch.find_candidates(people)

    expected = []
    for n, person in enumerate(people):  # what the engine answers right after person n was registered
        later = {p.pk for p in people[n + 1:]}
        expected.append(engine.match_identity(engine.identity_of(person), exclude={person.pk, *later}))
    as_tuples = [[(m.person_id, m.score, tuple(m.codes)) for m in matches] for matches in found]
    assert as_tuples == [[(m.person_id, m.score, tuple(m.codes)) for m in matches] for matches in expected]
    in_batch = {p.pk for p in people}
    assert any(m.person_id in in_batch for matches in found for m in matches)  # earlier rows of the batch
    assert any(m.person_id not in in_batch for matches in found for m in matches)  # the registry


def test_batch_matching_skips_pairs_decided_different(supervisor, place):
    [old] = services.register_many(supervisor, [item(place, "José Ángel", "Hernández", "Gómez")])
    [new] = services.register_many(supervisor, [item(place, "Jose Angel", "Gomez", "Hernandez")])
    [[match]] = batch.find_candidates([new.registration.person])
    assert match.person_id == old.registration.person.pk
    services.decide_duplicate(supervisor, new.registration.person, old.registration.person, same=False)
    assert batch.find_candidates([new.registration.person]) == [[]]


def test_record_candidates_keeps_decisions_and_rescores_pending_pairs(supervisor, place):
    old, other, new = (i.registration.person for i in services.register_many(supervisor, [
        item(place, "José Ángel", "Hernández", "Gómez"), item(place, "Josè Angel", "Hernandez", "Gomez", doc="P1"),
        item(place, "Jose Angel", "Gomez", "Hernandez"),
    ]))
    services.decide_duplicate(supervisor, new, old, same=False)
    a, b = sorted([new.pk, other.pk])
    DuplicateCandidate.objects.create(person_a_id=a, person_b_id=b, score=0.1, reasons=[])
    matches = [engine.Match(old.pk, 0.99, ["x"], loaded=old), engine.Match(other.pk, 0.95, ["same_birth_date"], loaded=other)]
    [stored] = batch.record_candidates(supervisor, [new], [matches])
    assert [(p.person_a_id, p.person_b_id) for p in stored] == [(a, b)]  # the decided pair is left alone
    pending = DuplicateCandidate.objects.get(person_a_id=a, person_b_id=b)
    assert (pending.score, pending.reasons) == (0.95, ["same_birth_date"])


# --- register_many: the rules of register / add_document / add_to_group --------------------------


def test_register_many_writes_what_the_single_services_write(supervisor, place):
    one = services.register(supervisor, place=place, person_data=item(place, "Wendy", "Tzul", "Coj").person_data,
                            legal_basis="public_interest", scan_duplicates=False).person
    services.add_document(supervisor, one, kind="passport", number="G7654321", issuing_country="GT")
    [many] = services.register_many(supervisor, [item(place, "Wendy", "Tzul", "Coj", doc="G1234567")])
    two = many.registration.person
    assert many.created and many.error is None
    for field in ("given_names", "first_surname", "second_surname", "sex", "birth_date", "birth_year", "birth_precision",
                  "nationality", "languages", "aliases", "created_by_id"):
        assert getattr(two, field) == getattr(one, field), field
    assert set(two.name_terms.values_list("term", flat=True)) == set(one.name_terms.values_list("term", flat=True))
    def key_rows(person):
        return {tuple(getattr(k, f.attname) for f in PersonBlockingKey._meta.concrete_fields if f.name not in ("id", "person"))
                for k in PersonBlockingKey.objects.filter(person=person)}

    assert {row[0] for row in key_rows(two)} == blocking.stored_keys(from_person(two)) and key_rows(two) == key_rows(one)
    registration = Registration.objects.get(person=two)
    assert (registration.official, registration.agency_id, registration.status) == (supervisor, supervisor.agency_id, "draft")
    document = IdentityDocument.objects.get(person=two)
    assert document.number == "G1234567" and document.number_bidx and document.recorded_by == supervisor
    # History: who and why, as save_with_history writes it.
    for model, obj, reason in ((Person, two, "registered"), (Registration, registration, "registered"),
                               (IdentityDocument, document, "document added")):
        [entry] = model.history.filter(id=obj.pk)
        assert (entry.history_user_id, entry.history_change_reason, entry.history_type) == (supervisor.pk, reason, "+")


def test_register_many_errors_per_item_and_the_others_go_on(supervisor, place):
    services.register_many(supervisor, [item(place, "Otra", "Persona", doc="G1111111")])
    items = services.register_many(supervisor, [
        item(place, "Bien", "Uno"),
        item(place, "", "Sin", "Nombre"),  # register's name rule
        item(place, "Doble", "Documento", doc="G-1111111"),  # registered before this call
        item(place, "Primera", "Copia", doc="G2222222"),
        item(place, "Segunda", "Copia", doc="G 2222222"),  # taken by the item before it
        item(place, "Jefe", "Uno", group="g", rel="head"),
        item(place, "Jefe", "Dos", group="g", rel="head"),  # add_to_group: one head per group
        item(place, "Mal", "Pariente", group="g", rel="primo"),
        item(place, "Bien", "Dos", group="g", rel="child", born=born_years_ago(9)),
    ])
    errors = [sorted(i.error.message_dict) if i.error else None for i in items]
    assert errors == [None, ["given_names"], ["number"], None, ["number"], None, ["relationship"], ["relationship"], None]
    assert [i.created for i in items] == [e is None for e in errors]
    assert Person.objects.count() == 1 + 4
    head, child = items[5].membership, items[8].membership
    assert head.group_id == child.group_id and GroupMembership.objects.filter(group_id=head.group_id).count() == 2


def test_register_many_is_idempotent_on_the_submission_token(supervisor, place):
    import uuid

    token = uuid.uuid4()
    first, again = services.register_many(supervisor, [item(place, token=token), item(place, token=token)])
    assert first.created and not again.created and again.registration is first.registration
    [later] = services.register_many(supervisor, [item(place, token=token)])
    assert not later.created and later.registration.pk == first.registration.pk
    assert Registration.objects.count() == 1


def test_register_many_derives_child_flags_from_the_groups_as_the_batch_leaves_them(supervisor, place):
    def flags(person):
        return set(person.vulnerabilities.filter(is_active=True).values_list("kind", flat=True))

    alone, child, mother = (i.registration.person for i in services.register_many(supervisor, [
        item(place, "Niño", "Solo", born=born_years_ago(10)),
        item(place, "Niña", "Tum", born=born_years_ago(8), group="fam", rel="child"),  # before her mother
        item(place, "Madre", "Tum", born=born_years_ago(35), group="fam", rel="head"),
    ]))
    assert flags(alone) == {VulnerabilityKind.UNACCOMPANIED_CHILD}
    assert flags(child) == set() and flags(mother) == set()
    # A child alone in a group; in a later call the father joins it: the earlier flag is lifted.
    [son] = services.register_many(supervisor, [item(place, "Hijo", "Cux", born=born_years_ago(7), group="f2", rel="child")])
    assert flags(son.registration.person) == {VulnerabilityKind.UNACCOMPANIED_CHILD}
    group = son.membership.group
    father = item(place, "Padre", "Cux", born=born_years_ago(40), group="f2", rel="head")
    father.group = group
    services.register_many(supervisor, [father])
    assert flags(son.registration.person) == set()
    [lifted] = son.registration.person.vulnerabilities.all()
    assert not lifted.is_active and lifted.history.first().history_change_reason == "no longer applies"


def test_register_many_queries_do_not_grow_with_the_rows(supervisor, place):
    def queries(count: int, offset: int) -> int:
        items = [item(place, f"Persona {chr(65 + (offset + n) % 26)}", "Quiej", born=dt.date(1960 + n, 1, 1),
                      doc=f"Q{offset + n:07d}", group=f"g{offset + n // 2}", rel="head" if n % 2 == 0 else "spouse")
                 for n in range(count)]
        with CaptureQueriesContext(connection) as ctx:
            services.register_many(supervisor, items)
        assert all(i.created for i in items)
        return len(ctx.captured_queries)

    supervisor.has_perm("registry.add_registration")  # the permission cache, filled once per user
    assert queries(40, 1000) == queries(4, 0)


def test_register_many_tells_the_dashboard(supervisor, place, django_capture_on_commit_callbacks):
    from reports.signals import dashboard_version

    before = dashboard_version()
    with django_capture_on_commit_callbacks(execute=True):
        services.register_many(supervisor, [item(place), item(place, "Otra")])
    assert dashboard_version() > before


# --- the import: batches ------------------------------------------------------------------------


def test_duplicates_inside_one_batch_and_across_batches_are_linked(supervisor, place, tmp_path):
    rows = [
        row("Glenda", "Sic", "Tum", birth_date="1991-04-27"),
        row("Glenda", "Sic", "", birth_date="1991-04-27", at="2026-01-11 09:00"),  # same batch as row 2
        row("Brayan", "Ajú", "Yax", sex="m", birth_date="1999-01-05"),
        row("Brayan", "Aju", "Yax", sex="m", birth_date="1999-05-01", at="2026-01-12 09:00"),  # next batch
    ]
    result = run(write_csv(tmp_path / "a.csv", rows), supervisor, batch_size=2 + 1)
    assert result.counts["imported"] == 4 and result.counts["duplicates"] == 2
    by_row = {line["row"]: line for line in report_lines(result.job)}
    assert set(by_row) == {"3", "5"} and {line["outcome"] for line in by_row.values()} <= {"probable_duplicate", "possible_duplicate"}
    assert DuplicateCandidate.objects.filter(status="pending").count() == 2
    glendas = {p.pk for p in Person.objects.all() if p.given_names == "Glenda"}
    assert any({p.person_a_id, p.person_b_id} == glendas for p in DuplicateCandidate.objects.all())


def test_a_failing_row_inside_a_batch_is_reported_and_the_rest_of_the_batch_imports(supervisor, place, tmp_path):
    rows = [
        row("Uno", "Bien", "Escrito", birth_date="1971-01-01"),
        row("Dos", "Con", "Pasaporte", birth_date="1972-02-02", doc="H7654321"),
        row("Tres", "Mismo", "Pasaporte", birth_date="1973-03-03", doc="H-7654321"),  # row 3's document
        row("Cuatro", "Jefe", "Uno", birth_date="1974-04-04", group="g", rel="head"),
        row("Cinco", "Jefe", "Dos", birth_date="1975-05-05", group="g", rel="head"),  # a second head
        row("Seis", "Fecha", "Mala", birth_date="1990-02-30"),
        row("Siete", "Bien", "Escrito", birth_date="1997-07-07"),
    ]
    result = run(write_csv(tmp_path / "a.csv", rows), supervisor)
    assert result.counts["imported"] == 4 and result.counts["failed"] == 3
    lines = report_lines(result.job)
    assert [(line["row"], line["outcome"], line["column"]) for line in lines] == [
        ("4", "error", "document_number"), ("6", "error", "relationship"), ("7", "error", "birth_date")]
    holder = IdentityDocument.objects.get().person
    assert holder.display_reference in lines[0]["message"]
    assert result.job.imported == 4 and result.job.failed == 3


def test_a_unique_violation_from_a_concurrent_import_is_retried_once(supervisor, place, tmp_path, monkeypatch):
    real, calls = services.register_many, {"n": 0}

    def raced(actor, items):
        calls["n"] += 1
        if calls["n"] == 1:
            raise IntegrityError("duplicate key value violates unique constraint")
        return real(actor, items)

    monkeypatch.setattr(runner.services, "register_many", raced)
    result = run(write_csv(tmp_path / "a.csv", [row("Uno", "Bien"), row("Dos", "Bien")]), supervisor)
    assert calls["n"] == 2 and result.counts["imported"] == 2 and Person.objects.count() == 2


def test_import_queries_per_batch_do_not_grow_with_the_rows(supervisor, place, tmp_path):
    def queries(names, prefix: str, surnames: tuple[str, str]) -> int:
        rows = [row(given, *surnames, birth_date=f"19{50 + 3 * i}-03-0{1 + i % 9}", doc=f"{prefix}{i:07d}")
                for i, given in enumerate(names)]
        with CaptureQueriesContext(connection) as ctx:
            result = run(write_csv(tmp_path / f"{prefix}.csv", rows), supervisor)
        assert result.counts["imported"] == len(rows) and result.counts["duplicates"] == 0
        return len(ctx.captured_queries)

    supervisor.has_perm("registry.add_registration")  # the permission cache, filled once per user
    few = queries(["Alba", "Berta"], "K", ("Quiej", "Tuyuc"))
    many = queries(["Carmen", "Dulce", "Elena", "Fabiola", "Gloria", "Heidy", "Irma", "Julia", "Karla", "Lesly"], "L",
                   ("Batz", "Coj"))
    assert many == few  # the same statements per batch, whatever its size


def test_batch_import_gives_the_same_people_and_pairs_as_one_row_per_batch(supervisor, place, tmp_path):
    import csv

    records = synthetic.generate(40, duplicate_rate=0.5, seed=77)
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(records[0].as_row()))
        writer.writeheader()
        writer.writerows(r.as_row() for r in records)

    def outcome(result):
        token = dict(Registration.objects.values_list("person_id", "submission_token"))
        pairs = {frozenset((token[c.person_a_id], token[c.person_b_id])) for c in DuplicateCandidate.objects.all()}
        return result.counts, [line[:3] for line in result.lines], pairs

    options = {"place_code": place.code, "legal_basis": "public_interest"}
    with transaction.atomic():
        whole = outcome(run(path, supervisor, batch_size=500, **options))
        transaction.set_rollback(True)
    single = outcome(run(path, supervisor, batch_size=1, **options))
    assert whole == single
    assert whole[0]["imported"] > 40 and whole[0]["duplicates"] >= 5 and len(whole[2]) >= 5
