"""registry.services: registration, idempotency, birth rules, documents, groups, flags, workflow,
optimistic concurrency and mass-assignment (SECURITY.md IN-1, IN-2, RL-3, RL-4, bad inputs 3-9)."""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from privacy.models import OutboxMessage
from registry import people, services
from registry.models import (
    IdentityDocument,
    Person,
    PersonNameTerm,
    Registration,
    RegistrationTransition,
    Vulnerability,
)
from registry.vocabulary import (
    BirthPrecision,
    ChildProtection,
    DocumentKind,
    LegalBasis,
    RegistrationStatus,
    Relationship,
    VulnerabilityKind,
)
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import born_years_ago, identity, register_person

TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"


@pytest.fixture
def agency(db):
    return AgencyFactory()


@pytest.fixture
def place(db):
    return PlaceFactory()


@pytest.fixture
def registrar(make_user, place, agency):
    return make_user("registrar", places=[place], agency=agency)


@pytest.fixture
def supervisor(make_user, agency):
    return make_user("supervisor", agency=agency)


def errors_of(exc_info) -> dict:
    return exc_info.value.message_dict


# --- register ----------------------------------------------------------------------------------


def test_register_creates_person_draft_terms_and_outbox(registrar, place, agency):
    registration = register_person(registrar, place, given_names="José", first_surname="Pérez", second_surname="López")
    person = registration.person
    assert Registration.objects.get() == registration
    assert registration.status == RegistrationStatus.DRAFT
    assert (registration.place, registration.agency, registration.official) == (place, agency, registrar)
    assert registration.notice_version == services.CURRENT_NOTICE_VERSION
    stored = Person.objects.get(pk=person.pk)
    assert (stored.given_names, stored.first_surname, stored.second_surname) == ("José", "Pérez", "López")
    assert stored.created_by == registrar
    assert stored.history.count() == 1 and stored.history.first().history_user == registrar
    # a token and a phonetic term per name word
    assert PersonNameTerm.objects.filter(person=person).count() == 6
    message = OutboxMessage.objects.get()
    assert message.task_name == "registry.scan_duplicates"
    assert message.kwargs == {"person_id": str(person.pk)}


def test_register_ignores_person_fields_it_does_not_own(registrar, place, supervisor):
    registration = register_person(registrar, place, status="erased", version=99, created_by=supervisor, reference="X")
    person = Person.objects.get(pk=registration.person.pk)
    assert (person.status, person.version, person.created_by) == ("active", 1, registrar)
    assert person.reference != "X"


def test_same_submission_token_twice_gives_one_registration(registrar, place):
    token = uuid.uuid4()
    first = register_person(registrar, place, submission_token=token, given_names="Ana")
    second = register_person(registrar, place, submission_token=token, given_names="Ana")
    assert first.pk == second.pk
    assert Registration.objects.count() == 1 and Person.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_double_submit_gives_one_registration(registrar, place, monkeypatch):
    """Two threads pass the 'already submitted?' check together, then race on the insert."""
    token = uuid.uuid4()
    both_checked = threading.Barrier(2)
    original_reindex = people.reindex_names

    def reindex_after_both_checked(person):
        # An implementation that serialises the two submissions is fine too (broken barrier).
        with contextlib.suppress(threading.BrokenBarrierError):
            both_checked.wait(timeout=5)
        original_reindex(person)

    monkeypatch.setattr(people, "reindex_names", reindex_after_both_checked)
    results, failures = [], []

    def submit():
        try:
            results.append(register_person(registrar, place, submission_token=token, given_names="Rosa"))
        except Exception as exc:  # noqa: BLE001 - anything escaping would be a 500
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert len(results) == 2 and results[0].pk == results[1].pk
    assert Registration.objects.count() == 1
    assert Person.objects.count() == 1  # the losing thread's person was rolled back
    assert OutboxMessage.objects.filter(task_name="registry.scan_duplicates").count() == 1


