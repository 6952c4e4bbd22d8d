"""``manage.py demo_logins``: the demo users and their shared password (demo mode only)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.demo import DEMO_PASSWORD, demo_logins


class Command(BaseCommand):
    help = "Print the demo usernames, their roles and the demo password (DEMO_MODE only)."

    def handle(self, *args, **options) -> None:
        if not getattr(settings, "DEMO_MODE", False):
            raise CommandError(_("Demo logins are only shown when DEMO_MODE is on."))
        logins = demo_logins()
        if not logins:
            raise CommandError(_("No demo users yet: run `manage.py seed_demo` first."))
        self.stdout.write(_("Demo users (synthetic data only):"))
        for username, role in logins:
            self.stdout.write(f"  {username:<12} {role}")
        self.stdout.write(_("Password for all of them: %(password)s") % {"password": DEMO_PASSWORD})
