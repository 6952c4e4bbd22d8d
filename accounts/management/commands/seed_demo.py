"""``manage.py seed_demo``: synthetic demo data, every registered step, idempotent."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.demo import seed_steps


class Command(BaseCommand):
    help = "Load synthetic demo data (demo mode only). Running it twice changes nothing."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--force", action="store_true", help="Run even when DEMO_MODE is off.")

    def handle(self, *args, force: bool = False, **options) -> None:
        if not (getattr(settings, "DEMO_MODE", False) or force):
            raise CommandError(_("Refusing to load demo data: DEMO_MODE is off (use --force to override)."))
        with transaction.atomic():
            for step in seed_steps():
                summary = step()
                self.stdout.write(f"{step.__module__}.{step.__name__}: {summary or 'ok'}")
        self.stdout.write(self.style.SUCCESS(_("Demo data ready.")))