def test_legal_basis_missing_is_a_field_error(registrar, place):
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, legal_basis="")
    assert "legal_basis" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, legal_basis="because")
    assert "legal_basis" in errors_of(exc)
    assert not Person.objects.exists()


def test_place_not_assigned_is_a_field_error(registrar):
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, PlaceFactory())
    assert "place" in errors_of(exc)
    assert not Registration.objects.exists() and not Person.objects.exists()


def test_supervisor_registers_anywhere(supervisor):
    assert register_person(supervisor, PlaceFactory()).official == supervisor


def test_all_field_errors_come_together(registrar):
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, PlaceFactory(), legal_basis="", given_names="Mar\u200bia", birth_date=dt.date(1890, 1, 1))
    assert {"legal_basis", "place", "given_names", "birth_date"} <= set(errors_of(exc))


def test_registrar_without_permission_cannot_register(make_user, place):
    analyst = make_user("analyst", places=[place])
    with pytest.raises(PermissionDenied):
        register_person(analyst, place)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("given_names", "\u202eozneroL"),
        ("first_surname", "M\u0430ria"),
        ("given_names", "Mar\x00ía"),
        ("second_surname", "a" * 256),
        ("given_names", ""),
    ],
)
def test_bad_names_are_refused_and_nothing_stored(registrar, place, field, value):
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, **{field: value})
    assert field in errors_of(exc)
    assert not Person.objects.exists()


def test_names_stored_nfc(registrar, place):
    registration = register_person(registrar, place, given_names="Jose\u0301", first_surname="N\u0303andu\u0301")
    person = Person.objects.get(pk=registration.person.pk)
    assert (person.given_names, person.first_surname) == ("José", "Ñandú")


# --- birth rules --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"birth_date": timezone.localdate() + dt.timedelta(days=1)}, "birth_date"),
        ({"birth_date": timezone.localdate() + dt.timedelta(days=800)}, "birth_date"),
        ({"birth_date": dt.date(1890, 1, 1)}, "birth_date"),
        ({"birth_precision": BirthPrecision.YEAR, "birth_year": 1890}, "birth_year"),
        ({"birth_precision": BirthPrecision.YEAR, "birth_year": timezone.localdate().year + 1}, "birth_year"),
        ({"birth_precision": BirthPrecision.YEAR}, "birth_year"),
        ({"birth_date": None}, "birth_date"),
        ({"birth_precision": BirthPrecision.ESTIMATED, "age": -1}, "age"),
        ({"birth_precision": BirthPrecision.ESTIMATED, "age": 111}, "age"),
        ({"birth_precision": BirthPrecision.ESTIMATED}, "age"),
        ({"birth_precision": "guess"}, "birth_precision"),
    ],
)
def test_birth_rules(registrar, place, fields, error_field):
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, **fields)
    assert error_field in errors_of(exc)
    assert not Person.objects.exists()


def test_the_birth_is_checked_against_the_local_date_of_the_registration(registrar, place):
    """At 20:00 in Chiapas (02:00 UTC the next day) a child born that evening is accepted and
    the next local day is still in the future."""
    evening = dt.datetime(2026, 3, 10, 20, 0, tzinfo=ZoneInfo(place.time_zone))
    born = register_person(registrar, place, registered_at=evening, birth_date=dt.date(2026, 3, 10)).person
    assert born.birth_date == dt.date(2026, 3, 10)
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, registered_at=evening, birth_date=dt.date(2026, 3, 11))
    assert "birth_date" in errors_of(exc)


def test_estimated_age_becomes_a_birth_year(registrar, place):
    registered_at = timezone.now() - dt.timedelta(days=3)
    person = register_person(registrar, place, registered_at=registered_at, birth_precision=BirthPrecision.ESTIMATED, age=30).person
    person.refresh_from_db()
    year = timezone.localdate(registered_at).year  # the place's calendar, not UTC's
    assert (person.birth_date, person.birth_year, person.birth_precision) == (None, year - 30, "estimated")


