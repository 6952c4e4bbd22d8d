"""Registration receipts: the person's reference as a QR code, as HTML for printing and as PDF.

A receipt carries the name, the reference and where and when the person was registered, and
nothing more: it travels in a migrant's pocket and may be seen by anyone.
"""

from __future__ import annotations

import segno
from django.contrib.staticfiles import finders
from django.utils.safestring import mark_safe

RECEIPT_CSS = "css/registry.css"


def qr_svg(reference: str) -> str:
    """Inline SVG of the QR code for a reference (alphanumeric only, so safe to inline)."""
    if not reference.isalnum():
        raise ValueError("a reference is alphanumeric")
    return mark_safe(segno.make(reference, error="m").svg_inline(scale=5, border=2, omitsize=True, title=reference))  # noqa: S308


def render_pdf(html: str, base_url: str) -> bytes:
    """The receipt HTML as PDF (WeasyPrint); the print CSS is read from disk, never fetched."""
    from weasyprint import CSS, HTML

    stylesheet = finders.find(RECEIPT_CSS)
    return HTML(string=html, base_url=base_url, url_fetcher=_no_fetch).write_pdf(stylesheets=[CSS(filename=stylesheet)])


def _no_fetch(url: str, *args, **kwargs):
    """WeasyPrint must not reach the network or the file system from a receipt."""
    raise ValueError("external resources are not loaded into receipts")
