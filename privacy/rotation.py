"""Re-encryption of stored values with the active key (``manage.py rotate_keys``).

Rotation order: put the new key first in ``FIELD_ENCRYPTION_KEYS`` and keep the old ones listed,
deploy, run ``rotate_keys``, then drop the old keys. While it runs both old and new ciphertexts
decrypt, because every listed key decrypts. Each batch is one transaction: if one value in a batch
cannot be decrypted (its key is missing), that batch changes nothing and rotation stops.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import models, transaction
from django.db.models import ExpressionWrapper, F, TextField, Value

from privacy import crypto
from privacy.fields import EncryptedFieldMixin


class RotationError(Exception):
    """A stored value could not be re-encrypted; names the place, never the value."""


@dataclass
class RotationCount:
    """Per model: values seen (non-NULL) and values re-encrypted (or to re-encrypt on a dry run)."""

    label: str
    fields: list[str] = field(default_factory=list)
    values: int = 0
    rotated: int = 0


def encrypted_fields(model: type[models.Model]) -> list[models.Field]:
    """The encrypted columns stored in this model's own table."""
    return [f for f in model._meta.local_concrete_fields if isinstance(f, EncryptedFieldMixin)]


def models_with_encrypted_fields() -> list[type[models.Model]]:
    """Every installed, managed, concrete model that has encrypted columns."""
    return [
        model
        for model in apps.get_models(include_auto_created=True)
        if model._meta.managed and not model._meta.proxy and encrypted_fields(model)
    ]


def _raw_alias(field: models.Field) -> str:
    return f"_raw_{field.attname}"


def _rotate_row(row: dict, fields: list[models.Field], active: str, count: RotationCount) -> dict:
    """New tokens for the values of one row not yet under the active key."""
    updates = {}
    for fld in fields:
        token = row[_raw_alias(fld)]
        if token is None:
            continue
        count.values += 1
        try:
            if crypto.token_key_id(token) != active:
                updates[fld.attname] = Value(
                    crypto.reencrypt(token, fld.associated_data), output_field=TextField()
                )
        except crypto.DecryptionError as exc:
            raise RotationError(f"{count.label}.{fld.name} pk={row['pk']}: {exc}") from exc
    return updates


def _rotate_batch(model, fields, after, batch_size, dry_run, count) -> object | None:
    """Rotate the next ``batch_size`` rows after pk ``after``; returns the last pk or None."""
    raw = {_raw_alias(f): ExpressionWrapper(F(f.attname), output_field=TextField()) for f in fields}
    active = crypto.active_key_id()
    with transaction.atomic():
        queryset = model._base_manager.order_by("pk").select_for_update()
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        rows = list(queryset.annotate(**raw).values("pk", *raw)[:batch_size])
        for row in rows:
            updates = _rotate_row(row, fields, active, count)
            if updates:
                count.rotated += len(updates)
                if not dry_run:
                    model._base_manager.filter(pk=row["pk"]).update(**updates)
    return rows[-1]["pk"] if rows else None


def rotate_model(
    model: type[models.Model], *, batch_size: int = 500, dry_run: bool = False
) -> RotationCount:
    """Re-encrypt every encrypted value of ``model`` with the active key, batch by batch."""
    fields = encrypted_fields(model)
    count = RotationCount(label=model._meta.label, fields=[f.name for f in fields])
    after = None
    while True:
        last = _rotate_batch(model, fields, after, batch_size, dry_run, count)
        if last is None:
            return count
        after = last