def test_year_only_is_accepted(registrar, place):
    person = register_person(registrar, place, birth_precision=BirthPrecision.YEAR, birth_year=1985).person
    person.refresh_from_db()
    assert (person.birth_date, person.birth_year, person.birth_precision) == (None, 1985, "year")


def test_exact_date_sets_the_year(registrar, place):
    person = register_person(registrar, place, birth_date=dt.date(2001, 2, 28)).person
    person.refresh_from_db()
    assert (person.birth_date, person.birth_year) == (dt.date(2001, 2, 28), 2001)


def test_date_of_birth_after_the_registration_date_is_refused(registrar, place):
    registered_at = timezone.now() - dt.timedelta(days=30)
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, registered_at=registered_at, birth_date=timezone.localdate() - dt.timedelta(days=10))
    assert "birth_date" in errors_of(exc)


def test_naive_registration_time_is_refused(registrar, place):
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, registered_at=dt.datetime(2025, 6, 1, 10, 30))  # noqa: DTZ001
    assert "registered_at" in errors_of(exc)


@pytest.mark.parametrize(
    "registered_at",
    [timezone.now() + dt.timedelta(hours=1), timezone.now() + dt.timedelta(days=365), dt.datetime(1989, 12, 31, tzinfo=dt.UTC)],
)
def test_registration_time_in_the_future_or_before_1990_is_refused(registrar, place, registered_at):
    with pytest.raises(ValidationError) as exc:
        register_person(registrar, place, registered_at=registered_at)
    assert "registered_at" in errors_of(exc)
    assert not Registration.objects.exists()


def test_registration_time_a_little_ahead_is_clock_skew(registrar, place):
    registration = register_person(registrar, place, registered_at=timezone.now() + dt.timedelta(minutes=2))
    assert registration.pk


# --- documents ----------------------------------------------------------------------------------


@pytest.fixture
def person(registrar, place):
    return register_person(registrar, place, given_names="Anna María", first_surname="Eriksson").person


def test_curp_check_digit(registrar, person):
    document = services.add_document(registrar, person, kind=DocumentKind.CURP, number="boxw310820hnerxn09", issuing_country="MX")
    assert IdentityDocument.objects.get(pk=document.pk).number == "BOXW310820HNERXN09"
    with pytest.raises(ValidationError) as exc:
        services.add_document(registrar, person, kind=DocumentKind.CURP, number="BOXW310820HNERXN08", issuing_country="MX")
    assert "number" in errors_of(exc)


def test_cui_check_digit(registrar, person):
    document = services.add_document(registrar, person, kind=DocumentKind.DPI, number="1234 56789 0101", issuing_country="GT")
    assert IdentityDocument.objects.get(pk=document.pk).number == "1234567890101"
    for bad in ("1234567880101", "1234567892301"):
        with pytest.raises(ValidationError) as exc:
            services.add_document(registrar, person, kind=DocumentKind.DPI, number=bad, issuing_country="GT")
        assert "number" in errors_of(exc)
    assert IdentityDocument.objects.count() == 1


def test_passport_with_mrz(registrar, person):
    document = services.add_document(registrar, person, kind=DocumentKind.PASSPORT, number="L898902C3", issuing_country="SE", mrz=TD3)
    document = IdentityDocument.objects.get(pk=document.pk)
    assert document.mrz == TD3
    assert document.mrz_checks == {"document_number": True, "birth_date": True, "expiry_date": True, "optional_data": True, "composite": True}
    assert document.expiry_date == dt.date(2012, 4, 15)


def test_mrz_number_typed_with_separators_still_matches(registrar, person):
    document = services.add_document(registrar, person, kind=DocumentKind.PASSPORT, number="l898-902 c3", issuing_country="SE", mrz=TD3)
    assert document.mrz_checks["document_number"] is True


def test_mrz_wrong_check_digit(registrar, person):
    with pytest.raises(ValidationError) as exc:
        services.add_document(
            registrar, person, kind=DocumentKind.PASSPORT, number="L898902C3", issuing_country="SE",
            mrz=TD3.replace("L898902C36", "L898902C35"),
        )
    assert "mrz" in errors_of(exc)
    assert "document_number" in str(exc.value)
    assert not IdentityDocument.objects.exists()


