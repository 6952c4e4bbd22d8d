"""AU-4 and bad input 23: hashed secrets and tokens, header-only tokens, scopes, expiry,
revocation, IP allow-lists."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from accounts.models import PartnerClient
from tests.api.conftest import bearer, create_client, make_agreement, request_token

pytestmark = pytest.mark.django_db


def _rows_containing(value: str) -> int:
    """Rows of the OAuth tables whose text contains ``value`` (plaintext secret or token)."""
    total = 0
    with connection.cursor() as cursor:
        for table, columns in (("oauth2_provider_application", ["client_secret", "client_id"]),
                               ("oauth2_provider_accesstoken", ["token", "token_checksum"])):
            where = " OR ".join(f"{c} LIKE %s" for c in columns)
            cursor.execute(f"SELECT count(*) FROM {table} WHERE {where}", [f"%{value}%"] * len(columns))  # noqa: S608
            total += cursor.fetchone()[0]
    return total


def test_no_plaintext_secret_or_token_in_the_database(partner, gov, place_a):
    api = partner(make_agreement(gov, ["places:read"], [place_a]))
    assert _rows_containing(api.secret) == 0
    assert _rows_containing(api.token) == 0
    assert AccessToken.objects.get().token == ""  # RFC 9700 storage: checksum only
    assert api.get("/api/v1/places/").status_code == 200


def test_token_in_query_string_is_refused(partner, gov, place_a):
    api = partner(make_agreement(gov, ["places:read"], [place_a]))
    from rest_framework.test import APIClient

    assert APIClient().get(f"/api/v1/places/?access_token={api.token}").status_code == 401
    assert api.get(f"/api/v1/places/?access_token={api.token}").status_code == 401


def test_token_scopes_are_a_subset_of_the_agreement(gov, place_a):
    agreement = make_agreement(gov, ["places:read", "stats:read"], [place_a])
    client_id, secret = create_client(agreement)
    assert request_token(client_id, secret, "persons:read:identified").status_code == 400
    narrow = request_token(client_id, secret, "places:read")
    assert narrow.json()["scope"] == "places:read"
    api = bearer(narrow.json()["access_token"])
    assert api.get("/api/v1/places/").status_code == 200
    assert api.get("/api/v1/statistics/").status_code == 403


def test_command_refuses_scopes_outside_agreement(gov, place_a):
    from django.core.management import CommandError

    agreement = make_agreement(gov, ["places:read"], [place_a])
    with pytest.raises(CommandError):
        create_client(agreement, ["events:write"])


def test_client_scopes_narrow_its_tokens_at_once(gov, place_a):
    """--scopes binds the client: its tokens carry only those, and narrowing the client later
    bites on the next request even for a token already issued."""
    agreement = make_agreement(gov, ["places:read", "stats:read"], [place_a])
    client_id, secret = create_client(agreement, ["places:read", "stats:read"])
    client = PartnerClient.objects.get(application__client_id=client_id)
    assert client.scopes == ["places:read", "stats:read"]
    api = bearer(request_token(client_id, secret).json()["access_token"])
    assert api.get("/api/v1/statistics/").status_code == 200
    client.scopes = ["places:read"]
    client.save()
    assert api.get("/api/v1/statistics/").status_code == 403
    assert api.get("/api/v1/places/").status_code == 200
    assert request_token(client_id, secret, "stats:read").status_code == 400
    assert request_token(client_id, secret).json()["scope"] == "places:read"


def test_command_finds_the_only_agreement_in_force(gov, place_a):
    import io

    from django.core.management import CommandError, call_command

    make_agreement(gov, ["places:read"], [place_a], status="suspended")
    agreement = make_agreement(gov, ["places:read", "stats:read"], [place_a])
    out = io.StringIO()
    call_command("create_partner_client", "--agency", gov.code, "--scopes", "places:read", stdout=out)
    printed = dict(line.split("=", 1) for line in out.getvalue().splitlines() if "=" in line)
    assert printed["agreement"] == agreement.reference and printed["scopes"] == "places:read"
    assert PartnerClient.objects.get(application__client_id=printed["client_id"]).agreement == agreement
    make_agreement(gov, ["places:read"], [place_a])
    with pytest.raises(CommandError):
        call_command("create_partner_client", "--agency", gov.code, "--scopes", "places:read", stdout=io.StringIO())


def test_revoked_or_expired_client_is_refused(partner, gov, place_a):
    api = partner(make_agreement(gov, ["places:read"], [place_a]))
    client = PartnerClient.objects.get(application__client_id=api.client_id)
    client.revoked_at = timezone.now()
    client.save()
    assert api.get("/api/v1/places/").status_code == 401
    assert request_token(api.client_id, api.secret).status_code == 401
    client.revoked_at, client.expires_at = None, timezone.now() - dt.timedelta(seconds=1)
    client.save()
    assert api.get("/api/v1/places/").status_code == 401


def test_expired_token_is_refused(partner, gov, place_a):
    api = partner(make_agreement(gov, ["places:read"], [place_a]))
    AccessToken.objects.update(expires=timezone.now() - dt.timedelta(seconds=1))
    assert api.get("/api/v1/places/").status_code == 401


def test_wrong_secret_gets_no_token(gov, place_a):
    client_id, _secret = create_client(make_agreement(gov, ["places:read"], [place_a]))
    assert request_token(client_id, "wrong").status_code == 401
    assert Application.objects.get(client_id=client_id).client_secret.startswith("md5$")  # hashed (test hasher)


def test_ip_allow_list(partner, gov, place_a):
    api = partner(make_agreement(gov, ["places:read"], [place_a]), allowed_ips=["127.0.0.0/8"])
    assert api.get("/api/v1/places/").status_code == 200
    assert api.get("/api/v1/places/", REMOTE_ADDR="203.0.113.9").status_code == 401
    assert request_token(api.client_id, api.secret, remote_addr="203.0.113.9").status_code == 401


def test_token_lifetime_is_one_hour(partner, gov, place_a):
    partner(make_agreement(gov, ["places:read"], [place_a]))
    remaining = AccessToken.objects.get().expires - timezone.now()
    assert dt.timedelta(minutes=55) < remaining <= dt.timedelta(hours=1)


def test_rate_limit_per_agency(partner, gov, place_a, monkeypatch):
    from api.throttling import AgencyRateThrottle

    monkeypatch.setitem(AgencyRateThrottle.THROTTLE_RATES, "agency", "2/min")
    agreement = make_agreement(gov, ["places:read"], [place_a])
    first, second = partner(agreement), partner(agreement)  # two clients, one agency bucket
    assert first.get("/api/v1/places/").status_code == 200
    assert second.get("/api/v1/places/").status_code == 200
    limited = first.get("/api/v1/places/")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


def test_token_endpoint_is_rate_limited_per_address(gov, place_a, settings):
    """AU-2: guessing client secrets is slowed per address (config.ratelimits, django-ratelimit)."""
    from django.core.cache import cache

    cache.clear()
    settings.OAUTH_TOKEN_RATE = "2/m"
    client_id, secret = create_client(make_agreement(gov, ["places:read"], [place_a]))
    assert request_token(client_id, "wrong-secret", remote_addr="198.51.100.7").status_code == 401
    assert request_token(client_id, secret, remote_addr="198.51.100.7").status_code == 200
    limited = request_token(client_id, secret, remote_addr="198.51.100.7")
    assert limited.status_code == 429 and limited.json()["error"] == "slow_down"
    assert int(limited["Retry-After"]) > 0
    assert request_token(client_id, secret, remote_addr="198.51.100.8").status_code == 200  # another address
