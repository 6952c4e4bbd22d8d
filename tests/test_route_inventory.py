"""Route inventory (SECURITY.md AC-1, AU-1): every route is classified and denies by default.

Walks ``get_resolver()`` recursively. A named route is either listed in ``PUBLIC`` (with the
reason it may be reached without signing in) or it must behave as protected:

* anonymous GET and POST -> 302 to the login page (pages) or 401/403 (``/api/``);
* a password-only session (MFA enforced, no OTP step yet) -> 302 to the MFA step or 401/403,
  except for the two MFA pages themselves (``MFA_STEP``).

A new route that answers anything else fails with its name. Dummy values fill path parameters.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import NoReverseMatch, URLResolver, get_resolver, reverse
from django.urls.converters import (
    IntConverter,
    PathConverter,
    SlugConverter,
    StringConverter,
    UUIDConverter,
)
from django.urls.resolvers import RoutePattern

PUBLIC: dict[str, str] = {
    "accounts:login": "the way in (password step); lockout by django-axes",
    "accounts:logout": "POST only; ending a session needs no session",
    "set_language": "language switch: sets a cookie and redirects, reveals nothing",
    "health-live": "liveness probe for the orchestrator; no data",
    "health-ready": "readiness probe for the load balancer; no data",
    "admin:login": "only redirects to accounts:login (the admin has no login of its own)",
    "transit_verify:verify": "public card check by signed token (transit/views/verify.py): no name shown",
    "admin:logout": "anonymous: Django's admin_view redirects it to admin:index, which needs login",
    "oauth-token": "OAuth2 token endpoint: the partner client authenticates itself here (client credentials)",
    "oauth-revoke": "OAuth2 revocation (RFC 7009): authenticates the client in the request, revokes only its tokens",
}
# Login required, but reachable before the OTP step: they are the OTP step.
MFA_STEP: dict[str, str] = {
    "accounts:mfa_setup": "TOTP enrolment for a user without a confirmed device",
    "accounts:mfa_verify": "the TOTP code after the password",
}
API_PREFIX = "/api/"
DUMMY_UUID = "6f1c1b1e-0000-4000-8000-000000000001"
# Unnamed admin routes (legacy redirect, catch-all) are probed through these sample paths.
UNNAMED_SAMPLES = ["/admin/accounts/user/{uuid}/", "/admin/no-such-app/"]


@dataclass
class Route:
    name: str
    params: dict[str, object] = field(default_factory=dict)  # kwarg -> converter (None: regex)
    positional: int = 0  # unnamed regex groups (e.g. simple_history's admin history view)


def pattern_params(pattern) -> dict[str, object]:
    if isinstance(pattern, RoutePattern):
        return dict(pattern.converters)
    return dict.fromkeys(pattern.regex.groupindex)


def positional_groups(pattern) -> int:
    if isinstance(pattern, RoutePattern):
        return 0
    return pattern.regex.groups - len(pattern.regex.groupindex)


def walk(patterns, namespace: str = "", params: dict | None = None, unnamed: list | None = None):
    """Yield every named route with the parameters collected along its include chain."""
    for entry in patterns:
        collected = {**(params or {}), **pattern_params(entry.pattern)}
        if isinstance(entry, URLResolver):
            prefix = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix, collected, unnamed)
        elif entry.name:
            yield Route(f"{namespace}{entry.name}", collected, positional_groups(entry.pattern))
        elif unnamed is not None:
            unnamed.append((namespace, str(entry.pattern)))


def all_routes() -> dict[str, Route]:
    return {route.name: route for route in walk(get_resolver().url_patterns)}


def candidates(converter) -> list[str]:
    """Dummy values to try for one path parameter."""
    by_type = {
        IntConverter: ["1"],
        UUIDConverter: [DUMMY_UUID],
        SlugConverter: ["x-1"],
        PathConverter: [DUMMY_UUID, "x"],
        StringConverter: ["x", DUMMY_UUID],
    }
    for kind, values in by_type.items():
        if type(converter) is kind:
            return values
    return ["1", DUMMY_UUID, "x", *(config.label for config in apps.get_app_configs())]


def build_url(route: Route) -> str | None:
    """The route's path with dummy parameters, or None if no dummy value fits."""
    if route.positional:
        attempts = [
            {"args": list(values)} for values in itertools.product(candidates(None), repeat=route.positional)
        ]
    else:
        names = list(route.params)
        attempts = [
            {"kwargs": dict(zip(names, values, strict=True))}
            for values in itertools.product(*(candidates(route.params[n]) for n in names))
        ]
    for attempt in attempts:
        try:
            return reverse(route.name, **attempt)
        except NoReverseMatch:
            continue
    return None


