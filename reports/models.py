"""Report runs and the files they produce (DESIGN.md rule 7: every task leaves a record).

A ``ReportRun`` is one request for one report kind with its parameters. Its ``fingerprint`` is
the hash of (kind, parameters, data version): asking again for the same report over the same
data returns the same run and the same files. Only failed runs give way to a new run with the
same fingerprint (conditional unique constraint). Files live in ``default_storage`` under
``reports/<run id>/``; a ``ReportFile`` row records each one with its size and SHA-256.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReportKind(models.TextChoices):
    DAILY_FLOWS = "daily_flows", _("Daily flows per place")
    WEEKLY_SUMMARY = "weekly_summary", _("Weekly summary")
    MONTHLY_STATISTICS = "monthly_statistics", _("Monthly statistics")
    REGISTRATIONS = "registrations", _("Registrations and review backlog")
    REFERRALS = "referrals", _("Referrals and outcomes")
    OVERSTAYS = "overstays", _("Overstays")
    DATA_QUALITY = "data_quality", _("Data quality")


class ReportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ReportFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (XLSX)")
    PDF = "pdf", _("PDF")
    HXL = "hxl", _("HXL-tagged CSV")


class Trigger(models.TextChoices):
    ON_DEMAND = "on_demand", _("On demand")
    SCHEDULE = "schedule", _("Schedule")
    COMMAND = "command", _("Command line")


def _in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class ReportRunQuerySet(models.QuerySet):
    def visible_to(self, user) -> ReportRunQuerySet:
        """Runs a user may see and download: their own requests; scheduled runs of the kinds
        they may run; admins everything; a partner client: the runs its agency's clients requested
        over places its own agreement covers.
        Everyone else sees nothing (404, never 403)."""
        from reports.kinds import kinds_for, partner_agreement

        if not (user.is_authenticated and user.is_active):
            return self.none()
        agreement = partner_agreement(user)
        if agreement is not None:
            return self.visible_to_agreement(agreement)
        if user.is_superuser or user.has_role("admin"):
            return self
        kinds = [spec.code for spec in kinds_for(user)]
        own = Q(requests__user=user)
        scheduled = Q(trigger=Trigger.SCHEDULE)
        return self.filter(kind__in=kinds).filter(own | scheduled).distinct()


    def visible_to_agreement(self, agreement) -> ReportRunQuerySet:
        """A partner agreement's runs: those its agency's clients requested, of the kinds it may
        run, over places it covers (what its clients see, and whom a finished run is announced to)."""
        from reports.kinds import KINDS, partner_may_run

        kinds = [code for code in KINDS if partner_may_run(agreement, code)]
        agency_runs = Q(requests__user__partner_client__agreement__agency_id=agreement.agency_id)
        covered = set(agreement.visible_places().values_list("code", flat=True))
        runs = self.filter(kind__in=kinds).filter(agency_runs).distinct().values_list("pk", "parameters")
        # A partner's run always names its places (reports.params); one of another agreement
        # of the same agency over other places is not this agreement's to see.
        allowed = [pk for pk, params in runs if params.get("places") and set(params["places"]) <= covered]
        return self.filter(pk__in=allowed)


class ReportRun(models.Model):
    """One report: kind, parameters, who asked, progress, files and outcome. Never holds
    personal data: parameters are dates, place codes and formats; errors keep the exception
    class and a fixed message."""

    Kind = ReportKind
    Status = ReportStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=24, choices=ReportKind.choices)
    parameters = models.JSONField(_("parameters"), default=dict)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requested by"), on_delete=models.PROTECT,
        null=True, blank=True, related_name="report_runs",
    )
    trigger = models.CharField(_("trigger"), max_length=10, choices=Trigger.choices, default=Trigger.ON_DEMAND)
    language = models.CharField(_("language"), max_length=5, default="es")
    status = models.CharField(_("status"), max_length=8, choices=ReportStatus.choices, default=ReportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    data_version = models.CharField(_("data version"), max_length=80)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, editable=False)
    row_count = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    suppressed_cells = models.PositiveIntegerField(_("suppressed cells"), null=True, blank=True)
    deliveries = models.PositiveSmallIntegerField(_("deliveries"), default=0)
    error_class = models.CharField(_("error"), max_length=200, blank=True)
    error_message = models.CharField(_("error message"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = ReportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report run")
        verbose_name_plural = _("report runs")
        constraints = [
            models.CheckConstraint(name="reportrun_kind_valid", condition=_in("kind", ReportKind)),
            models.CheckConstraint(name="reportrun_status_valid", condition=_in("status", ReportStatus)),
            models.CheckConstraint(name="reportrun_trigger_valid", condition=_in("trigger", Trigger)),
            models.CheckConstraint(name="reportrun_progress_range", condition=Q(progress__lte=100)),
            # Same kind + parameters + data version = one live run; a failed one may be retried.
            models.UniqueConstraint(
                fields=["fingerprint"], condition=~Q(status=ReportStatus.FAILED), name="reportrun_fingerprint_live_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="reportrun_status_idx"),
            models.Index(fields=["finished_at"], name="reportrun_finished_idx"),
        ]
        permissions = [
            ("run_reports", "Can run aggregate reports and open the dashboard"),
            ("run_overstay_reports", "Can run the overstays report"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.parameters.get('date_from', '')}–{self.parameters.get('date_to', '')} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ReportStatus.DONE, ReportStatus.FAILED)

    @property
    def duration(self):
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class ReportRequest(models.Model):
    """A user asking for a run. Several users asking for the same report (same fingerprint)
    share one run; each sees it in "my reports". Also what the per-day request limit counts."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="requests")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="report_requests")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("report request")
        verbose_name_plural = _("report requests")
        indexes = [models.Index(fields=["user", "created_at"], name="reportrequest_user_time_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.run_id}"


class ReportFile(models.Model):
    """One file of a run in ``default_storage``: format, storage name, size, SHA-256, rows."""

    run = models.ForeignKey(ReportRun, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(_("format"), max_length=4, choices=ReportFormat.choices)
    storage_name = models.CharField(_("storage name"), max_length=255, unique=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    row_count = models.PositiveIntegerField(_("rows"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["run", "format"]
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        constraints = [
            models.CheckConstraint(name="reportfile_format_valid", condition=_in("format", ReportFormat)),
            models.UniqueConstraint(fields=["run", "format"], name="reportfile_one_per_format"),
        ]

    def __str__(self) -> str:
        return self.storage_name

    @property
    def filename(self) -> str:
        return self.storage_name.rsplit("/", 1)[-1]
