"""Roles are groups synced from accounts/roles.py by migrate (DESIGN.md rule 4)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.roles import ROLE_PERMISSIONS, ROLES

pytestmark = pytest.mark.django_db


def existing(dotted: list[str]) -> set[str]:
    found = set()
    for name in dotted:
        app_label, codename = name.split(".", 1)
        if Permission.objects.filter(content_type__app_label=app_label, codename=codename).exists():
            found.add(name)
    return found


def test_every_role_group_exists_after_migrate():
    assert set(Group.objects.filter(name__in=ROLES).values_list("name", flat=True)) == set(ROLES)


@pytest.mark.parametrize("role", ROLES)
def test_group_permissions_match_the_matrix(role):
    """Without calling sync here: what migrate left behind (including apps migrated after accounts)."""
    group = Group.objects.get(name=role)
    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted == existing(ROLE_PERMISSIONS[role])
    assert granted, f"role {role} has no permission at all"