def test_mrz_of_another_document_is_refused(registrar, person):
    with pytest.raises(ValidationError) as exc:
        services.add_document(registrar, person, kind=DocumentKind.PASSPORT, number="X1234567", issuing_country="SE", mrz=TD3)
    assert "mrz" in errors_of(exc)
    assert not IdentityDocument.objects.exists()


def test_duplicate_valid_passport_is_a_field_error_not_a_crash(registrar, place, person):
    services.add_document(registrar, person, kind=DocumentKind.PASSPORT, number="G1234567", issuing_country="GT")
    other = register_person(registrar, place, given_names="Otra").person
    for spelling in ("G1234567", "g 1234 567", " G-1234567 "):
        with pytest.raises(ValidationError) as exc:
            services.add_document(registrar, other, kind=DocumentKind.PASSPORT, number=spelling, issuing_country="GT")
        assert "number" in errors_of(exc)
    # The transaction is still usable (no broken-transaction error) and nothing was added.
    assert IdentityDocument.objects.count() == 1
    # Same number from another country, or another kind of document, is a different document.
    services.add_document(registrar, other, kind=DocumentKind.PASSPORT, number="G1234567", issuing_country="HN")
    services.add_document(registrar, other, kind=DocumentKind.NATIONAL_ID, number="G1234567", issuing_country="GT")
    assert IdentityDocument.objects.count() == 3


def test_document_needs_kind_and_number(registrar, person):
    with pytest.raises(ValidationError) as exc:
        services.add_document(registrar, person, kind="tattoo", number="1", issuing_country="GT")
    assert "kind" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.add_document(registrar, person, kind=DocumentKind.PASSPORT, number="   ", issuing_country="GT")
    assert "number" in errors_of(exc)


# --- groups and child protection ----------------------------------------------------------------


def _person(actor, place, age: int, **fields) -> Person:
    return register_person(actor, place, birth_date=born_years_ago(age), **fields).person


def active_flags(person) -> set[str]:
    return set(Vulnerability.objects.filter(person=person, is_active=True).values_list("kind", flat=True))


def test_family_of_three_child_is_accompanied(registrar, place):
    mother, father, child = _person(registrar, place, 34), _person(registrar, place, 36), _person(registrar, place, 8)
    group = services.add_to_group(registrar, mother, relationship=Relationship.HEAD).group
    services.add_to_group(registrar, father, relationship=Relationship.SPOUSE, group=group)
    services.add_to_group(registrar, child, relationship=Relationship.CHILD, group=group)
    assert people.child_protection_status(child) == ChildProtection.ACCOMPANIED
    assert people.child_protection_status(mother) is None
    assert active_flags(child) == set()


def test_child_registered_alone_is_flagged_unaccompanied(registrar, place):
    child = _person(registrar, place, 15)
    assert people.child_protection_status(child) == ChildProtection.UNACCOMPANIED
    flag = Vulnerability.objects.get(person=child, is_active=True)
    assert (flag.kind, flag.derived, flag.unhcr_code) == (VulnerabilityKind.UNACCOMPANIED_CHILD, True, "UC")


def test_fifteen_year_old_alone_in_a_group_is_unaccompanied(registrar, place):
    child = _person(registrar, place, 15)
    services.add_to_group(registrar, child, relationship=Relationship.HEAD)
    assert active_flags(child) == {VulnerabilityKind.UNACCOMPANIED_CHILD}
    assert Vulnerability.objects.filter(person=child).count() == 1  # derived once, not again


def test_child_with_only_children_is_unaccompanied(registrar, place):
    older, younger = _person(registrar, place, 16), _person(registrar, place, 9)
    group = services.add_to_group(registrar, older, relationship=Relationship.HEAD).group
    services.add_to_group(registrar, younger, relationship=Relationship.SIBLING, group=group)
    assert active_flags(younger) == active_flags(older) == {VulnerabilityKind.UNACCOMPANIED_CHILD}