def protected_routes() -> list[tuple[str, str]]:
    routes = [(name, build_url(route)) for name, route in sorted(all_routes().items()) if name not in PUBLIC]
    unbuildable = [name for name, url in routes if url is None]
    assert not unbuildable, f"no dummy URL for: {unbuildable}; extend candidates()"
    return routes


def login_paths() -> set[str]:
    return {reverse("accounts:login"), reverse("admin:login")}


def denial_problem(response, url: str, allowed_targets: set[str]) -> str | None:
    """None when the response denies properly; otherwise what went wrong."""
    if url.startswith(API_PREFIX):
        return None if response.status_code in (401, 403) else f"status {response.status_code}"
    if response.status_code != 302:
        return f"status {response.status_code}"
    target = response["Location"].split("?", 1)[0]
    return None if target in allowed_targets else f"redirect to {target}"


def check_all(client: Client, routes, allowed_targets: set[str]) -> list[str]:
    problems = []
    for name, url in routes:
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            problem = denial_problem(response, url, allowed_targets)
            if problem:
                problems.append(f"{method.upper()} {name} ({url}): {problem}")
    return problems


@pytest.fixture
def mfa_on(settings):
    settings.MFA_REQUIRED = True


def test_inventory_sees_the_known_routes():
    names = set(all_routes())
    assert {"home", "accounts:login", "accounts:mfa_verify", "admin:index", "admin:accounts_user_changelist"} <= names
    assert "accounts:mfa_backup_codes" in names  # protected (login + OTP step), so in neither list below
    assert len(names) > 40


def test_public_and_mfa_lists_name_real_routes():
    names = set(all_routes())
    stale = (set(PUBLIC) | set(MFA_STEP)) - names
    assert not stale, f"classified routes that no longer exist: {sorted(stale)}"
    assert all(reason.strip() for reason in [*PUBLIC.values(), *MFA_STEP.values()])


def test_unnamed_routes_are_only_admin_or_static():
    unnamed: list = []
    list(walk(get_resolver().url_patterns, unnamed=unnamed))
    static = settings.STATIC_URL.lstrip("/")
    strays = [(ns, p) for ns, p in unnamed if ns != "admin:" and static not in p]
    assert not strays, f"give these routes a name so they can be classified: {strays}"


@pytest.mark.django_db
def test_anonymous_requests_are_sent_to_login():
    problems = check_all(Client(raise_request_exception=False), protected_routes(), login_paths())
    assert not problems, (
        "routes that do not send an anonymous visitor to the login page (add them to PUBLIC with a "
        "reason, or protect them; a 405 means a method decorator sits outside @login_required):\n"
        + "\n".join(problems)
    )


@pytest.mark.django_db
def test_admin_login_leads_to_our_login():
    response = Client().get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.django_db
def test_anonymous_unnamed_admin_routes_are_sent_to_login():
    client = Client()
    for sample in UNNAMED_SAMPLES:
        url = sample.format(uuid=DUMMY_UUID)
        for method in ("get", "post"):
            problem = denial_problem(getattr(client, method)(url), url, login_paths())
            assert problem is None, f"{method.upper()} {url}: {problem}"


@pytest.mark.django_db
def test_password_only_session_is_sent_to_mfa(make_user, mfa_on):
    client = Client(raise_request_exception=False)
    client.force_login(make_user("superuser"))
    routes = [(name, url) for name, url in protected_routes() if name not in MFA_STEP]
    problems = check_all(client, routes, {reverse("accounts:mfa_verify")})
    assert not problems, "routes served without the OTP step:\n" + "\n".join(problems)


@pytest.mark.django_db
def test_password_only_session_reaches_the_mfa_step(make_user, mfa_on):
    client = Client()
    client.force_login(make_user())
    assert client.get(reverse("accounts:mfa_verify")).status_code == 200
    assert client.get(reverse("accounts:mfa_setup"))["Location"] == reverse("accounts:mfa_verify")


def _open_view(request):
    """A route someone forgot to protect (only mounted by the test below)."""
    from django.http import HttpResponse

    return HttpResponse("open")


def _urlpatterns_with_an_open_route():
    from django.urls import path

    from config.urls import urlpatterns as project_urls

    return [*project_urls, path("forgotten/", _open_view, name="forgotten-route")]


urlpatterns = _urlpatterns_with_an_open_route()  # used by the test below via pytest.mark.urls


@pytest.mark.django_db
@pytest.mark.urls("tests.test_route_inventory")
def test_a_new_unclassified_route_fails_naming_it():
    """The checker itself: an open, unclassified route is reported by name."""
    routes = [(name, url) for name, url in protected_routes() if name == "forgotten-route"]
    problems = check_all(Client(raise_request_exception=False), routes, login_paths())
    assert problems == [
        "GET forgotten-route (/forgotten/): status 200",
        "POST forgotten-route (/forgotten/): status 200",
    ]
