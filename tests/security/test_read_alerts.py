"""Read-volume alerts (SECURITY.md LG-5): many distinct people read in an hour -> alert, suspend."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone
from qsessions.models import Session

from accounts import tasks
from accounts.models import SecurityEvent
from privacy.access_log import log_access
from tests.conftest import verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def low_threshold(settings):
    settings.READ_ALERT_THRESHOLD = 3
    settings.READ_ALERT_SUSPEND = True
    return settings


def read(user, count: int, *, repeat: int = 1, object_type: str = "registry.person") -> None:
    people = [uuid.uuid4() for _ in range(count)]
    for _ in range(repeat):
        log_access(user=user, action="view", object_type=object_type, object_ids=people)


def test_beat_runs_the_evaluation_every_five_minutes():
    entry = settings.CELERY_BEAT_SCHEDULE["evaluate-read-volume"]
    assert entry == {"task": "accounts.evaluate_read_volume", "schedule": 300.0}


def test_reading_over_the_threshold_alerts_and_suspends(make_user):
    user = make_user()
    client = verified_client(user)
    read(user, 4)
    assert tasks.evaluate_read_volume() == 1
    alert = SecurityEvent.objects.get(kind="read_volume_alert", user=user)
    assert alert.details == {"persons": 4, "threshold": 3, "window": "1h"}
    user.refresh_from_db()
    assert not user.is_active
    assert not Session.objects.filter(user=user).exists()
    assert client.get("/accounts/password/").status_code == 302
    assert SecurityEvent.objects.filter(kind="user_suspended", user=user).count() == 1


def test_distinct_people_are_counted_not_reads(make_user):
    user = make_user()
    read(user, 3, repeat=5)  # 15 reads of 3 people
    assert tasks.evaluate_read_volume() == 0
    user.refresh_from_db()
    assert user.is_active


def test_only_person_reads_count(make_user):
    user = make_user()
    read(user, 10, object_type="registry.identitydocument")
    assert tasks.evaluate_read_volume() == 0


def test_reads_older_than_an_hour_do_not_count(make_user):
    user = make_user()
    with time_machine.travel(timezone.now() - timedelta(minutes=61)):
        read(user, 4)
    read(user, 2)
    assert tasks.evaluate_read_volume() == 0


def test_one_alert_per_window(make_user, low_threshold):
    low_threshold.READ_ALERT_SUSPEND = False
    user = make_user()
    read(user, 5)
    assert tasks.evaluate_read_volume() == 1
    assert tasks.evaluate_read_volume() == 0
    assert SecurityEvent.objects.filter(kind="read_volume_alert").count() == 1


def test_suspension_can_be_switched_off(make_user, low_threshold):
    low_threshold.READ_ALERT_SUSPEND = False
    user = make_user()
    read(user, 4)
    tasks.evaluate_read_volume()
    user.refresh_from_db()
    assert user.is_active
    assert not SecurityEvent.objects.filter(kind="user_suspended").exists()


def test_each_user_is_judged_alone(make_user):
    heavy, light = make_user(), make_user()
    read(heavy, 4)
    read(light, 3)
    tasks.evaluate_read_volume()
    assert list(SecurityEvent.objects.filter(kind="read_volume_alert").values_list("user", flat=True)) == [heavy.pk]