def test_minor_with_an_unrelated_adult_is_unaccompanied(registrar, place):
    """CRC General Comment 6 / UNHCR, and Mexico's Ley de Migración art. 3: a child with no parent,
    no relative and no legal guardian is *unaccompanied*, whoever the adult travelling along is."""
    adult, child = _person(registrar, place, 40), _person(registrar, place, 14)
    group = services.add_to_group(registrar, adult, relationship=Relationship.HEAD).group
    services.add_to_group(registrar, child, relationship=Relationship.UNRELATED, group=group)
    assert people.child_protection_status(child) == ChildProtection.UNACCOMPANIED
    assert active_flags(child) == {VulnerabilityKind.UNACCOMPANIED_CHILD}


@pytest.mark.parametrize(
    ("adult_relationship", "child_relationship"),
    [
        (Relationship.HEAD, Relationship.SIBLING),  # an adult brother
        (Relationship.HEAD, Relationship.OTHER_RELATIVE),  # an aunt
        (Relationship.SIBLING, Relationship.CHILD),  # the head's sibling: an uncle
        (Relationship.PARENT, Relationship.CHILD),  # the head's parent: a grandparent
    ],
)
def test_minor_with_an_adult_relative_who_is_not_a_parent_is_separated(registrar, place, adult_relationship, child_relationship):
    adult, child = _person(registrar, place, 45), _person(registrar, place, 12)
    head = adult if adult_relationship == Relationship.HEAD else _person(registrar, place, 16)
    group = services.add_to_group(registrar, head, relationship=Relationship.HEAD).group
    if head is not adult:
        services.add_to_group(registrar, adult, relationship=adult_relationship, group=group)
    services.add_to_group(registrar, child, relationship=child_relationship, group=group)
    assert people.child_protection_status(child) == ChildProtection.SEPARATED
    assert active_flags(child) == {VulnerabilityKind.SEPARATED_CHILD}


def test_adding_a_parent_later_deactivates_the_derived_flag_and_keeps_history(registrar, place):
    child = _person(registrar, place, 15)
    group = services.add_to_group(registrar, child, relationship=Relationship.HEAD).group
    flag = Vulnerability.objects.get(person=child, kind=VulnerabilityKind.UNACCOMPANIED_CHILD, is_active=True)
    mother = _person(registrar, place, 41)
    services.add_to_group(registrar, mother, relationship=Relationship.PARENT, group=group)
    assert people.child_protection_status(child) == ChildProtection.ACCOMPANIED
    flag.refresh_from_db()
    assert flag.is_active is False
    assert active_flags(child) == set()
    history = list(flag.history.order_by("history_date").values_list("is_active", "history_change_reason"))
    assert history[0][0] is True and history[-1] == (False, "no longer applies")


def test_legal_guardian_makes_the_child_accompanied(registrar, place):
    guardian, child = _person(registrar, place, 50), _person(registrar, place, 10)
    group = services.add_to_group(registrar, guardian, relationship=Relationship.HEAD, is_legal_guardian=True).group
    services.add_to_group(registrar, child, relationship=Relationship.UNRELATED, group=group)
    assert people.child_protection_status(child) == ChildProtection.ACCOMPANIED
    assert active_flags(child) == set()


def test_a_child_cannot_be_the_legal_guardian(registrar, place):
    child = _person(registrar, place, 16)
    with pytest.raises(ValidationError) as exc:
        services.add_to_group(registrar, child, relationship=Relationship.HEAD, is_legal_guardian=True)
    assert "is_legal_guardian" in errors_of(exc)


def test_group_has_one_head_and_a_person_joins_once(registrar, place):
    a, b = _person(registrar, place, 30), _person(registrar, place, 31)
    group = services.add_to_group(registrar, a, relationship=Relationship.HEAD).group
    with pytest.raises(ValidationError) as exc:
        services.add_to_group(registrar, b, relationship=Relationship.HEAD, group=group)
    assert "relationship" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.add_to_group(registrar, a, relationship=Relationship.SPOUSE, group=group)
    assert "person" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.add_to_group(registrar, b, relationship="cousin", group=group)
    assert "relationship" in errors_of(exc)


