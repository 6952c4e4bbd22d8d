"""Which reports exist, who may run them and in which formats (permissions are data)."""

from __future__ import annotations

from dataclasses import dataclass

from reports.models import ReportFormat, ReportKind

RUN_REPORTS = "reports.run_reports"
RUN_OVERSTAY_REPORTS = "reports.run_overstay_reports"

_POPULATION_FORMATS = (ReportFormat.CSV, ReportFormat.XLSX, ReportFormat.PDF, ReportFormat.HXL)
_OTHER_FORMATS = (ReportFormat.CSV, ReportFormat.XLSX, ReportFormat.PDF)


@dataclass(frozen=True)
class KindSpec:
    """A report kind: the permission it needs and the formats it is offered in (HXL only for
    counts of people, the shape HXL population hashtags describe)."""

    code: str
    permission: str
    formats: tuple[str, ...]
    schedule: str = ""  # "daily" | "weekly" | "monthly" for the scheduled kinds
    postgres_only: bool = False  # built on transit.overstays, which needs PostgreSQL

    @property
    def label(self):
        return ReportKind(self.code).label


KINDS: dict[str, KindSpec] = {
    spec.code: spec
    for spec in (
        KindSpec(ReportKind.DAILY_FLOWS, RUN_REPORTS, _POPULATION_FORMATS, "daily"),
        KindSpec(ReportKind.WEEKLY_SUMMARY, RUN_REPORTS, _POPULATION_FORMATS, "weekly"),
        KindSpec(ReportKind.MONTHLY_STATISTICS, RUN_REPORTS, _POPULATION_FORMATS, "monthly"),
        KindSpec(ReportKind.REGISTRATIONS, RUN_REPORTS, _OTHER_FORMATS),
        KindSpec(ReportKind.REFERRALS, RUN_REPORTS, _OTHER_FORMATS),
        KindSpec(ReportKind.OVERSTAYS, RUN_OVERSTAY_REPORTS, _OTHER_FORMATS, postgres_only=True),
        KindSpec(ReportKind.DATA_QUALITY, RUN_REPORTS, _OTHER_FORMATS),
    )
}


def partner_agreement(user):
    """The data-sharing agreement a partner API client acts under, or None for people."""
    from accounts.models import PartnerClientUser

    return user.agreement if isinstance(user, PartnerClientUser) else None


def partner_may_run(agreement, kind: str) -> bool:
    """Partners with ``reports:read`` run the aggregate kinds only: never the overstays report
    (built from identified entries; it needs its own permission that no client holds)."""
    from accounts.agreements import Scope

    spec = KINDS.get(kind)
    return bool(spec and spec.permission == RUN_REPORTS and agreement.has_scope(Scope.REPORTS_READ))


def can_run(user, kind: str) -> bool:
    spec = KINDS.get(kind)
    if not (spec and user.is_active):
        return False
    agreement = partner_agreement(user)
    if agreement is not None:
        return partner_may_run(agreement, kind)
    return user.has_perm(spec.permission)


def kinds_for(user) -> list[KindSpec]:
    """The kinds a user may run (and see scheduled runs of)."""
    return [spec for spec in KINDS.values() if can_run(user, spec.code)]
