"""Permits and their signed QR tokens: issuance rules, verification, the public page."""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.transit.conftest import make_person
from transit import cards, services
from transit.models import Permit
from transit.verify import CardCheck, check_offline, check_online

pytestmark = pytest.mark.django_db


@pytest.fixture
def tvr(supervisor, person):
    return services.issue_permit(supervisor, person, kind="tvr")


def _token(permit) -> str:
    claims = cards.CardClaims(permit.person.reference, permit.number, permit.kind, permit.valid_from, permit.valid_until)
    return cards.sign(claims)


def test_tvr_defaults_come_from_the_rule_table(tvr):
    assert tvr.allowed_states == sorted(["MX-CHP", "MX-TAB", "MX-CAM", "MX-ROO"])
    assert tvr.number.startswith("TVR-")
    assert tvr.history.get().history_change_reason == "issued"


def test_tvr_is_refused_to_a_honduran(supervisor, crossing):
    honduran = make_person(supervisor, crossing, nationality="HN")
    with pytest.raises(ValidationError) as exc:
        services.issue_permit(supervisor, honduran, kind="tvr")
    assert "kind" in exc.value.message_dict
    assert services.issue_permit(supervisor, honduran, kind="tvrh").kind == "tvrh"


def test_tvtf_longer_than_a_year_is_refused(supervisor, person):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as exc:
        services.issue_permit(supervisor, person, kind="tvtf", valid_from=today, valid_until=today + dt.timedelta(days=400))
    assert "valid_until" in exc.value.message_dict


def test_states_outside_the_kind_are_refused(supervisor, person):
    with pytest.raises(ValidationError) as exc:
        services.issue_permit(supervisor, person, kind="tvr", allowed_states=["MX-CMX"])
    assert "allowed_states" in exc.value.message_dict


def test_registrar_may_not_issue(registrar, person):
    with pytest.raises(PermissionDenied):
        services.issue_permit(registrar, person, kind="tvr")


def test_second_active_card_of_a_kind_is_refused(supervisor, person, tvr):
    with pytest.raises(ValidationError):
        services.issue_permit(supervisor, person, kind="tvr")


def test_revocation_needs_a_reason_and_is_final(supervisor, tvr):
    with pytest.raises(ValidationError) as exc:
        services.revoke_permit(supervisor, tvr, reason="  ")
    assert "reason" in exc.value.message_dict
    revoked = services.revoke_permit(supervisor, tvr, reason="Documento alterado")
    assert revoked.status == "revoked" and revoked.status_reason == "Documento alterado"
    assert revoked.history.first().history_user == supervisor
    with pytest.raises(ValidationError):
        services.change_permit_status(supervisor, revoked, "active", reason="oops")


# --- tokens ---------------------------------------------------------------------------------


def test_token_carries_no_name(tvr):
    token = _token(tvr)
    payload = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert set(payload) == {"r", "n", "k", "f", "u"}
    assert "Ana" not in token and "López" not in json.dumps(payload, ensure_ascii=False)
    assert len(token) < 250


def test_valid_token(tvr):
    result = check_online(_token(tvr))
    assert result.outcome == CardCheck.VALID and result.claims.number == tvr.number


def _tampered(token: str) -> str:
    version, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["u"] = "2099-12-31"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{version}.{forged}.{signature}"


def _resigned(permit) -> str:
    claims = cards.CardClaims(permit.person.reference, permit.number, permit.kind, permit.valid_from, permit.valid_until)
    return cards.sign(claims, key=Ed25519PrivateKey.generate())


GARBAGE = ["", "x", "FC1.", "FC1..", "FC1.a.b", "FC2.abc.def", "FC1.!!!.???", "FC1." + "A" * 500,
           "FC1.e30.AAAA", "%00", "FC1.eyJyIjoxfQ.bm9wZQ", "../../etc/passwd", "FC1.\u202e.x"]


