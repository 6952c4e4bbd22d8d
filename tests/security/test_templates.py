"""Templates cannot undo the CSP or the auto-escaping (SECURITY.md CF-1, IN-3).

The policy allows scripts from 'self' and from the per-response nonce only, so any inline
``<script>`` must carry ``nonce="{{ request.csp_nonce }}"`` and inline event handlers
(``onclick=``) or ``javascript:`` URLs would simply be blocked: none may exist. Turning escaping
off (``|safe``, ``{% autoescape off %}``) is allowed only where the reviewed list says why.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)
UNESCAPED = re.compile(r"\|\s*safe\b|{%\s*autoescape\s+off|\|\s*safeseq\b")
# Reviewed: the TOTP QR code is an SVG that segno renders from the user's own new secret.
REVIEWED_UNESCAPED = {"templates/accounts/otp_setup.html": 1}


def templates() -> dict[str, str]:
    files = list((ROOT / "templates").rglob("*.html"))
    for app in ("accounts", "api", "crossings", "privacy", "registry", "reports", "transit"):
        files += list((ROOT / app / "templates").rglob("*.html"))
    return {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8") for path in files}


def test_the_walker_sees_the_templates():
    found = templates()
    assert "templates/base.html" in found and len(found) > 20


def test_inline_scripts_carry_the_nonce():
    offenders = [
        f"{name}: {tag}"
        for name, text in templates().items()
        for tag in INLINE_SCRIPT.findall(text)
        if "csp_nonce" not in tag and 'type="application/json"' not in tag
    ]
    assert offenders == []


def test_no_inline_event_handlers_or_javascript_urls():
    offenders = [
        name
        for name, text in templates().items()
        if EVENT_HANDLER.search(text) or "javascript:" in text
    ]
    assert offenders == []


def test_escaping_is_turned_off_only_where_reviewed():
    found = {name: len(UNESCAPED.findall(text)) for name, text in templates().items()}
    assert {name: count for name, count in found.items() if count} == REVIEWED_UNESCAPED
