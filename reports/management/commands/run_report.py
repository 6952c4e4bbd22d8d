"""``manage.py run_report KIND --from DATE --to DATE [--format csv,xlsx,pdf,hxl] [--place CODE]``

Runs one report synchronously for operators and prints the run id and its files. Bad input is a
``CommandError`` naming the option; nothing is created. The same report over unchanged data
prints the files of the run already made.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reports import params as report_params
from reports import services
from reports.kinds import KINDS

OPTION_OF = {"kind": "KIND", "date_from": "--from", "date_to": "--to", "places": "--place",
             "formats": "--format", "grouping": "--grouping"}


def _date(option: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option}: {value!r} is not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = "Run one report now and print the run id and its files."

    def add_arguments(self, parser):
        parser.add_argument("kind", help=", ".join(KINDS))
        parser.add_argument("--from", dest="date_from", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument("--format", dest="formats", default="", help="comma-separated: csv,xlsx,pdf,hxl (default: all offered)")
        parser.add_argument("--place", dest="places", action="append", default=[], help="place code (repeatable)")
        parser.add_argument("--grouping", default="place", help="place (default) or all")
        parser.add_argument("--language", default="", help="es or en (default: LANGUAGE_CODE)")

    def handle(self, *args, **options):
        kind = options["kind"]
        if kind not in KINDS:
            raise CommandError(f"KIND: unknown report {kind!r}; choose one of {', '.join(KINDS)}.")
        formats = [f.strip() for f in options["formats"].split(",") if f.strip()] or list(KINDS[kind].formats)
        try:
            params = report_params.validate(
                None, kind, date_from=_date("--from", options["date_from"]), date_to=_date("--to", options["date_to"]),
                places=options["places"], formats=formats, grouping=options["grouping"],
                language=options["language"] or None,
            )
        except ValidationError as exc:
            field, messages = next(iter(exc.message_dict.items()))
            raise CommandError(f"{OPTION_OF.get(field, field)}: {' '.join(messages)}") from None
        run = services.run_now(kind, params)
        self.stdout.write(f"run {run.pk} {run.status}")
        if run.error_message:
            raise CommandError(f"report failed: {run.error_message}")
        for report_file in run.files.order_by("format"):
            self.stdout.write(f"{report_file.format}\t{report_file.size}\t{report_file.storage_name}")