@pytest.mark.parametrize("make", [_tampered, lambda t: t[:-10], lambda t: t[: len(t) // 2]], ids=["tampered", "truncated", "half"])
def test_altered_tokens_are_forged(tvr, make):
    assert check_online(make(_token(tvr))).outcome == CardCheck.FORGED


def test_wrong_key_is_forged(tvr):
    assert check_online(_resigned(tvr)).outcome == CardCheck.FORGED


@pytest.mark.parametrize("garbage", GARBAGE)
def test_garbage_is_forged(garbage):
    assert check_offline(garbage).outcome == CardCheck.FORGED


def test_expired_card(supervisor, person):
    permit = services.issue_permit(supervisor, person, kind="tvr")
    Permit.objects.filter(pk=permit.pk).update(valid_from=dt.date(2024, 1, 1), valid_until=dt.date(2024, 1, 31))
    permit.refresh_from_db()
    assert check_online(_token(permit)).outcome == CardCheck.EXPIRED
    assert services.effective_status(permit) == "expired"


def test_revoked_and_suspended_cards(supervisor, tvr):
    token = _token(tvr)
    services.change_permit_status(supervisor, tvr, "suspended", reason="Verificación pendiente")
    assert check_online(token).outcome == CardCheck.SUSPENDED
    services.revoke_permit(supervisor, tvr, reason="Fraude")
    assert check_online(token).outcome == CardCheck.REVOKED
    assert check_offline(token).outcome == CardCheck.VALID  # offline cannot know: documented


# --- public page -------------------------------------------------------------------------------


def test_public_verify_page_shows_no_name(tvr):
    response = Client().get(reverse("transit_verify:verify", kwargs={"token": _token(tvr)}))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'data-outcome="valid"' in body and tvr.number in body
    assert "Ana" not in body and "López" not in body


@pytest.mark.parametrize("garbage", ["x", "FC1.a.b", "FC1." + "A" * 600, "FC1.%F0%9F%92%A9.x", "FC1.e30." + "A" * 86])
def test_public_verify_never_500(garbage):
    response = Client().get(f"/verify/{garbage}/")
    assert response.status_code == 200
    assert 'data-outcome="forged"' in response.content.decode()


def test_public_verify_revoked(supervisor, tvr):
    token = _token(tvr)
    services.revoke_permit(supervisor, tvr, reason="Fraude")
    assert 'data-outcome="revoked"' in Client().get(f"/verify/{token}/").content.decode()


# --- commands --------------------------------------------------------------------------------


def test_offline_verification_with_exported_public_key(tvr, tmp_path, capsys):
    call_command("export_card_public_key")
    pem = capsys.readouterr().out
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "card.pem").write_text(pem)
    call_command("verify_card", _token(tvr), "--public-key", str(tmp_path / "card.pem"))
    assert capsys.readouterr().out.startswith("valid")


def test_offline_verification_rejects_another_key(tvr, tmp_path, capsys):
    other = Ed25519PrivateKey.generate().public_key()
    (tmp_path / "other.pem").write_text(cards.public_key_pem(other))
    with pytest.raises(SystemExit):
        call_command("verify_card", _token(tvr), "--public-key", str(tmp_path / "other.pem"))
    assert capsys.readouterr().out.startswith("forged")


def test_verify_card_needs_no_database(tvr, tmp_path):
    """The command runs in a process whose database URL points nowhere."""
    (tmp_path / "card.pem").write_text(cards.public_key_pem())
    env = {**__import__("os").environ, "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none"}
    done = subprocess.run(["python", "manage.py", "verify_card", _token(tvr), "--public-key", str(tmp_path / "card.pem")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.startswith("valid")


def test_public_verify_is_rate_limited_per_address(tvr, settings):
    """A scraper or a code-guessing script is slowed down; the page says the card was not checked."""
    from django.core.cache import cache

    cache.clear()
    settings.VERIFY_RATE = "2/m"
    url = reverse("transit_verify:verify", kwargs={"token": _token(tvr)})
    for _ in range(2):
        assert Client(REMOTE_ADDR="203.0.113.5").get(url).status_code == 200
    limited = Client(REMOTE_ADDR="203.0.113.5").get(url)
    assert limited.status_code == 429 and int(limited["Retry-After"]) > 0
    page = limited.content.decode()
    assert 'data-testid="verify-limited"' in page and "data-outcome" not in page
    assert Client(REMOTE_ADDR="203.0.113.6").get(url).status_code == 200