def test_correcting_a_parents_age_re_derives_the_childs_flag(registrar, place):
    """The 'mother' turns out to be 16: the child in her group is now unaccompanied, even though
    an official had flagged the child by hand before (no unique-constraint crash)."""
    mother, child = _person(registrar, place, 30), _person(registrar, place, 5)
    group = services.add_to_group(registrar, mother, relationship=Relationship.HEAD).group
    services.add_to_group(registrar, child, relationship=Relationship.CHILD, group=group)
    assert active_flags(child) == set()
    services.flag(registrar, child, VulnerabilityKind.UNACCOMPANIED_CHILD, details="la madre fue detenida")
    mother.refresh_from_db()
    services.update_person(registrar, mother, {"birth_date": born_years_ago(16)}, expected_version=mother.version)
    assert people.child_protection_status(child) == ChildProtection.UNACCOMPANIED
    assert active_flags(child) == {VulnerabilityKind.UNACCOMPANIED_CHILD}
    child.refresh_from_db()
    services.update_person(registrar, child, {"given_names": "Luz"}, expected_version=child.version)
    assert Vulnerability.objects.filter(person=child, kind=VulnerabilityKind.UNACCOMPANIED_CHILD, is_active=True).count() == 1


# --- flags --------------------------------------------------------------------------------------


def test_child_flag_on_an_adult_is_refused(registrar, place):
    adult = _person(registrar, place, 35)
    for kind in (VulnerabilityKind.UNACCOMPANIED_CHILD, VulnerabilityKind.SEPARATED_CHILD):
        with pytest.raises(ValidationError) as exc:
            services.flag(registrar, adult, kind)
        assert "kind" in errors_of(exc)
    assert not Vulnerability.objects.filter(person=adult).exists()


def test_flag_is_recorded_once_with_its_code(registrar, place):
    adult = _person(registrar, place, 35)
    first = services.flag(registrar, adult, VulnerabilityKind.TRAFFICKING, details="indicios")
    again = services.flag(registrar, adult, VulnerabilityKind.TRAFFICKING)
    assert first.pk == again.pk and first.unhcr_code == "LP" and first.derived is False
    with pytest.raises(ValidationError) as exc:
        services.flag(registrar, adult, "unlucky")
    assert "kind" in errors_of(exc)


def test_referral_needs_a_destination_and_a_known_service(registrar, place, agency):
    adult = _person(registrar, place, 35)
    with pytest.raises(ValidationError) as exc:
        services.refer(registrar, adult, service="spa")
    assert {"to_agency", "service"} <= set(errors_of(exc))
    assert services.refer(registrar, adult, service="shelter", to_place=place).status == "requested"


# --- workflow -----------------------------------------------------------------------------------


@pytest.fixture
def draft(registrar, place):
    return register_person(registrar, place)


def test_workflow_submit_then_verify(registrar, supervisor, draft):
    services.submit(registrar, draft)
    assert draft.status == RegistrationStatus.SUBMITTED and draft.submitted_at is not None
    services.verify(supervisor, draft, reason="documentos vistos")
    draft.refresh_from_db()
    assert draft.status == RegistrationStatus.VERIFIED
    steps = list(RegistrationTransition.objects.filter(registration=draft).order_by("at", "id"))
    assert [(s.from_status, s.to_status, s.by) for s in steps] == [
        ("draft", "submitted", registrar), ("submitted", "verified", supervisor),
    ]
    assert steps[1].reason == "documentos vistos"
    assert draft.history.first().history_user == supervisor


