"""Re-encryption of stored values with the active key (``manage.py rotate_keys``).

Rotation order: put the new key first in ``FIELD_ENCRYPTION_KEYS`` and keep the old ones listed,
deploy, run ``rotate_keys``, then drop the old keys. While it runs both old and new ciphertexts
decrypt, because every listed key decrypts. Each batch is one transaction: if one value in a batch
cannot be decrypted (its key is missing), that batch changes nothing and rotation stops.

History tables are append-only on PostgreSQL (privacy migration 0005, SECURITY.md LG-3). Their
batches run inside ``rotation_path()``, which sets ``frontera.rotation`` for the transaction; the
trigger then lets an UPDATE through only when nothing but the encrypted columns changes. Batches
of tables with history run inside it too: their history trigger (SECURITY.md LG-2) records no row
for an UPDATE that changes nothing but encrypted and blind-index columns.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection, models, transaction
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


ROTATION_SETTING = "frontera.rotation"


@contextmanager
def rotation_path() -> Iterator[None]:
    """Let this transaction re-encrypt history rows (must be inside ``atomic``; PostgreSQL only)."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "rotation_path() must run inside transaction.atomic()"
        )
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'on', true)", [ROTATION_SETTING])
    yield  # on an error the transaction rolls back, and the setting with it
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'off', true)", [ROTATION_SETTING])


def is_history_model(model: type[models.Model]) -> bool:
    """A django-simple-history table (append-only on PostgreSQL)."""
    from simple_history.models import HistoricalChanges

    return issubclass(model, HistoricalChanges)


def has_history(model: type[models.Model]) -> bool:
    """A table whose writes the history triggers record (SECURITY.md LG-2)."""
    return getattr(getattr(model, "history", None), "model", None) is not None


def _guard(model: type[models.Model]):
    """``rotation_path`` for an append-only history table and for a table with history (whose
    trigger then records no re-encryption: same values, new key); a no-op for the rest."""
    return rotation_path() if is_history_model(model) or has_history(model) else nullcontext()


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
    with transaction.atomic(), _guard(model):
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


# --- Blind indexes (BLIND_INDEX_KEY rotation) -------------------------------------------------
#
# Order: set BLIND_INDEX_KEY to the new key and BLIND_INDEX_KEY_PREVIOUS to the old one, deploy
# (writes use the new key; lookups try both), run ``rotate_keys --blind-index``, then remove
# BLIND_INDEX_KEY_PREVIOUS. Every stored index is re-derived from the decrypted plaintext: the name
# terms and blocking keys of each person that has them, and both indexes of every identity document
# (live rows; see below for history rows). Each batch is one transaction with its rows locked; a value
# that cannot be decrypted stops the run with that batch unchanged. Rows already under the new key
# derive to what is stored and are left alone, so a rerun resumes where a stopped run ended and a
# second complete run changes nothing.


@dataclass
class IndexCount:
    """Per kind of stored index: rows examined and rows whose indexes were (or would be) rewritten."""

    label: str
    rows: int = 0
    rederived: int = 0


def _replace_set(model, person_id, column: str, stored: set[str], wanted: set[str]) -> None:
    model.objects.filter(person_id=person_id, **{f"{column}__in": stored - wanted}).delete()
    model.objects.bulk_create(
        [model(person_id=person_id, **{column: value}) for value in sorted(wanted - stored)],
        ignore_conflicts=True,
    )


def _load(model, ids: list, label: str) -> list:
    """The rows of ``ids`` (already locked), decrypted; a row that cannot be decrypted is named."""
    try:
        return list(model._base_manager.filter(pk__in=ids).order_by("pk"))
    except crypto.DecryptionError:
        for pk in ids:  # find which row, so the error names it
            try:
                model._base_manager.get(pk=pk)
            except crypto.DecryptionError as exc:
                raise RotationError(f"{label} pk={pk}: {exc}") from exc
        raise


