"""``manage.py rotate_keys``: re-encrypt every encrypted field with the active key; with
``--blind-index``, re-derive every stored blind index with the current ``BLIND_INDEX_KEY``."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from privacy import crypto, rotation


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted field of every model with the active key (first in "
        "FIELD_ENCRYPTION_KEYS); with --blind-index, re-derive every stored blind index with "
        "BLIND_INDEX_KEY instead."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )
        parser.add_argument(
            "--blind-index",
            action="store_true",
            help="Re-derive name terms, blocking keys and document indexes with BLIND_INDEX_KEY "
            "(after a BLIND_INDEX_KEY change; BLIND_INDEX_KEY_PREVIOUS keeps lookups working meanwhile).",
        )

    def handle(self, *args, batch_size: int, dry_run: bool, blind_index: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if blind_index:
            self._blind_indexes(batch_size, dry_run)
        else:
            self._fields(batch_size, dry_run)

    def _fields(self, batch_size: int, dry_run: bool) -> None:
        active = crypto.active_key_id()
        verb = "would re-encrypt" if dry_run else "re-encrypted"
        total = 0
        for model in rotation.models_with_encrypted_fields():
            try:
                count = rotation.rotate_model(model, batch_size=batch_size, dry_run=dry_run)
            except rotation.RotationError as exc:
                raise CommandError(
                    f"Rotation stopped: {exc}. That batch was left unchanged; earlier batches are "
                    "already under the active key. Add the missing key to FIELD_ENCRYPTION_KEYS and rerun."
                ) from exc
            total += count.rotated
            self.stdout.write(
                f"{count.label} ({', '.join(count.fields)}): {verb} {count.rotated} of {count.values} values"
            )
        self.stdout.write(
            self.style.SUCCESS(f"Active key {active}: {verb} {total} values in total.")
        )

    def _blind_indexes(self, batch_size: int, dry_run: bool) -> None:
        if not getattr(settings, "BLIND_INDEX_KEY", None):
            raise CommandError("Set the BLIND_INDEX_KEY environment variable (the new key).")
        if not getattr(settings, "BLIND_INDEX_KEY_PREVIOUS", None):
            self.stderr.write(
                "BLIND_INDEX_KEY_PREVIOUS is not set: until this run ends, lookups do not find "
                "rows still indexed under the previous key."
            )
        verb = "would re-derive" if dry_run else "re-derived"
        try:
            counts = rotation.rederive_blind_indexes(
                batch_size=batch_size, dry_run=dry_run, progress=self.stdout.write
            )
        except rotation.RotationError as exc:
            raise CommandError(
                f"Blind-index rotation stopped: {exc}. That batch was left unchanged; earlier "
                "batches are already under BLIND_INDEX_KEY. Add the missing key to "
                "FIELD_ENCRYPTION_KEYS and rerun (finished rows are skipped)."
            ) from exc
        for count in counts:
            self.stdout.write(f"{count.label}: {verb} {count.rederived} of {count.rows} rows")
        total = sum(c.rederived for c in counts)
        done = (
            "Nothing written (dry run)."
            if dry_run
            else (
                "Every stored index is under BLIND_INDEX_KEY; BLIND_INDEX_KEY_PREVIOUS can be removed."
            )
        )
        self.stdout.write(
            self.style.SUCCESS(f"Blind indexes: {verb} {total} rows in total. {done}")
        )
