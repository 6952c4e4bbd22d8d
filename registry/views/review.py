"""The supervisors' review queue: submitted registrations, oldest first."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from registry import services
from registry.forms import ReviewForm, apply_service_errors
from registry.models import Registration
from registry.services import ConflictError
from registry.views.common import PAGE_SIZE, log_people, page_querystring, visible_registration

DECISIONS = {
    ReviewForm.VERIFY: (services.verify, gettext_lazy("Registration verified.")),
    ReviewForm.REJECT: (services.reject, gettext_lazy("Registration rejected.")),
    ReviewForm.CORRECT: (services.request_correction, gettext_lazy("Registration returned for correction.")),
}


@login_required
@require_safe
@permission_required("registry.review_registration", raise_exception=True)
def queue(request: HttpRequest) -> HttpResponse:
    """Submitted registrations the supervisor can see, oldest first; one access-log row."""
    registrations = Registration.objects.visible_to(request.user).review_queue().select_related("person", "place", "official")
    page = Paginator(registrations, PAGE_SIZE).get_page(request.GET.get("page"))
    if page.object_list:
        log_people(request, "list", [r.person_id for r in page.object_list], purpose="review queue")
    return render(request, "registry/review_queue.html", {"page_obj": page, "querystring": page_querystring(request)})


def _decide(request, registration, form: ReviewForm) -> bool:
    """Call the service for the chosen decision; errors land on the form. True when done."""
    service, done = DECISIONS[form.cleaned_data["decision"]]
    try:
        service(request.user, registration, reason=form.cleaned_data["reason"], expected_version=form.cleaned_data["version"])
    except ValidationError as exc:
        apply_service_errors(form, exc)
        return False
    except (PermissionDenied, ConflictError) as exc:
        form.add_error(None, str(exc) or _("You may not review this registration."))
        return False
    messages.success(request, done)
    return True


@login_required
@require_http_methods(["GET", "POST"])
@permission_required("registry.review_registration", raise_exception=True)
def review(request: HttpRequest, pk) -> HttpResponse:
    """One registration with verify / reject / request correction (a reason for the last two)."""
    registration = visible_registration(request, pk)
    form = ReviewForm(request.POST or None, initial={"version": registration.version})
    if request.method == "POST" and form.is_valid() and _decide(request, registration, form):
        return redirect("registry:review-queue")
    registration.refresh_from_db()
    log_people(request, "view", [registration.person_id], purpose="review")
    context = {"registration": registration, "person": registration.person, "form": form,
               "transitions": registration.transitions.select_related("by")}
    return render(request, "registry/review.html", context)