def test_reject_and_needs_correction_need_a_reason(registrar, supervisor, draft):
    services.submit(registrar, draft)
    for review in (services.reject, services.request_correction):
        with pytest.raises(ValidationError) as exc:
            review(supervisor, draft, reason="   ")
        assert "reason" in errors_of(exc)
    draft.refresh_from_db()
    assert draft.status == RegistrationStatus.SUBMITTED
    services.request_correction(supervisor, draft, reason="falta el segundo apellido")
    assert draft.status == RegistrationStatus.NEEDS_CORRECTION
    services.update_details(registrar, draft, {"notes": "corregido"}, expected_version=draft.version)
    services.submit(registrar, draft)
    services.reject(supervisor, draft, reason="registro duplicado")
    draft.refresh_from_db()
    assert draft.status == RegistrationStatus.REJECTED
    transitions = RegistrationTransition.objects.filter(registration=draft).order_by("at", "id")
    assert [t.to_status for t in transitions] == ["submitted", "needs_correction", "submitted", "rejected"]
    assert transitions.get(to_status="rejected").reason == "registro duplicado"


def test_invalid_transitions_are_refused(registrar, supervisor, draft):
    with pytest.raises(ValidationError):
        services.verify(supervisor, draft)  # still a draft
    services.submit(registrar, draft)
    with pytest.raises(ValidationError):
        services.submit(registrar, draft)
    services.verify(supervisor, draft)
    for review in (services.reject, services.request_correction):
        with pytest.raises(ValidationError):
            review(supervisor, draft, reason="tarde")
    with pytest.raises(ValidationError):
        services.submit(registrar, draft)
    draft.refresh_from_db()
    assert draft.status == RegistrationStatus.VERIFIED
    assert RegistrationTransition.objects.filter(registration=draft).count() == 2


def test_registrar_cannot_verify(registrar, make_user, place, agency):
    colleague = make_user("registrar", places=[place], agency=agency)
    registration = register_person(colleague, place)
    services.submit(colleague, registration)
    with pytest.raises(PermissionDenied):
        services.verify(registrar, registration)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.SUBMITTED


def test_supervisor_cannot_verify_their_own_registration(supervisor, place):
    registration = register_person(supervisor, place)
    services.submit(supervisor, registration)
    for review in (services.verify, services.reject, services.request_correction):
        with pytest.raises(PermissionDenied):
            review(supervisor, registration, reason="yo mismo")
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.SUBMITTED


def test_inactive_supervisor_cannot_verify(registrar, supervisor, draft):
    services.submit(registrar, draft)
    supervisor.is_active = False
    supervisor.save()
    with pytest.raises(PermissionDenied):
        services.verify(supervisor, draft)


# --- optimistic concurrency and mass assignment -------------------------------------------------


def test_stale_details_update_is_a_conflict_and_the_first_wins(registrar, draft):
    mine, theirs = Registration.objects.get(pk=draft.pk), Registration.objects.get(pk=draft.pk)
    services.update_details(registrar, mine, {"notes": "primero"}, expected_version=1)
    with pytest.raises(services.ConflictError):
        services.update_details(registrar, theirs, {"notes": "segundo"}, expected_version=1)
    stored = Registration.objects.get(pk=draft.pk)
    assert (stored.notes, stored.version) == ("primero", 2)


def test_stale_person_update_is_a_conflict_and_the_first_wins(registrar, place):
    person = register_person(registrar, place, given_names="Ana").person
    mine, theirs = Person.objects.get(pk=person.pk), Person.objects.get(pk=person.pk)
    services.update_person(registrar, mine, {"given_names": "Ana Lucía"}, expected_version=1)
    with pytest.raises(services.ConflictError):
        services.update_person(registrar, theirs, {"given_names": "Anita"}, expected_version=1)
    stored = Person.objects.get(pk=person.pk)
    assert (stored.given_names, stored.version) == ("Ana Lucía", 2)


def test_stale_workflow_step_is_a_conflict(registrar, supervisor, draft):
    services.submit(registrar, draft, expected_version=1)
    with pytest.raises(services.ConflictError):
        services.verify(supervisor, Registration.objects.get(pk=draft.pk), expected_version=1)


