"""The import page of the admin site: upload a file, see a dry run, then import it.

The upload is stored under ``IMPORT_DIR`` with a server-generated name; the dry run runs the
same runner as ``manage.py import_registrations --dry-run`` (nothing written but a
``previewed`` job). "Import" queues the real run through the outbox (``registry.run_import``),
so a large file does not hold the request; the job's page shows its progress and report.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action

from crossings.models import Place
from privacy import outbox
from registry.models import ImportJob, ImportJobStatus
from registry.resolution.importer import reader
from registry.resolution.importer.runner import ImportOptions, run_import
from registry.vocabulary import LegalBasis

RUN_IMPORT = "registry.run_import"


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (CSV UTF-8 or XLSX)"))
    place = forms.ModelChoiceField(
        label=_("Place for rows without place_code"), queryset=Place.objects.order_by("code"), required=False,
        to_field_name="code",
    )
    legal_basis = forms.ChoiceField(
        label=_("Legal basis for rows without legal_basis"), choices=[("", "—"), *LegalBasis.choices], required=False,
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        reader.check_size(upload.size)
        suffix = Path(upload.name or "").suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise ValidationError(_("Choose a .csv or .xlsx file."))
        return upload


def store_upload(upload) -> tuple[Path, str]:
    """The upload saved under a server-generated name (never the client's file name)."""
    suffix = ".xlsx" if Path(upload.name).suffix.lower() == ".xlsx" else ".csv"
    name = f"upload-{uuid.uuid4().hex}{suffix}"
    target = Path(settings.IMPORT_DIR) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return target, name


def may_import(user) -> bool:
    return user.is_active and user.has_perm("registry.add_registration") and user.has_role("admin", "supervisor")


class ImportJobAdmin(ModelAdmin):
    list_display = ("created_at", "status", "dry_run", "file_format", "imported", "failed", "duplicates", "created_by")
    list_filter = ("status", "dry_run")
    readonly_fields = [f.name for f in ImportJob._meta.fields if f.name not in ("sha256", "groups", "stored_name")]
    exclude = ("sha256", "groups", "stored_name")
    actions_list = ["open_upload"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return may_import(request.user)

    def has_module_permission(self, request):
        return may_import(request.user)

    def get_urls(self):
        extra = [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="registry_importjob_upload"),
            path("<uuid:job_id>/confirm/", self.admin_site.admin_view(self.confirm_view), name="registry_importjob_confirm"),
        ]
        return extra + super().get_urls()

    @action(description=_("Import a file"), url_path="import-file")
    def open_upload(self, request):
        return redirect("admin:registry_importjob_upload")

    def upload_view(self, request):
        if not may_import(request.user):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context = {**self.admin_site.each_context(request), "form": form, "title": _("Import registrations")}
        if request.method == "POST" and form.is_valid():
            stored, name = store_upload(form.cleaned_data["file"])
            place = form.cleaned_data["place"]
            options = ImportOptions(
                actor=request.user, place_code=place.code if place else "", legal_basis=form.cleaned_data["legal_basis"],
                dry_run=True, keep_preview=True, stored_name=name, claimed_format=stored.suffix.lstrip("."),
            )
            try:
                result = run_import(stored, options)
            except ValidationError as exc:
                stored.unlink(missing_ok=True)
                form.add_error("file", exc)
                return render(request, "registry/admin_import.html", context)
            context.update(result=result, job=result.job, lines=result.lines[:200], place=place,
                           legal_basis=form.cleaned_data["legal_basis"])
        return render(request, "registry/admin_import.html", context)

    def confirm_view(self, request, job_id):
        if not may_import(request.user) or request.method != "POST":
            raise PermissionDenied
        preview = get_object_or_404(ImportJob, pk=job_id, dry_run=True, created_by=request.user)
        with transaction.atomic():
            outbox.enqueue(RUN_IMPORT, {
                "preview_id": str(preview.pk), "user_id": str(request.user.pk),
                "place_code": request.POST.get("place_code", ""), "legal_basis": request.POST.get("legal_basis", ""),
            }, dedup_key=f"run_import:{preview.pk}")
        messages.success(request, _("The import was queued; its job appears in this list with its progress."))
        return redirect("admin:registry_importjob_changelist")


def run_queued_import(preview_id: str, user_id: str, place_code: str, legal_basis: str) -> ImportJob | None:
    """The real run of a previewed upload (called by the ``registry.run_import`` task)."""
    from django.contrib.auth import get_user_model

    preview = ImportJob.objects.filter(pk=preview_id, status=ImportJobStatus.PREVIEWED).first()
    actor = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if preview is None or actor is None or not may_import(actor):
        return None
    stored = Path(settings.IMPORT_DIR) / preview.stored_name
    options = ImportOptions(actor=actor, place_code=place_code, legal_basis=legal_basis, resume=True,
                            stored_name=preview.stored_name, claimed_format=preview.file_format)
    return run_import(stored, options).job


admin.site.register(ImportJob, ImportJobAdmin)
