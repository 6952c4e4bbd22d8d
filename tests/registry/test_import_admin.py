"""The admin import page: upload, dry-run preview (nothing written), then the queued import."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from registry.models import ImportJob, ImportJobStatus, Person
from tests.conftest import verified_client

CSV = (
    "given_names,first_surname,second_surname,sex,birth_date,nationality,registered_at\n"
    "Ana Lucía,Pérez,Gómez,f,1990-05-17,GT,2026-01-10 10:00\n"
    "Wilmer,Tzul,,m,1990-02-30,GT,2026-01-10 10:05\n"
).encode()


@pytest.fixture(autouse=True)
def import_dir(settings, tmp_path):
    settings.IMPORT_DIR = tmp_path / "imports"


@pytest.fixture
def admin_user(make_user, agency):
    return make_user("admin", agency=agency, username="administradora")


def upload(client, place, content=CSV, name="gente.csv"):
    return client.post(reverse("admin:registry_importjob_upload"), {
        "file": SimpleUploadedFile(name, content, content_type="text/csv"), "place": place.code,
        "legal_basis": "public_interest",
    })


def test_upload_previews_then_imports(admin_user, place, settings, django_capture_on_commit_callbacks):
    client = verified_client(admin_user)
    response = upload(client, place)
    assert response.status_code == 200
    assert not response.context["form"].errors
    preview = ImportJob.objects.get()
    assert (preview.status, preview.dry_run, preview.imported, preview.failed) == (ImportJobStatus.PREVIEWED, True, 1, 1)
    assert not Person.objects.exists()
    body = response.content.decode()
    assert "birth_date" in body and "Wilmer" not in body  # row errors shown, values not echoed
    assert not preview.stored_name.startswith("gente")  # server-generated name
    with django_capture_on_commit_callbacks(execute=True):  # the outbox relays on commit (no broker)
        response = client.post(reverse("admin:registry_importjob_confirm", args=[preview.pk]),
                               {"place_code": place.code, "legal_basis": "public_interest"})
    assert response.status_code == 302
    job = ImportJob.objects.get(dry_run=False)
    assert (job.status, job.imported, job.failed) == (ImportJobStatus.DONE, 1, 1)
    assert Person.objects.count() == 1
    assert job.stored_name and not (settings.IMPORT_DIR / job.stored_name).exists()  # plaintext upload gone


def test_bad_files_are_refused_with_a_form_error(admin_user, place):
    client = verified_client(admin_user)
    for content, name in ((b"", "vacio.csv"), ("given_names,age\nJosé,30\n".encode("latin-1"), "latin.csv"),
                          (CSV, "gente.txt")):
        response = upload(client, place, content, name)
        assert response.status_code == 200
        assert response.context["form"].errors.get("file"), name
    assert not ImportJob.objects.exists() and not Person.objects.exists()


def test_registrars_cannot_open_the_import_page(make_user, place, agency):
    registrar = make_user("registrar", places=[place], agency=agency, is_staff=True)
    response = verified_client(registrar).get(reverse("admin:registry_importjob_upload"))
    assert response.status_code in (302, 403)


def test_job_list_offers_the_import_and_the_duplicates_admin_shows_labels(admin_user):
    client = verified_client(admin_user)
    response = client.get(reverse("admin:registry_importjob_changelist"))
    assert response.status_code == 200
    assert reverse("admin:registry_importjob_open_upload") in response.content.decode()
    assert client.get(reverse("admin:registry_importjob_open_upload")).status_code == 302
    assert client.get(reverse("admin:registry_duplicatecandidate_changelist")).status_code == 200
