"""Printable receipts: HTML with print CSS, and the same as PDF. Printing is logged."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_safe

from registry import receipts
from registry.models import Registration
from registry.views.common import log_people, visible_person


def _context(request, pk) -> dict:
    person = visible_person(request, pk)
    registration = Registration.objects.visible_to(request.user).filter(person=person).select_related("place").first()
    log_people(request, "print", [person.pk], purpose="receipt")
    return {"person": person, "registration": registration, "qr": receipts.qr_svg(person.reference)}


@login_required
@require_safe
@permission_required("registry.view_person", raise_exception=True)
def receipt(request: HttpRequest, pk) -> HttpResponse:
    """The receipt page, laid out for A6/letter printing by the browser."""
    return render(request, "registry/receipt.html", _context(request, pk))


@login_required
@require_safe
@permission_required("registry.view_person", raise_exception=True)
def receipt_pdf(request: HttpRequest, pk) -> HttpResponse:
    context = _context(request, pk)
    html = render_to_string("registry/receipt_document.html", context, request=request)
    pdf = receipts.render_pdf(html, request.build_absolute_uri("/"))
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{context["person"].reference}.pdf"'
    response["Cache-Control"] = "no-store"
    return response
