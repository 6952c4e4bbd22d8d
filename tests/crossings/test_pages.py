"""Base layout, home page, error pages and the place admin."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_home_shows_shortcuts_and_banners(make_user, login, settings):
    settings.DEMO_MODE = True
    settings.MFA_REQUIRED = False
    body = login(make_user("registrar")).get(reverse("home")).content.decode()
    assert reverse("crossings:list") in body and reverse("crossings:map") in body
    assert 'data-testid="demo-banner"' in body and 'data-testid="mfa-off-banner"' in body
    assert 'data-testid="no-post"' in body
    assert reverse("admin:index") not in body


def test_banners_hidden_outside_demo(make_user, login, settings):
    settings.DEMO_MODE = False
    settings.MFA_REQUIRED = True
    body = login(make_user("admin")).get(reverse("home")).content.decode()
    assert "demo-banner" not in body and "mfa-off-banner" not in body
    assert reverse("admin:index") in body


def test_home_lists_the_users_posts(make_user, login, reference_places):
    from crossings.models import Place

    user = make_user("registrar", places=[Place.objects.get(code="MXGT-01")])
    body = login(user).get(reverse("home")).content.decode()
    assert "/places/MXGT-01/" in body


def test_base_has_no_inline_styles_or_unnonced_scripts(make_user, login, reference_places):
    body = login(make_user("registrar")).get(reverse("crossings:map")).content.decode()
    assert " style=" not in body and "<style" not in body
    assert "<script>" not in body
    assert '"includeIndicatorStyles": false' in body
    assert 'action="/i18n/setlang/"' in body and 'name="language"' in body


@pytest.mark.parametrize("name", ["403.html", "404.html", "500.html", "503.html"])
def test_error_pages_render_without_a_request(name):
    body = render_to_string(name)
    assert "<h1" in body and "Traceback" not in body
    assert "vendor/bootstrap/bootstrap.min.css" in body


def test_unknown_page_uses_our_404(make_user, login, settings):
    settings.DEBUG = False
    response = login(make_user("registrar")).get("/places/NOPE/")
    assert response.status_code == 404
    assert "bi-signpost" in response.content.decode()


def test_admin_lists_and_searches_places(make_user, login, reference_places):
    client = login(make_user("superuser"))
    response = client.get(reverse("admin:crossings_place_changelist"), {"q": "MXGT-07"})
    assert response.status_code == 200
    assert "Frontera Corozal" in response.content.decode()
    assert "Tenosique" not in response.content.decode()
