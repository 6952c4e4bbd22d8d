"""Print the public key that verifies card tokens (PEM), for offline checkpoints."""

from django.core.management.base import BaseCommand

from transit import cards


class Command(BaseCommand):
    help = "Print the Ed25519 public key (PEM) that verifies visitor-card QR tokens."

    def handle(self, *args, **options):
        self.stdout.write(cards.public_key_pem(), ending="")
