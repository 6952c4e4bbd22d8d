"""Verify a card token offline: only the public key is needed, no database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from transit import cards
from transit.verify import CardCheck, check_offline


class Command(BaseCommand):
    help = "Verify a visitor-card QR token offline (signature and validity dates)."
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("token", help="the text of the QR code (FC1....)")
        parser.add_argument("--public-key", help="PEM file from export_card_public_key (default: the configured key)")

    def handle(self, *args, **options):
        key = None
        if options["public_key"]:
            try:
                key = cards.load_public_key_pem(Path(options["public_key"]).read_bytes())
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read the public key: {exc}") from exc
        result = check_offline(options["token"], key)
        self.stdout.write(result.outcome)
        if result.claims:
            c = result.claims
            self.stdout.write(f"kind={c.kind} number={c.number} reference={c.reference} valid={c.valid_from}..{c.valid_until}")
        if result.outcome != CardCheck.VALID:
            raise SystemExit(1)
