"""Synthetic demo accounts, and the list of steps ``manage.py seed_demo`` runs.

Every step is idempotent: running the seed twice changes nothing. Other apps add their own steps
from their ``demo`` module (found by ``autodiscover_modules("demo")``), e.g. in ``registry/demo.py``::

    from accounts.demo import register_seed_step

    @register_seed_step
    def seed_demo_people() -> str:
        ...
        return "12 people"

Steps run in ``INSTALLED_APPS`` order (bottom layer first), so people can point at demo users.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.contrib.auth.models import Group
from django.utils.module_loading import autodiscover_modules
from faker import Faker

from accounts import roles
from accounts.models import Agency, AgencyKind, PostAssignment, User

# Synthetic, published on purpose: demo mode only (seed_demo refuses to run otherwise).
DEMO_PASSWORD = "quetzal-cacao-volcan-2026"  # noqa: S105
REGISTRAR_PLACE_CODE = "MXGT-01"

SeedStep = Callable[[], str | None]
SEED_STEPS: list[SeedStep] = []


@dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    kind: str
    country: str


DEMO_AGENCIES = (
    DemoAgency("inm", "Instituto Nacional de Migración (INM)", AgencyKind.GOVERNMENT, "MX"),
    DemoAgency("igm", "Instituto Guatemalteco de Migración (IGM)", AgencyKind.GOVERNMENT, "GT"),
    DemoAgency("acnur", "ACNUR / UNHCR", AgencyKind.UN, ""),
    DemoAgency("oim", "OIM / IOM", AgencyKind.UN, ""),
    DemoAgency("la72", "La 72, Hogar-Refugio para Personas Migrantes", AgencyKind.SHELTER, "MX"),
)

# username (= role) -> agency code
DEMO_USERS = {
    roles.REGISTRAR: "inm",
    roles.SUPERVISOR: "inm",
    roles.ANALYST: "acnur",
    roles.AUDITOR: "oim",
    roles.ADMIN: "inm",
    roles.DATA_PROTECTION: "inm",
}


def register_seed_step(step: SeedStep) -> SeedStep:
    """Add a step to ``seed_demo`` (once, however often the module is imported)."""
    if step not in SEED_STEPS:
        SEED_STEPS.append(step)
    return step


def _app_position(step: SeedStep) -> int:
    """Index of the step's app in INSTALLED_APPS (bottom layer first); unknown apps go last."""
    configs = list(apps.get_app_configs())
    for index, config in enumerate(configs):
        if step.__module__ == config.name or step.__module__.startswith(config.name + "."):
            return index
    return len(configs)


def seed_steps() -> list[SeedStep]:
    """Every registered step, in layer order; imports each installed app's ``demo`` module first."""
    autodiscover_modules("demo")
    return sorted(SEED_STEPS, key=_app_position)  # stable: registration order within an app


def _seed_agencies() -> dict[str, Agency]:
    agencies = {}
    for spec in DEMO_AGENCIES:
        agency, _ = Agency.objects.get_or_create(
            code=spec.code, defaults={"name": spec.name, "kind": spec.kind, "country": spec.country}
        )
        agencies[spec.code] = agency
    return agencies


def _synthetic_name(username: str) -> tuple[str, str]:
    """A stable fake Mexican name per username (Faker es_MX, seeded)."""
    fake = Faker("es_MX")
    fake.seed_instance(username)
    return fake.first_name(), f"{fake.last_name()} {fake.last_name()}"


def _seed_user(username: str, agency: Agency) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        first, last = _synthetic_name(username)
        user = User(username=username, first_name=first, last_name=last, agency=agency)
        user.email = f"{username}@demo.frontera.invalid"
        user.is_staff = user.is_superuser = username == roles.ADMIN
        user.set_password(DEMO_PASSWORD)
        user.save()
    group = Group.objects.get(name=username)
    if not user.groups.filter(pk=group.pk).exists():
        user.groups.add(group)
    return user


def _assign_registrar(user: User) -> None:
    from crossings.models import Place

    place = Place.objects.filter(code=REGISTRAR_PLACE_CODE).first()
    if place is not None and not PostAssignment.objects.filter(user=user, place=place).exists():
        PostAssignment.objects.create(user=user, place=place)


@register_seed_step
def seed_demo_accounts() -> str:
    """Demo agencies and one user per role (registrar posted at MXGT-01 when it is loaded)."""
    roles.sync_role_groups()
    agencies = _seed_agencies()
    users = {name: _seed_user(name, agencies[code]) for name, code in DEMO_USERS.items()}
    _assign_registrar(users[roles.REGISTRAR])
    return f"{len(agencies)} agencies, {len(users)} users"


def demo_logins() -> list[tuple[str, str]]:
    """(username, role) for every demo user that exists."""
    existing = set(User.objects.filter(username__in=DEMO_USERS).values_list("username", flat=True))
    return [(name, name) for name in DEMO_USERS if name in existing]