@pytest.mark.parametrize(
    "changes",
    [{"status": "verified"}, {"agency": None}, {"official": None}, {"version": 99}, {"id": uuid.uuid4()},
     {"submitted_at": timezone.now()}, {"person": None}, {"secret": 1}],
)
def test_update_details_refuses_fields_it_does_not_own(registrar, draft, changes):
    before = Registration.objects.filter(pk=draft.pk).values().get()
    with pytest.raises(ValidationError) as exc:
        services.update_details(registrar, draft, {"notes": "x", **changes}, expected_version=draft.version)
    assert set(changes) <= set(errors_of(exc))
    assert Registration.objects.filter(pk=draft.pk).values().get() == before


def test_update_details_changes_the_allowed_fields(registrar, draft):
    services.update_details(
        registrar, draft,
        {"purpose": "asylum", "destination_country": "US", "destination_detail": "Houston", "consent_purposes": ["family_tracing"],
         "legal_basis": LegalBasis.CONSENT},
        expected_version=1,
    )
    stored = Registration.objects.get(pk=draft.pk)
    assert (stored.purpose, str(stored.destination_country), stored.destination_detail) == ("asylum", "US", "Houston")
    assert stored.consent_purposes == ["family_tracing"] and stored.legal_basis == "consent"
    with pytest.raises(ValidationError) as exc:
        services.update_details(registrar, stored, {"consent_purposes": ["selling"]}, expected_version=stored.version)
    assert "consent_purposes" in errors_of(exc)
    with pytest.raises(ValidationError) as exc:
        services.update_details(registrar, stored, {"legal_basis": "whim"}, expected_version=stored.version)
    assert "legal_basis" in errors_of(exc)


def test_update_details_refuses_submitted_registrations(registrar, draft):
    services.submit(registrar, draft)
    with pytest.raises(ValidationError):
        services.update_details(registrar, draft, {"notes": "tarde"}, expected_version=draft.version)
    assert Registration.objects.get(pk=draft.pk).notes == ""


@pytest.mark.parametrize("changes", [{"status": "erased"}, {"version": 7}, {"reference": "AAAAAAAAA"}, {"created_by": None}, {"merged_into": None}])
def test_update_person_refuses_fields_it_does_not_own(registrar, place, changes):
    person = register_person(registrar, place).person
    with pytest.raises(ValidationError) as exc:
        services.update_person(registrar, person, {"given_names": "Nuevo", **changes}, expected_version=1)
    assert set(changes) <= set(errors_of(exc))
    stored = Person.objects.get(pk=person.pk)
    assert (stored.status, stored.version, stored.given_names) == ("active", 1, person.given_names)


def test_update_person_keeps_an_estimated_birth(registrar, place):
    person = register_person(registrar, place, birth_precision=BirthPrecision.ESTIMATED, age=25).person
    year = Person.objects.get(pk=person.pk).birth_year
    services.update_person(registrar, person, {"languages": ["spa", "mam"]}, expected_version=1)
    stored = Person.objects.get(pk=person.pk)
    assert (stored.birth_precision, stored.birth_year, stored.languages) == ("estimated", year, ["spa", "mam"])


def test_update_person_reindexes_names_and_queues_a_scan(registrar, place):
    person = register_person(registrar, place, given_names="Ana", first_surname="Ruiz", second_surname="").person
    before = set(PersonNameTerm.objects.filter(person=person).values_list("term", flat=True))
    services.update_person(registrar, person, {"first_surname": "Díaz"}, expected_version=1, reason="typo")
    after = set(PersonNameTerm.objects.filter(person=person).values_list("term", flat=True))
    assert before != after and len(after) == 4
    assert OutboxMessage.objects.filter(dedup_key=f"dup:{person.pk}:2").exists()
    assert Person.objects.get(pk=person.pk).history.first().history_change_reason == "typo"


def test_identity_dict_helper_defaults():
    data = identity(birth_precision=BirthPrecision.YEAR, birth_year=1980)
    assert "birth_date" not in data and data["birth_year"] == 1980
