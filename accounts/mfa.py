"""Two-factor helpers over django-otp: enrolment secrets, verification, marking the session.

Enrolment keeps the new secret in the (server-side) session and creates the ``TOTPDevice`` only
once the first code is confirmed, so a GET never writes a device. Verification goes through
``django_otp.verify_token`` device by device, which applies django-otp's throttling
(``OTP_TOTP_THROTTLE_FACTOR``) and TOTP replay protection (``last_t``).
"""

from __future__ import annotations

import time
from base64 import b32encode
from binascii import unhexlify

import segno
from django.http import HttpRequest
from django.utils import timezone
from django_otp import devices_for_user, verify_token
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

PENDING_KEY = "accounts_mfa_pending_key"


def pending_device(request: HttpRequest) -> TOTPDevice:
    """An unsaved TOTP device for the enrolment in progress (same secret across page reloads)."""
    key = request.session.get(PENDING_KEY)
    if not key:
        key = default_key()
        request.session[PENDING_KEY] = key
    return TOTPDevice(user=request.user, name="default", key=key, confirmed=False)


def base32_secret(device: TOTPDevice) -> str:
    """The secret for manual entry, grouped by four characters."""
    raw = b32encode(unhexlify(device.key)).decode().rstrip("=")
    return " ".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URI as an inline SVG (no external image, no data leaving the server)."""
    qr = segno.make(device.config_url, error="m")
    return qr.svg_inline(scale=5, border=2, title="otpauth")


def confirm_enrolment(request: HttpRequest, token: str) -> TOTPDevice | None:
    """Save the pending device if ``token`` is valid for it; the code can't be replayed later."""
    device = pending_device(request)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not token.isdigit() or not totp.verify(int(token), device.tolerance):
        return None
    device.last_t = totp.t()
    device.confirmed = True
    device.save()
    del request.session[PENDING_KEY]
    return device


def verify_user_token(user, token: str):
    """The confirmed device accepting ``token``, or None (throttling counts per device)."""
    for device in devices_for_user(user, confirmed=True):
        verified = verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None


def throttle_wait_seconds(user) -> int:
    """Seconds until a device accepts codes again; 0 when at least one device accepts them now."""
    waits = []
    for device in devices_for_user(user, confirmed=True):
        allowed, info = device.verify_is_allowed()
        if allowed:
            return 0
        locked_until = (info or {}).get("locked_until")
        if locked_until:
            waits.append(max(int((locked_until - timezone.now()).total_seconds()) + 1, 1))
    return min(waits, default=0)


def mark_verified(request: HttpRequest, device) -> None:
    """MFA step-up: a fresh session key, then the device recorded in the session."""
    request.session.cycle_key()
    otp_login(request, device)
