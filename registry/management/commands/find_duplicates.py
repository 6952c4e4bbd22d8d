"""manage.py find_duplicates [--since DATE] [--output pairs.csv] [--threshold P]: candidate
pairs by person reference, with score and reason codes (for analysts and the evaluation)."""

from __future__ import annotations

import csv
import datetime as dt
import sys

from django.core.management.base import BaseCommand, CommandError

from privacy.cells import safe_cell
from registry.models import Person
from registry.resolution import engine
from registry.vocabulary import PersonStatus


class Command(BaseCommand):
    help = "Write candidate duplicate pairs (reference_a, reference_b, score, reasons) as CSV."

    def add_arguments(self, parser):
        parser.add_argument("--since", default="", help="Only people changed on or after this date (YYYY-MM-DD).")
        parser.add_argument("--output", default="-", help="CSV file (default: standard output).")
        parser.add_argument("--threshold", type=float, default=None, help="Minimum score (default: possible).")

    def handle(self, *args, **options):
        people = Person.objects.filter(status=PersonStatus.ACTIVE).order_by("pk")
        if options["since"]:
            try:
                people = people.filter(modified_at__date__gte=dt.date.fromisoformat(options["since"]))
            except ValueError:
                raise CommandError("--since must be YYYY-MM-DD.") from None
        pairs = self._pairs(people, options["threshold"])
        handle = sys.stdout if options["output"] == "-" else open(options["output"], "w", encoding="utf-8", newline="")  # noqa: SIM115
        try:
            writer = csv.writer(handle)
            writer.writerow(["reference_a", "reference_b", "score", "reasons"])
            for (a, b), (score, codes) in sorted(pairs.items(), key=lambda item: -item[1][0]):
                writer.writerow([safe_cell(a), safe_cell(b), f"{score:.4f}", " ".join(codes)])
        finally:
            if handle is not sys.stdout:
                handle.close()
        self.stderr.write(f"{len(pairs)} pairs")

    def _pairs(self, people, threshold) -> dict:
        pairs: dict = {}
        for person in people.iterator(chunk_size=500):
            for match in engine.load_people(engine.candidates_for_person(person, threshold=threshold)):
                key = tuple(sorted([person.reference, match.person.reference]))
                pairs[key] = (match.score, match.codes)
        return pairs
