"""``manage.py retention_purge [--dry-run]``: the daily retention purge by hand."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy import retention


class Command(BaseCommand):
    help = "Purge every data class past its retention period (RETENTION_* settings); --dry-run only counts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be purged; change nothing."
        )

    def handle(self, *args, dry_run: bool = False, **options):
        run = retention.purge(dry_run=dry_run)
        label = "would purge" if dry_run else "purged"
        for name, count in sorted(run.counts.items()):
            self.stdout.write(f"{name}: {label} {count}")
        for name, count in sorted(run.skipped.items()):
            self.stdout.write(f"{name}: kept {count} (open protection referral or refusal)")
