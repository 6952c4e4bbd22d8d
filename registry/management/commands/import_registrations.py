"""manage.py import_registrations FILE [--dry-run] [--place CODE] [--agency CODE] [--as USERNAME]
[--resume] [--batch-size N] [--legal-basis B] [--encoding E] — see docs/import.md."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from registry.resolution.importer.runner import ImportOptions, run_import


class Command(BaseCommand):
    help = "Import registrations from a CSV (UTF-8) or XLSX file through the registry services."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true", help="Validate and match everything, write nothing.")
        parser.add_argument("--place", default="", help="Place code for rows without place_code.")
        parser.add_argument("--agency", default="", help="Agency code; must be the acting user's agency.")
        parser.add_argument("--as", dest="username", required=True, help="The acting user (supervisor or admin).")
        parser.add_argument("--resume", action="store_true", help="Continue an unfinished import of the same file.")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--legal-basis", default="", help="Legal basis for rows without legal_basis.")
        parser.add_argument("--encoding", default="", choices=["", "utf-8", "cp1252", "latin-1"])

    def handle(self, *args, **options):
        actor = get_user_model().objects.filter(username=options["username"], is_active=True).first()
        if actor is None:
            raise CommandError("Unknown or inactive user.")
        if options["agency"] and (actor.agency is None or actor.agency.code != options["agency"]):
            raise CommandError("--agency must be the acting user's agency.")
        if not actor.has_perm("registry.add_registration"):
            raise CommandError("The acting user may not register people.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError("No such file.")
        claimed = path.suffix.lower().lstrip(".")
        try:
            result = run_import(path, ImportOptions(
                actor=actor, place_code=options["place"], legal_basis=options["legal_basis"],
                dry_run=options["dry_run"], resume=options["resume"], batch_size=max(1, options["batch_size"]),
                encoding=options["encoding"], claimed_format=claimed if claimed in ("csv", "xlsx") else "",
            ))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self._print(result, options["dry_run"])

    def _print(self, result, dry_run: bool) -> None:
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if result.already_done:
            self.stdout.write(f"Already imported (job {result.job.pk}); nothing to do.")
            return
        counts = result.counts
        prefix = "Dry run (nothing written): " if dry_run else ""
        self.stdout.write(
            f"{prefix}imported={counts['imported']} failed={counts['failed']} duplicates={counts['duplicates']} "
            f"skipped={counts['skipped']}"
        )
        if result.job is not None and result.job.report_name:
            self.stdout.write(f"job={result.job.pk} report={result.job.report_name}")
