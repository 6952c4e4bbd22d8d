"""``manage.py rotate_keys``: re-encrypt every encrypted field with the active key."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from privacy import crypto, rotation


class Command(BaseCommand):
    help = "Re-encrypt every encrypted field of every model with the active key (first in FIELD_ENCRYPTION_KEYS)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=500, help="Rows per transaction (default 500)."
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )

    def handle(self, *args, batch_size: int, dry_run: bool, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
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
