"""The access log: one row per read, append-only on PostgreSQL, and reads fail if it fails."""

from __future__ import annotations

import uuid

import pytest
import structlog
from django.db import DatabaseError, connection, transaction
from django.test import Client, RequestFactory

from privacy.access_log import AccessLogError, log_access
from privacy.models import AccessLog
from tests.factories.accounts import UserFactory
from tests.privacy.conftest import CANARY
from tests.privacy.urls import PERSON_ID

MIDDLEWARE_UNDER_TEST = ["privacy.middleware.FailClosedMiddleware"]


@pytest.fixture
def refuse_access_log_inserts(db):
    """Make the database itself refuse access-log inserts (rolled back with the test)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            CREATE FUNCTION test_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'disk full (simulated)'; END; $$;
            CREATE TRIGGER test_refuse_insert BEFORE INSERT ON privacy_accesslog
                FOR EACH ROW EXECUTE FUNCTION test_refuse_insert();
            """
        )


@pytest.fixture
def fail_closed_site(settings):
    settings.ROOT_URLCONF = "tests.privacy.urls"
    settings.MIDDLEWARE = MIDDLEWARE_UNDER_TEST
    return Client()


def test_log_access_records_who_what_where(db):
    user = UserFactory()
    ids = [uuid.uuid4(), str(uuid.uuid4())]
    request = RequestFactory().get("/people/?q=Jos%C3%A9+P%C3%A9rez", REMOTE_ADDR="10.1.2.3")
    with structlog.contextvars.bound_contextvars(request_id="req-123"):
        row = log_access(
            user=user,
            action="list",
            object_type="registry.person",
            object_ids=ids,
            purpose="casework",
            request=request,
            agreement="DSA-7",
        )
    row = AccessLog.objects.get(pk=row.pk)
    assert (row.user_id, row.agency_id) == (user.pk, user.agency_id)
    assert row.object_ids == [str(i) for i in ids] and row.object_count == 2
    assert (row.ip, row.request_id, row.path) == ("10.1.2.3", "req-123", "/people/")
    assert (row.purpose, row.agreement_ref, row.action) == ("casework", "DSA-7", "list")
    assert row.at.utcoffset().total_seconds() == 0


def test_request_id_falls_back_to_header_and_is_sanitised(db):
    request = RequestFactory().get("/x/", HTTP_X_REQUEST_ID="abc\r\nInjected: 1" + "z" * 100)
    row = log_access(
        user=None, action="view", object_type="registry.person", object_ids=[], request=request
    )
    assert row.request_id.startswith("abcInjected:1zz") and len(row.request_id) == 64
    assert row.user_id is None and row.object_count == 0


def test_non_uuid_ids_are_refused_without_echo(db):
    with pytest.raises(ValueError) as info:
        log_access(user=None, action="view", object_type="registry.person", object_ids=[CANARY])
    assert CANARY not in str(info.value)
    assert AccessLog.objects.count() == 0


def test_access_log_rejects_update_and_delete_on_postgresql(db):
    assert connection.vendor == "postgresql"
    row = log_access(
        user=None, action="view", object_type="registry.person", object_ids=[PERSON_ID]
    )
    attempts = [
        lambda: AccessLog.objects.filter(pk=row.pk).update(purpose="tampered"),
        lambda: AccessLog.objects.filter(pk=row.pk).delete(),
        lambda: connection.cursor().execute("UPDATE privacy_accesslog SET object_count = 0"),
        lambda: connection.cursor().execute("DELETE FROM privacy_accesslog"),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    assert AccessLog.objects.get(pk=row.pk).object_count == 1


def test_log_access_failure_raises_access_log_error(refuse_access_log_inserts):
    with transaction.atomic():
        with pytest.raises(AccessLogError):
            log_access(
                user=None, action="view", object_type="registry.person", object_ids=[PERSON_ID]
            )
        # The savepoint kept the caller's transaction usable.
        assert AccessLog.objects.count() == 0


def test_view_returns_page_and_logs_once(db, fail_closed_site):
    response = fail_closed_site.get("/people/beef/")
    assert response.status_code == 200
    assert list(AccessLog.objects.values_list("object_ids", "action")) == [
        ([str(PERSON_ID)], "view")
    ]


def test_view_returns_503_without_data_when_log_fails(refuse_access_log_inserts, fail_closed_site):
    response = fail_closed_site.get("/people/beef/")
    assert response.status_code == 503
    assert CANARY.encode() not in response.content and b"Canary" not in response.content
    assert response["Cache-Control"] == "no-store"


def test_api_returns_problem_json_503_when_log_fails(refuse_access_log_inserts, fail_closed_site):
    response = fail_closed_site.get("/api/v1/people/beef/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 503 and "Canary" not in response.content.decode()


def test_decryption_error_becomes_503(db, fail_closed_site):
    response = fail_closed_site.get("/people/broken/")
    assert response.status_code == 503
    assert b"Canary" not in response.content


def test_admin_is_read_only(db):
    from django.contrib import admin

    model_admin = admin.site._registry[AccessLog]
    request = RequestFactory().get("/admin/privacy/accesslog/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert model_admin.has_view_permission(request)
