"""API-side records: partners' webhook endpoints and stored idempotent responses."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from privacy.fields import EncryptedCharField


class WebhookEndpoint(models.Model):
    """Where an agency with the ``webhooks`` scope receives signed events (Standard Webhooks).

    The secret (``whsec_<base64>``) is generated here, shown once, and stored encrypted. Only
    https URLs are accepted (``API_WEBHOOK_ALLOW_LOCAL_HTTP`` also allows http://127.0.0.1 in
    development and tests). ``version`` backs the ETag of the API's endpoint resource.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    agreement = models.OneToOneField(
        "accounts.DataSharingAgreement", on_delete=models.PROTECT, related_name="webhook_endpoint"
    )
    url = models.URLField(_("URL"), max_length=500)
    secret = EncryptedCharField(_("signing secret"), max_length=100)
    is_active = models.BooleanField(_("active"), default=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.agreement} -> {self.url}"


class IdempotencyRecord(models.Model):
    """The first response to an ``Idempotency-Key`` of one agency, replayed for retries.

    The key is stored hashed (SHA-256), the body as the JSON that was sent (ids and
    pseudonyms, no names); ``fingerprint`` is the SHA-256 of the request that produced it.
    """

    id = models.BigAutoField(primary_key=True)
    agency = models.ForeignKey("accounts.Agency", on_delete=models.PROTECT, related_name="+")
    key_hash = models.CharField(max_length=64)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("idempotent response")
        verbose_name_plural = _("idempotent responses")
        constraints = [models.UniqueConstraint(fields=["agency", "key_hash"], name="idempotency_key_unique_per_agency")]

    def __str__(self) -> str:
        return f"{self.agency_id} {self.key_hash[:12]} -> {self.status_code}"
