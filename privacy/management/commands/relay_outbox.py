"""``manage.py relay_outbox``: publish pending outbox messages now (cron or by hand)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from privacy import outbox
from privacy.models import OutboxMessage


class Command(BaseCommand):
    help = "Publish pending outbox messages to the Celery broker (what the beat task does every few seconds)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch-size", type=int, default=100, help="Messages per transaction (default 100)."
        )

    def handle(self, *args, batch_size: int, **options):
        published = outbox.relay(batch_size=max(1, batch_size))
        pending = OutboxMessage.objects.filter(published_at__isnull=True).count()
        self.stdout.write(f"Published {published} message(s); {pending} still pending.")
        if pending and not published:
            self.stderr.write(
                "Nothing could be published: is the broker reachable? See last_error on the pending rows."
            )
