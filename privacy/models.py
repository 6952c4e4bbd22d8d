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
