"""Report pages: my reports (with live progress), request a report, a run's files, downloads,
and the dashboard with its JSON. Analysts and supervisors only (``reports.run_reports``);
runs outside a user's scope answer 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from reports import dashboard as dashboard_data
from reports import services
from reports.forms import DashboardFilterForm, ReportRequestForm
from reports.kinds import RUN_REPORTS, kinds_for
from reports.models import ReportFile, ReportRun

PAGE_SIZE = 20
reports_required = permission_required(RUN_REPORTS, raise_exception=True)


def _visible_runs(user):
    return ReportRun.objects.visible_to(user).prefetch_related(Prefetch("files", queryset=ReportFile.objects.order_by("format")))


@login_required
@reports_required
@require_safe
def run_list(request: HttpRequest) -> HttpResponse:
    """My reports: the runs I asked for and the scheduled runs I may see, newest first."""
    page = Paginator(_visible_runs(request.user).order_by("-created_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "requests_today": services.requests_today(request.user)}
    return render(request, "reports/run_list.html", context)


@login_required
@reports_required
@require_safe
def run_status(request: HttpRequest, run_id) -> HttpResponse:
    """One run's row (htmx polls it every few seconds while the run is queued or running)."""
    run = get_object_or_404(_visible_runs(request.user), pk=run_id)
    return render(request, "reports/_run_row.html", {"run": run})


@login_required
@reports_required
@require_safe
def run_detail(request: HttpRequest, run_id) -> HttpResponse:
    run = get_object_or_404(_visible_runs(request.user), pk=run_id)
    return render(request, "reports/run_detail.html", {"run": run})


@login_required
@reports_required
@require_http_methods(["GET", "POST"])
def request_report(request: HttpRequest) -> HttpResponse:
    """The request form; errors stay on the page and nothing is queued."""
    allowed = [spec.code for spec in kinds_for(request.user)]
    kind = request.GET.get("kind") if request.GET.get("kind") in allowed else allowed[0]
    form = ReportRequestForm(request.POST or None, user=request.user, initial=ReportRequestForm.initial_for(kind))
    if request.method == "POST" and form.is_valid():
        try:
            services.request_report(request.user, form.cleaned_data["kind"], form.params)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Your report is queued. This page shows its progress."))
            return redirect("reports:list")
    return render(request, "reports/request.html", {"form": form, "kinds": kinds_for(request.user)}, status=400 if form.errors else 200)


@login_required
@reports_required
@require_safe
def download(request: HttpRequest, run_id, fmt: str) -> HttpResponse:
    """One file of a visible, finished run, access-logged; anything else is 404."""
    run = get_object_or_404(ReportRun.objects.visible_to(request.user), pk=run_id)
    report_file = run.files.filter(format=fmt).first()
    if report_file is None:
        raise Http404
    return services.download(request.user, report_file, request)


@login_required
@reports_required
@require_safe
def dashboard(request: HttpRequest) -> HttpResponse:
    form = DashboardFilterForm(request.GET or None)
    return render(request, "reports/dashboard.html", {"form": form})


@login_required
@reports_required
@require_safe
def dashboard_json(request: HttpRequest) -> JsonResponse:
    """Aggregates for static/js/reports-dashboard.js; bad filters are a 400 with field errors."""
    form = DashboardFilterForm(request.GET)
    if not form.is_valid():
        return JsonResponse({"errors": form.errors.get_json_data()}, status=400)
    data = form.cleaned_data
    payload = dashboard_data.cached(data["date_from"], data["date_to"], data["place_obj"])
    response = JsonResponse(payload)
    response["Cache-Control"] = "private, max-age=60"
    return response
