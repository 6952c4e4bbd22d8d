"""Roles are data (DESIGN.md rule 4): each role is a group whose permissions are listed here.

``sync_role_groups`` runs after every migrate; a permission named here that does not exist yet
(its app not migrated) is skipped and picked up on the next migrate.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

REGISTRAR = "registrar"
SUPERVISOR = "supervisor"
ANALYST = "analyst"
AUDITOR = "auditor"
ADMIN = "admin"
DATA_PROTECTION = "data_protection"
ROLES = (REGISTRAR, SUPERVISOR, ANALYST, AUDITOR, ADMIN, DATA_PROTECTION)

# What an official needs to register people and their details at a post.
_REGISTRY_WORK = [
    "registry.view_person",
    "registry.change_person",
    "registry.view_registration",
    "registry.add_registration",
    "registry.change_registration",
    "registry.add_identitydocument",
    "registry.add_groupmembership",
    "registry.add_vulnerability",
    "registry.add_referral",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    REGISTRAR: [
        "crossings.view_place",
        *_REGISTRY_WORK,
        "transit.add_transitevent",
        "transit.view_transitevent",
        "transit.view_permit",
    ],
    SUPERVISOR: [
        "crossings.view_place",
        *_REGISTRY_WORK,
        "registry.review_registration",
        "registry.view_duplicatecandidate",
        "registry.change_duplicatecandidate",
        "registry.merge_person",
        "registry.view_vulnerability",
        "registry.view_referral",
        "transit.add_transitevent",
        "transit.view_transitevent",
        "transit.view_permit",
        "transit.add_permit",
        "transit.revoke_permit",
        "transit.view_overstays",
        "reports.run_reports",
        "reports.run_overstay_reports",
        "privacy.view_rightsrequest",  # only the requests escalated to them (RightsRequest.visible_to)
    ],
    ANALYST: [
        "crossings.view_place",
        "transit.view_corridors",
        "reports.run_reports",
    ],
    AUDITOR: [
        "crossings.view_place",
        "privacy.view_accesslog",
    ],
    # The data-protection officer: the rights register, blocking and erasure (privacy/rights).
    DATA_PROTECTION: [
        "crossings.view_place",
        "privacy.view_rightsrequest",
        "privacy.add_rightsrequest",
        "privacy.change_rightsrequest",
        "privacy.erase_person",
        "privacy.view_erasurerecord",
        "privacy.view_retentionrun",
        "privacy.view_accesslog",
        "registry.change_person",
    ],
    ADMIN: [
        "crossings.view_place",
        "crossings.add_place",
        "crossings.change_place",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_agency",
        "accounts.add_agency",
        "accounts.change_agency",
        "accounts.view_postassignment",
        "accounts.add_postassignment",
        "accounts.change_postassignment",
        "accounts.delete_postassignment",
        "accounts.view_datasharingagreement",
        "accounts.add_datasharingagreement",
        "accounts.change_datasharingagreement",
        "accounts.view_partnerclient",
        "accounts.change_partnerclient",
        "privacy.view_accesslog",
        *_REGISTRY_WORK,
        "registry.review_registration",
        "registry.view_duplicatecandidate",
        "registry.change_duplicatecandidate",
        "registry.merge_person",
        "registry.view_vulnerability",
        "registry.view_referral",
        "transit.add_transitevent",
        "transit.view_transitevent",
        "transit.view_headcount",
        "transit.view_permit",
        "transit.add_permit",
        "transit.revoke_permit",
        "transit.view_overstays",
        "transit.view_corridors",
        "reports.run_reports",
        "reports.run_overstay_reports",
    ],
}


def sync_role_groups() -> None:
    """Create every role group and set exactly the permissions listed for it."""
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for dotted in ROLE_PERMISSIONS.get(role, []):
            app_label, codename = dotted.split(".", 1)
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.set(wanted)
