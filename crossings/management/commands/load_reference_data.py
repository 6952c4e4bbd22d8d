"""``manage.py load_reference_data``: the official crossings, informal points, rail points and shelters."""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crossings.loader import REFERENCE_FILE, load_reference_places


class Command(BaseCommand):
    help = "Load or refresh the reference places (idempotent: matched by code)."

    def add_arguments(self, parser):
        parser.add_argument("--file", type=Path, default=REFERENCE_FILE, help="Reference JSON file.")

    def handle(self, *args, **options):
        try:
            result = load_reference_places(options["file"])
        except (ValidationError, OSError, ValueError, KeyError) as exc:
            raise CommandError(f"Reference data not loaded: {exc}") from exc
        for code in result.updated:
            self.stdout.write(f"updated {code}")
        self.stdout.write(
            self.style.SUCCESS(
                f"places: {len(result.created)} created, {len(result.updated)} updated, "
                f"{len(result.unchanged)} unchanged"
            )
        )
