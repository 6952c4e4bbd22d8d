"""Privacy tables: the access log of personal-data reads, and the task outbox.

None of these tables may hold plaintext personal data: the access log stores ids, the outbox
stores task names and ids (callers pass ids, never names or document numbers).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from privacy.fields import EncryptedCharField, EncryptedTextField


class AccessAction(models.TextChoices):
    VIEW = "view", _("View")
    LIST = "list", _("List")
    SEARCH = "search", _("Search")
    EXPORT = "export", _("Export")
    API_READ = "api_read", _("API read")
    REPORT_DOWNLOAD = "report_download", _("Report download")
    ADMIN_VIEW = "admin_view", _("Admin view")
    PRINT = "print", _("Print")


class AccessLog(models.Model):
    """One read of identified personal data: who, which records, why, from where, when.

    Written by ``privacy.access_log.log_access`` in the reader's transaction. Append-only: on
    PostgreSQL a trigger refuses UPDATE and DELETE (migration 0002).
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("at (UTC)"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
    )
    agency = models.ForeignKey(
        "accounts.Agency",
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="access_logs",
    )
    agreement_ref = models.CharField(
        _("data-sharing agreement"),
        max_length=64,
        blank=True,
        help_text=_("Reference of the agreement that allowed the read."),
    )
    purpose = models.CharField(
        _("purpose"),
        max_length=120,
        blank=True,
        help_text=_("A purpose code or short phrase; never personal data."),
    )
    action = models.CharField(_("action"), max_length=20, choices=AccessAction.choices)
    object_type = models.CharField(
        _("object type"), max_length=100, help_text=_("e.g. registry.person")
    )
    object_ids = models.JSONField(
        _("object ids"), default=list, blank=True, help_text=_("UUIDs of the records read.")
    )
    object_count = models.PositiveIntegerField(_("number of records"), default=0)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    path = models.CharField(
        _("path"), max_length=500, blank=True, help_text=_("URL path without the query string.")
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        default_permissions = ("view",)  # nobody adds, changes or deletes audit rows by hand
        indexes = [
            models.Index(fields=["-at"], name="accesslog_at_idx"),
            models.Index(fields=["user", "-at"], name="accesslog_user_at_idx"),
            models.Index(fields=["agency", "-at"], name="accesslog_agency_at_idx"),
            models.Index(fields=["object_type", "-at"], name="accesslog_type_at_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                name="accesslog_action_valid", condition=Q(action__in=AccessAction.values)
            ),
            models.CheckConstraint(name="accesslog_object_type_set", condition=~Q(object_type="")),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type} x{self.object_count}"


class OutboxMessage(models.Model):
    """A Celery task to publish, written in the same transaction as the data it is about.

    ``privacy.outbox.relay`` publishes pending rows with the row id as the Celery task id and as
    the ``outbox_id`` keyword, which consumers pass to ``consume_once``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task_name = models.CharField(_("task"), max_length=200)
    kwargs = models.JSONField(_("arguments"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    dedup_key = models.CharField(
        _("deduplication key"), max_length=200, null=True, blank=True, unique=True
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    available_at = models.DateTimeField(_("available from"), default=timezone.now)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=200, blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox messages")
        indexes = [
            models.Index(
                fields=["available_at", "created_at"],
                name="outbox_pending_idx",
                condition=Q(published_at__isnull=True),
            ),
            models.Index(fields=["published_at"], name="outbox_published_idx"),
        ]
        constraints = [
            models.CheckConstraint(name="outbox_task_name_set", condition=~Q(task_name="")),
            models.CheckConstraint(name="outbox_dedup_key_not_blank", condition=~Q(dedup_key="")),
        ]

    def __str__(self) -> str:
        state = "published" if self.published_at else "pending"
        return f"{self.task_name} [{state}] {self.id}"


class ConsumedMessage(models.Model):
    """Marks an outbox message as done by its consumer; makes redelivery a no-op.

    Inserted by ``privacy.outbox.consume_once`` in the same transaction as the consumer's work,
    so either both the effect and this row exist, or neither.
    """

    message_id = models.UUIDField(_("message id"), unique=True)
    task_name = models.CharField(_("task"), max_length=200, blank=True)
    consumed_at = models.DateTimeField(_("consumed"), default=timezone.now)

    class Meta:
        ordering = ["-consumed_at"]
        verbose_name = _("consumed message")
        verbose_name_plural = _("consumed messages")
        indexes = [models.Index(fields=["consumed_at"], name="consumed_at_idx")]

    def __str__(self) -> str:
        return f"{self.task_name} {self.message_id}"


# --- people's rights over their data (ARCO) and retention ------------------------------------


class RightKind(models.TextChoices):
    """The four ARCO rights (LGPDPPSO / LFPDPPP; GDPR 15, 16, 17/18, 21)."""

    ACCESS = "access", _("Access")
    RECTIFICATION = "rectification", _("Rectification")
    CANCELLATION = "cancellation", _("Cancellation")
    OPPOSITION = "opposition", _("Opposition")


class RequesterKind(models.TextChoices):
    SUBJECT = "subject", _("The person")
    REPRESENTATIVE = "representative", _("A representative")


class RequestStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    BLOCKED = "blocked", _("Blocked (waiting for erasure)")
    ESCALATED = "escalated", _("Escalated to a supervisor")
    COMPLETED = "completed", _("Completed")
    REFUSED = "refused", _("Refused")


OPEN_STATUSES = (RequestStatus.RECEIVED, RequestStatus.BLOCKED, RequestStatus.ESCALATED)


class RightsRequestQuerySet(models.QuerySet):
    def open(self) -> RightsRequestQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def blocking(self) -> RightsRequestQuerySet:
        """Cancellation requests whose person is blocked: hidden from everyone but the
        data-protection role until the erasure (``privacy.rights.blocking``)."""
        return self.filter(right=RightKind.CANCELLATION, status=RequestStatus.BLOCKED)

    def visible_to(self, user) -> RightsRequestQuerySet:
        """The data-protection role (and admins) see the whole register; a supervisor sees
        the requests escalated to them; everyone else nothing."""
        from accounts.roles import ADMIN, DATA_PROTECTION

        if not (user.is_authenticated and user.is_active):
            return self.none()
        if user.has_role(DATA_PROTECTION, ADMIN):
            return self
        return self.filter(escalated_to=user)


class RightsRequest(models.Model):
    """One request by a person (or their representative) to exercise a right over their data:
    who asked and how their identity was checked, which right, when it was received and is
    due, its status, the decision with its reason and who handled it. Handled only through
    ``privacy.rights.services``; at most one open request per person and right."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="rights_requests",
    )
    right = models.CharField(_("right"), max_length=14, choices=RightKind.choices)
    requester = models.CharField(_("requested by"), max_length=14, choices=RequesterKind.choices)
    representative_name = EncryptedCharField(_("representative's name"), max_length=200, blank=True)
    identity_check = EncryptedTextField(
        _("how identity was checked"),
        help_text=_("e.g. passport shown in person; power of attorney checked against the ID."),
    )
    details = EncryptedTextField(_("what is asked"), blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    due_date = models.DateField(_("due date"))
    status = models.CharField(
        _("status"), max_length=10, choices=RequestStatus.choices, default=RequestStatus.RECEIVED
    )
    decision_reason = EncryptedTextField(_("reason for the decision"), blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    escalated_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("escalated to"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalated_rights_requests",
    )
    blocked_until = models.DateTimeField(_("blocked until"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = RightsRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_date", "received_at"]
        verbose_name = _("rights request")
        verbose_name_plural = _("rights requests")
        permissions = [("erase_person", "Can block and erase a person's data")]
        constraints = [
            models.CheckConstraint(
                name="rightsrequest_right_valid", condition=Q(right__in=RightKind.values)
            ),
            models.CheckConstraint(
                name="rightsrequest_requester_valid",
                condition=Q(requester__in=RequesterKind.values),
            ),
            models.CheckConstraint(
                name="rightsrequest_status_valid", condition=Q(status__in=RequestStatus.values)
            ),
            models.CheckConstraint(
                name="rightsrequest_blocked_has_end",
                condition=~Q(status=RequestStatus.BLOCKED) | Q(blocked_until__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["person", "right"],
                condition=Q(status__in=OPEN_STATUSES),
                name="rightsrequest_one_open_per_right",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="rightsrequest_queue_idx")]

    def __str__(self) -> str:
        return f"{self.get_right_display()} {self.person} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class ErasureRecord(models.Model):
    """The auditable tombstone of an erasure (DESIGN.md rule 6): which person (the reference
    stays on the erased ``Person`` row), when, by whom, why (a request or retention) and how
    many rows of each kind were erased. Holds no personal data."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    person = models.OneToOneField(
        "registry.Person",
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        related_name="erasure",
    )
    request = models.ForeignKey(
        RightsRequest,
        verbose_name=_("request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason"), max_length=40)
    erased_at = models.DateTimeField(_("erased at"), default=timezone.now)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("erased by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    counts = models.JSONField(_("rows erased per kind"), default=dict)

    class Meta:
        ordering = ["-erased_at"]
        verbose_name = _("erasure")
        verbose_name_plural = _("erasures")

    def __str__(self) -> str:
        return f"{self.person} {self.erased_at:%Y-%m-%d}"


class RetentionRun(models.Model):
    """One run of the retention purge (or its dry run): the cut-off per data class and how many
    rows each class purged or would purge. The purge itself is logged here (LG-3, DP-4)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dry_run = models.BooleanField(_("dry run"), default=False)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    cutoffs = models.JSONField(_("cut-off per data class"), default=dict, encoder=DjangoJSONEncoder)
    counts = models.JSONField(_("rows per data class"), default=dict)
    skipped = models.JSONField(_("rows kept and why"), default=dict)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")

    def __str__(self) -> str:
        return f"{'dry run' if self.dry_run else 'purge'} {self.started_at:%Y-%m-%d %H:%M}"
