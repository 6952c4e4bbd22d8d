"""registry.resolution.merge: the merge and unmerge services and the adjudication decisions.

Every row linked to a person (in every app) follows the survivor and comes back exactly on an
unmerge; bad input (itself, a tombstone, stale versions, a pair decided meanwhile, double
submits, other roles, other agencies) leaves everything as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation

from privacy.models import AccessLog, OutboxMessage
from registry import services
from registry.models import (
    DuplicateCandidate,
    GroupMembership,
    IdentityDocument,
    MergeRecord,
    Person,
    PersonBlockingKey,
    PersonNameTerm,
    Vulnerability,
)
from registry.resolution import merge
from registry.services import ConflictError
from registry.vocabulary import (
    DocumentStatus,
    DuplicateStatus,
    PersonStatus,
    ReferralService,
    Relationship,
    VulnerabilityKind,
)
from tests.conftest import verified_client
from tests.factories.accounts import AgencyFactory
from tests.registry.factories import register_person
from transit import services as transit_services
from transit.services import EventInput

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """Messages are asserted in the source language."""
    with translation.override("en"):
        yield


def pair_of(
    a: Person,
    b: Person,
    score: float = 0.95,
    reasons=("same_birth_date", "surnames_swapped"),
    **kwargs,
):
    first, second = sorted([a, b], key=lambda p: p.pk)
    return DuplicateCandidate.objects.create(
        person_a=first, person_b=second, score=score, reasons=list(reasons), **kwargs
    )


def enrich(person: Person, registrar, supervisor, place, tag: str) -> None:
    """A document, a flag, a referral, a group, an entry and an exit, and a visitor card."""
    services.add_document(
        registrar, person, kind="passport", number=f"P{tag}778899", issuing_country="GT"
    )
    services.flag(registrar, person, VulnerabilityKind.TRAFFICKING, details="synthetic")
    services.refer(registrar, person, service=ReferralService.SHELTER, to_place=place)
    services.add_to_group(registrar, person, relationship=Relationship.HEAD)
    now = timezone.now()
    for kind, hours in (("entry", 30), ("exit", 5)):
        transit_services.record_event(
            registrar,
            EventInput(
                place=place,
                kind=kind,
                person=person,
                idempotency_key=f"merge-{tag}-{kind}",
                occurred_at=now - dt.timedelta(hours=hours),
                direction="north" if kind == "entry" else "south",
                mode="foot",
            ),
        )
    transit_services.issue_permit(supervisor, person, kind="tvrh")


def links_of(*people_) -> dict:
    """{(table, row id): person id} for every row of every merge participant of these people."""
    ids = [p.pk for p in people_]
    rows = {}
    for participant in merge.participants():
        queryset = participant.model.objects.filter(**{f"{participant.field}__in": ids})
        for pk, person_id in queryset.values_list("pk", participant.field):
            rows[(participant.label, str(pk))] = person_id
    return rows


def state_of(person: Person) -> dict:
    person = Person.objects.get(pk=person.pk)
    return {
        "status": person.status,
        "merged_into": person.merged_into_id,
        "aliases": list(person.aliases),
        "names": (person.given_names, person.first_surname, person.second_surname),
        "terms": set(PersonNameTerm.objects.filter(person=person).values_list("term", flat=True)),
        "keys": set(PersonBlockingKey.objects.filter(person=person).values_list("key", flat=True)),
        "active_flags": set(
            Vulnerability.objects.filter(person=person, is_active=True).values_list("pk", flat=True)
        ),
    }


@pytest.fixture
def two(registrar, supervisor, place):
    """Two records of the same woman, each with a full life in the registry and in transit."""
    rosa = register_person(
        registrar, place, given_names="Rosa María", first_surname="Ixcot", second_surname="Tzul"
    ).person
    maria = register_person(
        registrar, place, given_names="Maria", first_surname="Tzul", second_surname="Ixcot"
    ).person
    enrich(rosa, registrar, supervisor, place, "A")
    enrich(maria, registrar, supervisor, place, "B")
    return rosa, maria


def test_every_foreign_key_to_person_is_accounted_for():
    """A new table pointing at Person must either move in a merge or say why it stays."""
    assert merge.unaccounted_person_links() == []
    moving = {(p.label, p.field) for p in merge.participants()}
    assert {
        ("transit.transitevent", "person"),
        ("transit.permit", "person"),
        ("registry.registration", "person"),
        ("registry.identitydocument", "person"),
        ("registry.vulnerability", "person"),
        ("registry.referral", "person"),
        ("registry.groupmembership", "person"),
    } <= moving
    links = set(merge.person_links())
    assert moving | set(merge.KEPT_WITH_RECORD) >= links
    assert not (moving & set(merge.KEPT_WITH_RECORD))


def test_a_forgotten_table_is_reported(monkeypatch):
    monkeypatch.delitem(merge._PARTICIPANTS, "transit.permit")
    assert merge.unaccounted_person_links() == [("transit.permit", "person")]


def test_merge_moves_every_linked_object_to_the_survivor(two, supervisor):
    rosa, maria = two
    maria_rows = {key for key, owner in links_of(maria).items() if owner == maria.pk}
    # Every table has a row here (rights requests belong to privacy's own tests).
    assert {label for label, _pk in maria_rows} == {p.label for p in merge.participants()} - {
        "privacy.rightsrequest"
    }

    record = services.merge_people(supervisor, rosa, maria, "Mismo pasaporte en la entrevista")

    assert all(owner == rosa.pk for owner in links_of(rosa, maria).values())
    assert {(label, pk) for label, ids in record.moved.items() for pk in ids} == maria_rows
    maria.refresh_from_db()
    rosa.refresh_from_db()
    assert maria.status == PersonStatus.MERGED and maria.merged_into == rosa
    assert "Maria Tzul Ixcot" in rosa.aliases and record.aliases_added == ["Maria Tzul Ixcot"]
    assert merge.survivor_of(maria) == rosa
    # Both travel flags are kept: the merged one inactive (one active flag per kind), restorable.
    assert (
        Vulnerability.objects.filter(
            person=rosa, kind=VulnerabilityKind.TRAFFICKING, is_active=True
        ).count()
        == 1
    )
    assert len(record.deactivated) == 1
    # The decision, the history, the access log and the outbox say who merged what and why.
    pair = DuplicateCandidate.objects.get()
    assert pair.status == DuplicateStatus.SAME_PERSON and pair.decided_by == supervisor
    assert pair.decision_reason == "Mismo pasaporte en la entrevista"
    latest = maria.history.first()
    assert (
        latest.history_user == supervisor
        and latest.history_change_reason == f"merge {maria.reference} -> {rosa.reference}"
    )
    moved_event = rosa.transit_events.model.history.filter(
        person_id=rosa.pk, history_change_reason__startswith="merge"
    ).first()
    assert moved_event is not None and moved_event.history_user == supervisor
    log = AccessLog.objects.get(purpose=f"merge {record.pk}")
    assert log.user == supervisor and set(log.object_ids) == {str(rosa.pk), str(maria.pk)}
    assert OutboxMessage.objects.filter(
        task_name="registry.person_merged", kwargs__merge_id=str(record.pk)
    ).exists()
    assert record.merged_by == supervisor and record.reason == "Mismo pasaporte en la entrevista"


def test_unmerge_restores_both_records_exactly(two, supervisor, registrar, place):
    rosa, maria = two
    before_links = links_of(rosa, maria)
    before = {"rosa": state_of(rosa), "maria": state_of(maria)}
    record = services.merge_people(supervisor, rosa, maria, "Parecían la misma")
    later = register_person(
        registrar,
        place,
        given_names="Rosa María",
        first_surname="Ixcot",
        second_surname="Tzul",
        submission_token=None,
    )
    # A registration made after the merge on the survivor stays with it.
    if later.person_id != rosa.pk:
        later.person_id = rosa.pk
        later.save(update_fields=["person"])

    services.unmerge_people(supervisor, record, "Eran hermanas")

    after_links = links_of(rosa, maria)
    assert after_links.pop(("registry.registration", str(later.pk))) == rosa.pk
    assert after_links == before_links
    assert state_of(rosa) == before["rosa"]
    assert state_of(maria) == before["maria"]
    record.refresh_from_db()
    assert (
        record.undone_by == supervisor
        and record.undo_reason == "Eran hermanas"
        and record.undone_at
    )
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.DIFFERENT_PEOPLE
    assert AccessLog.objects.filter(purpose=f"unmerge {record.pk}", user=supervisor).exists()
    assert OutboxMessage.objects.filter(task_name="registry.person_unmerged").count() == 1


def test_shared_travel_group_membership_stays_and_comes_back(registrar, supervisor, place):
    mother = register_person(registrar, place, given_names="Lucía", first_surname="Pérez").person
    again = register_person(registrar, place, given_names="Lucia", first_surname="Perez").person
    membership = services.add_to_group(registrar, mother, relationship=Relationship.HEAD)
    services.add_to_group(
        registrar, again, relationship=Relationship.SPOUSE, group=membership.group
    )
    record = services.merge_people(
        supervisor, mother, again, "Registrada dos veces en el mismo grupo"
    )
    # The survivor is already in the group: the tombstone keeps its membership (no duplicate row).
    assert GroupMembership.objects.filter(group=membership.group, person=mother).count() == 1
    assert GroupMembership.objects.filter(group=membership.group, person=again).count() == 1
    assert "registry.groupmembership" not in record.moved
    services.unmerge_people(supervisor, record, "Error")
    assert GroupMembership.objects.filter(group=membership.group).count() == 2


# --- bad input: nothing half-done -----------------------------------------------------------------


def snapshot(*people_):
    return links_of(*people_), [state_of(p) for p in people_], MergeRecord.objects.count()


def test_merging_a_record_into_itself_is_refused(two, supervisor):
    rosa, _maria = two
    before = snapshot(rosa)
    with pytest.raises(ValidationError, match="itself"):
        services.merge_people(supervisor, rosa, rosa, "x")
    assert snapshot(rosa) == before


def test_merging_into_a_tombstone_names_it(two, supervisor, registrar, place):
    rosa, maria = two
    services.merge_people(supervisor, rosa, maria, "Misma persona")
    third = register_person(registrar, place, given_names="Rosa", first_surname="Ixcot").person
    before = snapshot(rosa, third)
    maria = Person.objects.get(pk=maria.pk)
    with pytest.raises(ConflictError) as exc:
        services.merge_people(supervisor, maria, third, "Misma persona")
    assert maria.display_reference in str(exc.value) and "merged" in str(exc.value)
    with pytest.raises(ConflictError):
        services.merge_people(supervisor, third, maria, "Misma persona")
    assert snapshot(rosa, third) == before


def test_a_reason_is_required(two, supervisor):
    rosa, maria = two
    before = snapshot(rosa, maria)
    with pytest.raises(ValidationError) as exc:
        services.merge_people(supervisor, rosa, maria, "   ")
    assert "reason" in exc.value.message_dict
    assert snapshot(rosa, maria) == before


def test_a_stale_version_is_refused(two, supervisor, registrar):
    rosa, maria = two
    seen = {rosa.pk: rosa.version, maria.pk: maria.version}
    services.update_person(
        registrar, maria, {"second_surname": "Ixcoy"}, expected_version=maria.version, reason="typo"
    )
    before = snapshot(rosa, maria)
    with pytest.raises(ConflictError, match="changed"):
        services.merge_people(supervisor, rosa, maria, "Misma persona", expected_versions=seen)
    assert snapshot(rosa, maria) == before


@pytest.mark.parametrize("role", ["registrar", "analyst", "auditor"])
def test_only_supervisors_and_admins_merge(two, make_user, agency, place, role):
    rosa, maria = two
    user = make_user(role, agency=agency, places=[place])
    before = snapshot(rosa, maria)
    with pytest.raises(PermissionDenied):
        services.merge_people(user, rosa, maria, "Misma persona")
    with pytest.raises(PermissionDenied):
        services.decide_candidate(user, pair_of(rosa, maria), same=False, reason="Distintas")
    assert snapshot(rosa, maria) == before
    assert DuplicateCandidate.objects.get().status == DuplicateStatus.PENDING


def test_admin_merges_anywhere(two, make_user):
    rosa, maria = two
    admin = make_user("admin", agency=AgencyFactory(code="otra"))
    assert services.merge_people(admin, rosa, maria, "Misma persona").merged_by == admin


def test_a_supervisor_of_another_agency_cannot_merge(two, make_user):
    rosa, maria = two
    stranger = make_user("supervisor", agency=AgencyFactory(code="otra"))
    with pytest.raises(PermissionDenied):
        services.merge_people(stranger, rosa, maria, "Misma persona")
    assert Person.objects.get(pk=maria.pk).status == PersonStatus.ACTIVE


# --- decisions in the queue ------------------------------------------------------------------------


def test_different_people_is_remembered_and_leaves_the_queue(two, supervisor):
    from registry.resolution import engine

    rosa, maria = two
    pair = pair_of(rosa, maria)
    assert list(merge.queue_for(supervisor)) == [pair]
    services.decide_candidate(supervisor, pair, same=False, reason="Madre e hija")
    pair.refresh_from_db()
    assert (
        pair.status == DuplicateStatus.DIFFERENT_PEOPLE and pair.decision_reason == "Madre e hija"
    )
    assert list(merge.queue_for(supervisor)) == []
    assert list(merge.queue_for(supervisor, "decided")) == [pair]
    # The nightly scan finding the pair again does not reopen it.
    engine.record_candidates(rosa)
    pair.refresh_from_db()
    assert pair.status == DuplicateStatus.DIFFERENT_PEOPLE
    assert list(merge.queue_for(supervisor)) == []


def test_same_person_merges_into_the_chosen_record(two, supervisor):
    rosa, maria = two
    pair = pair_of(rosa, maria)
    record = services.decide_candidate(
        supervisor, pair, same=True, reason="Mismo pasaporte", survivor=maria
    )
    assert record.survivor == maria and record.merged == rosa
    assert Person.objects.get(pk=rosa.pk).merged_into_id == maria.pk
    assert list(merge.queue_for(supervisor)) == []


def test_a_pair_decided_meanwhile_is_not_decided_again(two, supervisor, make_user, agency):
    rosa, maria = two
    pair = pair_of(rosa, maria)
    colleague = make_user("supervisor", agency=agency)
    services.decide_candidate(colleague, pair, same=False, reason="Distintas")
    before = snapshot(rosa, maria)
    for same in (True, False):  # the stale page, or a double submit
        with pytest.raises(ConflictError, match="already decided"):
            services.decide_candidate(supervisor, pair, same=same, reason="Iguales", survivor=rosa)
    assert snapshot(rosa, maria) == before
    pair.refresh_from_db()
    assert pair.decided_by == colleague and pair.decision_reason == "Distintas"


def test_a_double_merge_submit_merges_once(two, supervisor):
    rosa, maria = two
    pair = pair_of(rosa, maria)
    services.decide_candidate(supervisor, pair, same=True, reason="Iguales", survivor=rosa)
    with pytest.raises(ConflictError):
        services.decide_candidate(supervisor, pair, same=True, reason="Iguales", survivor=rosa)
    assert MergeRecord.objects.count() == 1


def test_the_survivor_must_be_one_of_the_pair(two, supervisor, registrar, place):
    rosa, maria = two
    other = register_person(registrar, place, given_names="Otra").person
    with pytest.raises(ValidationError) as exc:
        services.decide_candidate(
            supervisor, pair_of(rosa, maria), same=True, reason="Iguales", survivor=other
        )
    assert "survivor" in exc.value.message_dict
    assert not MergeRecord.objects.exists()


def test_an_officials_same_person_answer_waits_for_a_supervisor(two, supervisor, registrar):
    rosa, maria = two
    services.decide_duplicate(registrar, rosa, maria, True, "Dijo que ya se registró")
    pair = DuplicateCandidate.objects.get()
    assert list(merge.queue_for(supervisor)) == [pair]  # not merged yet: still in the queue
    services.decide_candidate(supervisor, pair, same=True, reason="Confirmado", survivor=rosa)
    assert list(merge.queue_for(supervisor)) == []


def test_queue_bands_and_scope(two, supervisor, make_user):
    from registry.resolution.engine import probable_threshold

    rosa, maria = two
    pair = pair_of(rosa, maria, score=probable_threshold() + 0.001)
    assert list(merge.queue_for(supervisor, band="probable")) == [pair]
    assert list(merge.queue_for(supervisor, band="possible")) == []
    stranger = make_user("supervisor", agency=AgencyFactory(code="otra"))
    assert list(merge.queue_for(stranger)) == []


# --- unmerge rules ----------------------------------------------------------------------------------


def test_unmerge_after_the_window_is_refused(two, supervisor, settings):
    rosa, maria = two
    settings.MERGE_UNDO_DAYS = 7
    record = services.merge_people(supervisor, rosa, maria, "Misma persona")
    MergeRecord.objects.filter(pk=record.pk).update(merged_at=timezone.now() - dt.timedelta(days=8))
    record.refresh_from_db()
    assert not merge.can_undo(record)
    with pytest.raises(ValidationError, match="7 days"):
        services.unmerge_people(supervisor, record, "Tarde")
    assert Person.objects.get(pk=maria.pk).status == PersonStatus.MERGED


def test_unmerge_twice_is_refused(two, supervisor):
    rosa, maria = two
    record = services.merge_people(supervisor, rosa, maria, "Misma persona")
    services.unmerge_people(supervisor, record, "Error")
    before = snapshot(rosa, maria)
    with pytest.raises(ConflictError, match="already been undone"):
        services.unmerge_people(supervisor, record, "Error")
    assert snapshot(rosa, maria) == before


def test_unmerge_needs_the_later_merge_undone_first(two, supervisor, registrar, place):
    rosa, maria = two
    first = services.merge_people(supervisor, rosa, maria, "Misma persona")
    third = register_person(registrar, place, given_names="Rosa", first_surname="Ixcot").person
    second = services.merge_people(supervisor, third, rosa, "También la misma")
    assert merge.survivor_of(Person.objects.get(pk=maria.pk)) == third
    with pytest.raises(ConflictError, match="later merge"):
        services.unmerge_people(supervisor, first, "Error")
    services.unmerge_people(supervisor, second, "Error")
    services.unmerge_people(supervisor, first, "Error")
    assert (
        Person.objects.filter(
            status=PersonStatus.ACTIVE, pk__in=[rosa.pk, maria.pk, third.pk]
        ).count()
        == 3
    )


def test_unmerge_requires_permission_and_reason(two, supervisor, registrar):
    rosa, maria = two
    record = services.merge_people(supervisor, rosa, maria, "Misma persona")
    with pytest.raises(PermissionDenied):
        services.unmerge_people(registrar, record, "Error")
    with pytest.raises(ValidationError):
        services.unmerge_people(supervisor, record, "")
    assert Person.objects.get(pk=maria.pk).status == PersonStatus.MERGED


@pytest.mark.django_db(transaction=True)
def test_crossed_concurrent_merges_merge_once(registrar, supervisor, place, monkeypatch):
    """A into B and B into A at the same moment: one wins, the other gets a clear conflict."""
    rosa = register_person(registrar, place, given_names="Rosa", first_surname="Ixcot").person
    maria = register_person(
        registrar, place, given_names="Rosa", first_surname="Ixcot", second_surname="T"
    ).person
    both_read = threading.Barrier(2)
    original = merge.lock_people

    def lock_after_both_read(*pks):
        with contextlib.suppress(threading.BrokenBarrierError):
            both_read.wait(timeout=5)
        return original(*pks)

    monkeypatch.setattr(merge, "lock_people", lock_after_both_read)
    results, conflicts, failures = [], [], []

    def run(survivor, merged):
        try:
            results.append(services.merge_people(supervisor, survivor, merged, "Misma persona"))
        except ConflictError as exc:
            conflicts.append(exc)
        except Exception as exc:  # noqa: BLE001 - anything else would be a 500
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in ((rosa, maria), (maria, rosa))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == [] and len(results) == 1 and len(conflicts) == 1
    assert MergeRecord.objects.count() == 1
    assert Person.objects.filter(status=PersonStatus.MERGED).count() == 1


def test_references_of_a_survivor_include_merged_records(two, supervisor, registrar, place):
    rosa, maria = two
    services.merge_people(supervisor, rosa, maria, "Misma persona")
    third = register_person(registrar, place, given_names="Rosa", first_surname="Ixcot").person
    services.merge_people(supervisor, third, rosa, "También")
    assert merge.references_of(third) == {third.reference, rosa.reference, maria.reference}
    assert merge.references_of(maria) == {maria.reference}


def test_a_card_printed_for_the_merged_record_stays_genuine(two, supervisor):
    from transit import cards, verify

    rosa, maria = two
    permit = maria.permits.get()
    claims = cards.CardClaims(
        maria.reference, permit.number, permit.kind, permit.valid_from, permit.valid_until
    )
    token = cards.sign(claims)
    assert verify.check_online(token).outcome == verify.CardCheck.VALID
    services.merge_people(supervisor, rosa, maria, "Misma persona")
    assert verify.check_online(token).outcome == verify.CardCheck.VALID


def test_the_merged_records_journey_and_typed_reference_lead_to_the_survivor(two, supervisor, login):
    from django.urls import reverse

    from transit.views.post import _find

    rosa, maria = two
    services.merge_people(supervisor, rosa, maria, "Misma persona")
    response = login(supervisor).get(reverse("transit:journey", args=[maria.pk]))
    assert response.status_code == 302
    assert response.url == reverse("transit:journey", args=[rosa.pk])
    person, permit = _find(supervisor, maria.reference)
    assert person == rosa
    assert permit is not None and permit.person_id == rosa.pk


def test_the_supervisor_is_warned_when_both_records_hold_a_valid_card_of_one_kind(registrar, supervisor, place):
    """One valid card per person and kind is the issuing rule; a merge would leave two, so the
    comparison page says so before the decision (the merge itself is not refused)."""
    a = register_person(registrar, place, given_names="Ana", first_surname="Sic").person
    b = register_person(registrar, place, given_names="Ana", first_surname="Sic", second_surname="Tum").person
    pair = pair_of(a, b)
    transit_services.issue_permit(supervisor, a, kind="tvrh")
    assert merge.warnings(a, b) == []
    transit_services.issue_permit(supervisor, b, kind="tvrh")
    assert len(merge.warnings(a, b)) == 1 and "TVRH" in merge.warnings(a, b)[0]
    page = verified_client(supervisor).get(reverse("registry:duplicate", args=[pair.pk])).content.decode()
    assert 'data-testid="merge-warnings"' in page and "TVRH" in page
    record = services.merge_people(supervisor, a, b, reason="same person, two cards")
    assert record.survivor == a


def test_the_supervisor_is_warned_when_both_records_hold_a_valid_document_of_one_kind(registrar, supervisor, place):
    """Two valid passports of one country (different numbers: a valid number is unique) on the
    two records: the comparison page says so before the decision; another kind or country, or
    a document marked superseded, is no warning. The merge itself is not refused."""
    a = register_person(registrar, place, given_names="Ana", first_surname="Sic").person
    b = register_person(registrar, place, given_names="Ana", first_surname="Sic", second_surname="Tum").person
    pair = pair_of(a, b)
    services.add_document(supervisor, a, kind="passport", number="G1234567", issuing_country="GT")
    services.add_document(supervisor, b, kind="passport", number="M7654321", issuing_country="MX")
    old = services.add_document(supervisor, b, kind="passport", number="G7654321", issuing_country="GT")
    with translation.override("en"):
        assert [w for w in merge.warnings(a, b) if "passport" in w.lower()] == [
            "Both records hold a valid document “Passport” issued by Guatemala, with different numbers. One person "
            "rarely holds two: make sure they are the same person; if so, mark the outdated one as “Superseded” "
            "after the merge."]
    with translation.override("es"):
        assert any("«Pasaporte»" in w and "«Reemplazado»" in w for w in merge.warnings(a, b))
    page = verified_client(supervisor).get(reverse("registry:duplicate", args=[pair.pk])).content.decode()
    assert 'data-testid="merge-warnings"' in page and "Guatemala" in page
    assert "G1234567" not in page and "G7654321" not in page  # numbers stay masked
    IdentityDocument.objects.filter(pk=old.pk).update(status=DocumentStatus.SUPERSEDED)
    assert merge.documents_of_both(a, b) == []
    record = services.merge_people(supervisor, a, b, reason="same person, renewed passport")
    assert record.survivor == a
