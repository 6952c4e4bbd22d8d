"""Create an OAuth2 client (client credentials) for a partner agency under one agreement.

    python manage.py create_partner_client --agency unhcr-mx --scopes "places:read persons:read:pseudonymous" \\
        [--agreement unhcr-2026] [--allowed-ip 203.0.113.0/24] [--days 365]

``--agreement`` may be left out when the agency has exactly one agreement in force. The client's
tokens may carry only the scopes given here (a subset of the agreement's). Prints the client id
and the client secret ONCE: only a hash of the secret is stored.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
import uuid

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import Application

from accounts.models import Agency, DataSharingAgreement, PartnerClient, User


class Command(BaseCommand):
    help = "Create a partner API client bound to a data-sharing agreement; prints the secret once."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--agency", required=True, help="Agency code.")
        parser.add_argument(
            "--agreement", default="", help="Agreement reference or UUID (default: the agency's only agreement in force)."
        )
        parser.add_argument("--scopes", required=True, help="Space-separated scopes (a subset of the agreement's).")
        parser.add_argument("--allowed-ip", action="append", default=[], help="An allowed IP network (repeatable).")
        parser.add_argument("--days", type=int, default=365, help="Client lifetime in days (default 365).")

    def handle(self, *args, **options) -> None:
        agency = Agency.objects.filter(code=options["agency"], is_active=True).first()
        if agency is None:
            raise CommandError("Unknown or inactive agency.")
        agreement = self._agreement(agency, options["agreement"])
        scopes = options["scopes"].split()
        extra = sorted(set(scopes) - set(agreement.scopes))
        if not scopes or extra:
            raise CommandError(f"Scopes not granted by the agreement: {', '.join(extra) or '(none given)'}")
        if len(set(scopes)) != len(scopes):
            raise CommandError("A scope is repeated.")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        networks = [self._network(value) for value in options["allowed_ip"]]
        client_id, secret = self._create(agency, agreement, scopes, networks, options["days"])
        self.stdout.write(f"client_id={client_id}")
        self.stdout.write(f"client_secret={secret}")
        self.stdout.write("Store the secret now: it is not shown again (only its hash is kept).")
        self.stdout.write(f"agreement={agreement.reference}")
        self.stdout.write(f"scopes={' '.join(scopes)}")

    @staticmethod
    def _agreement(agency: Agency, ref: str) -> DataSharingAgreement:
        if not ref:
            in_force = list(DataSharingAgreement.objects.in_force().filter(agency=agency)[:2])
            if len(in_force) != 1:
                raise CommandError("Name the agreement with --agreement (the agency has none or several in force).")
            return in_force[0]
        lookup = {"pk": ref} if _is_uuid(ref) else {"reference": ref}
        agreement = DataSharingAgreement.objects.filter(agency=agency, **lookup).first()
        if agreement is None:
            raise CommandError("No such agreement for this agency.")
        if not agreement.is_in_force():
            raise CommandError("The agreement is not in force (status or period).")
        return agreement

    @staticmethod
    def _network(value: str) -> str:
        try:
            return str(ipaddress.ip_network(value, strict=False))
        except ValueError as exc:
            raise CommandError(f"Not an IP network: {value}") from exc

    @staticmethod
    @transaction.atomic
    def _create(
        agency: Agency, agreement: DataSharingAgreement, scopes: list[str], networks: list[str], days: int
    ) -> tuple[str, str]:
        secret = secrets.token_urlsafe(40)
        suffix = secrets.token_hex(4)
        user = User.objects.create(
            username=f"api-{agency.code}-{suffix}"[:150], agency=agency, password=make_password(None),
            first_name="API", last_name=agency.code,
        )
        application = Application.objects.create(
            name=f"{agreement.reference} {suffix}", client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS, client_secret=secret,
            hash_client_secret=True, user=None, skip_authorization=False,
        )
        PartnerClient.objects.create(
            application=application, agreement=agreement, service_user=user, scopes=scopes, allowed_ips=networks,
            expires_at=timezone.now() + dt.timedelta(days=days),
        )
        return application.client_id, secret


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