def _person_batch(after, batch_size, dry_run, names: IndexCount, blocks: IndexCount):
    from privacy.blind_index import name_index_terms
    from registry.models import Person, PersonBlockingKey, PersonNameTerm
    from registry.resolution import blocking
    from registry.resolution.identity import from_person

    with transaction.atomic():
        queryset = Person._base_manager.order_by("pk").select_for_update()
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        ids = list(queryset.values_list("pk", flat=True)[:batch_size])
        people = _load(Person, ids, "registry.Person")
        stored_terms: dict = {}
        for pid, term in PersonNameTerm.objects.filter(person_id__in=ids).values_list(
            "person_id", "term"
        ):
            stored_terms.setdefault(pid, set()).add(term)
        stored_keys: dict = {}
        for pid, key in PersonBlockingKey.objects.filter(person_id__in=ids).values_list(
            "person_id", "key"
        ):
            stored_keys.setdefault(pid, set()).add(key)
        for person in people:
            if person.pk in stored_terms:
                names.rows += 1
                wanted = name_index_terms(
                    person.given_names, person.first_surname, person.second_surname, *person.aliases
                )
                if wanted != stored_terms[person.pk]:
                    names.rederived += 1
                    if not dry_run:
                        _replace_set(
                            PersonNameTerm, person.pk, "term", stored_terms[person.pk], wanted
                        )
            if person.pk in stored_keys:
                blocks.rows += 1
                identity = from_person(person)
                if blocking.stored_keys(identity) != stored_keys[person.pk]:
                    blocks.rederived += 1
                    if not dry_run:  # the one writer of key rows (they carry the birth too)
                        blocking.reindex(person, identity)
    return (ids[-1] if ids else None), len(ids)


def _document_batch(model, after, batch_size, dry_run, count: IndexCount):
    from privacy.blind_index import document_index
    from registry.matching import document_search_index

    with transaction.atomic(), _guard(model):
        queryset = model._base_manager.order_by("pk").select_for_update()
        if after is not None:
            queryset = queryset.filter(pk__gt=after)
        rows = _load(model, list(queryset.values_list("pk", flat=True)[:batch_size]), count.label)
        for row in rows:
            count.rows += 1
            number = row.number
            if not number:
                continue
            wanted = {
                "number_bidx": document_index(row.kind, str(row.issuing_country), number),
                "number_search_bidx": document_search_index(number),
            }
            if all(getattr(row, name) == value for name, value in wanted.items()):
                continue
            count.rederived += 1
            if not dry_run:
                model._base_manager.filter(pk=row.pk).update(**wanted)
    return rows[-1].pk if rows else None


def _run(step, label, batch_size, progress) -> None:
    after, done = None, 0
    while True:
        last, size = step(after)
        if last is None:
            return
        after, done = last, done + size
        if progress:
            progress(f"{label}: {done} rows examined (last pk {last})")


def rederive_blind_indexes(
    *, batch_size: int = 500, dry_run: bool = False, progress=None
) -> list[IndexCount]:
    """Re-derive every stored blind index with the current ``BLIND_INDEX_KEY``, batch by batch."""
    from registry.models import IdentityDocument

    names = IndexCount("registry.PersonNameTerm")
    blocks = IndexCount("registry.PersonBlockingKey")
    counts = [names, blocks]

    def people(after):
        return _person_batch(after, batch_size, dry_run, names, blocks)

    _run(people, "registry.Person", batch_size, progress)
    # History rows (HistoricalIdentityDocument) keep the indexes they were written with: they are
    # never looked up, and the append-only trigger (privacy migration 0005) lets the rotation path
    # change only encrypted columns. Re-deriving them needs that trigger to list the index columns.
    for model in (IdentityDocument,):
        count = IndexCount(model._meta.label)
        counts.append(count)

        def documents(after, model=model, count=count):
            before = count.rows
            return _document_batch(model, after, batch_size, dry_run, count), count.rows - before

        _run(documents, model._meta.label, batch_size, progress)
    return counts
