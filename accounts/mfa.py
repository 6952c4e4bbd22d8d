"""Two-factor helpers over django-otp: enrolment secrets, verification, marking the session,
and backup codes (django-otp's static plugin).

Enrolment keeps the new secret in the (server-side) session and creates the ``TOTPDevice`` only
once the first code is confirmed, so a GET never writes a device. Verification goes through
``django_otp.verify_token`` device by device, which applies django-otp's throttling
(``OTP_TOTP_THROTTLE_FACTOR``) and TOTP replay protection (``last_t``).
"""

from __future__ import annotations

import secrets
import time
from base64 import b32encode
from binascii import unhexlify

import segno
from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp import devices_for_user, verify_token
from django_otp import login as otp_login
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice, default_key

from accounts import security_events

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


def devices_for_token(user, token: str | None = None) -> list:
    """The confirmed devices that may check ``token``: all digits -> the authenticator (TOTP),
    otherwise -> the backup codes. A code is tried only where it could be valid, so a backup
    code never counts as a failed TOTP attempt (nor a TOTP code as a failed backup code)."""
    devices = list(devices_for_user(user, confirmed=True))
    if token is None:
        return devices
    wanted = StaticDevice if is_backup_code_shape(token) else TOTPDevice
    return [device for device in devices if isinstance(device, wanted)]


def verify_user_token(user, token: str):
    """The confirmed device accepting ``token``, or None (throttling counts per device)."""
    for device in devices_for_token(user, token):
        verified = verify_token(user, device.persistent_id, token)
        if verified is not None:
            return verified
    return None


def throttle_wait_seconds(user, token: str | None = None) -> int:
    """Seconds until a device (of those that may check ``token``) accepts codes again; 0 when at
    least one of them accepts codes now."""
    waits = []
    for device in devices_for_token(user, token):
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


# --- Backup codes (one-time recovery codes) -------------------------------------------------------
# django-otp's static plugin: one ``StaticDevice`` per user holds the unused codes as ``StaticToken``
# rows; ``StaticDevice.verify_token`` deletes a code as it accepts it (under django-otp's row lock,
# so two requests racing with the same code succeed once) and throttles failures like TOTP.
BACKUP_DEVICE_NAME = "backup"
BACKUP_CODE_COUNT = 10
BACKUP_CODE_LENGTH = 10  # 50 bits of base32
BACKUP_CODE_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
BACKUP_CODES_LOW = 2  # at or below this many unused codes the user is told to make new ones


class BackupCodesUnavailable(Exception):
    """Backup codes back up an authenticator app: a user without a confirmed one gets none."""


def has_authenticator(user) -> bool:
    """True when the user has a confirmed TOTP device (backup codes alone are not an enrolment)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def new_backup_code() -> str:
    """Ten random lowercase base32 characters, never all digits (so never taken for a TOTP)."""
    while True:
        code = "".join(secrets.choice(BACKUP_CODE_ALPHABET) for _ in range(BACKUP_CODE_LENGTH))
        if not code.isdigit():
            return code


def format_backup_code(code: str) -> str:
    """``abcde fghij``: grouped for writing down; the verify form ignores spaces and hyphens."""
    return f"{code[:5]} {code[5:]}"


def is_backup_code_shape(token: str) -> bool:
    """A normalised token that can only be a backup code (a TOTP code is all digits)."""
    return not token.isdigit()


def backup_codes_remaining(user) -> int:
    """How many unused backup codes the user has."""
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def issue_backup_codes(user, *, request: HttpRequest | None = None) -> list[str]:
    """Replace the user's backup codes with ``BACKUP_CODE_COUNT`` fresh ones and return them.

    Every earlier code stops working. The plain codes exist only in the return value (and,
    as django-otp stores them, in the token table); nothing else keeps them.
    """
    if not has_authenticator(user):
        raise BackupCodesUnavailable
    with transaction.atomic():
        device, _ = StaticDevice.objects.select_for_update().get_or_create(
            user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
        )
        replaced, _ = StaticToken.objects.filter(device__user=user).delete()
        codes: set[str] = set()
        while len(codes) < BACKUP_CODE_COUNT:
            codes.add(new_backup_code())
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    security_events.record(
        security_events.Kind.MFA_BACKUP_CODES_ISSUED, user=user, request=request,
        count=BACKUP_CODE_COUNT, replaced=replaced,
    )
    return sorted(codes)


def record_backup_code_use(user, request: HttpRequest) -> int:
    """After a sign-in with a backup code: record it and return how many codes remain."""
    remaining = backup_codes_remaining(user)
    security_events.record(security_events.Kind.MFA_BACKUP_CODE_USED, user=user, request=request, remaining=remaining)
    return remaining


def remove_all_devices(user) -> int:
    """Reset MFA: delete the authenticator and the backup codes; the next sign-in enrols again.

    Each deleted device is recorded as ``mfa_device_removed`` (``accounts.security_signals``).
    """
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        for device in model.objects.filter(user=user):
            device.delete()
            removed += 1
    return removed


def remove_authenticators(user) -> int:
    """A lost or replaced phone: delete the user's authenticator apps and keep the backup codes,
    so the user enrols the new phone next (each deletion is a ``mfa_device_removed`` event)."""
    removed = 0
    for device in TOTPDevice.objects.filter(user=user):
        device.delete()
        removed += 1
    return removed


def confirm_with_authenticator(user, token: str) -> bool:
    """A current TOTP code (throttled, not replayable), for re-confirming before a sensitive step."""
    for device in TOTPDevice.objects.filter(user=user, confirmed=True):
        if verify_token(user, device.persistent_id, token) is not None:
            return True
    return False


def confirm_identity(request: HttpRequest, *, otp_token: str = "", password: str = "") -> bool:
    """Re-confirm the signed-in user with a current TOTP code or the password.

    The code goes through django-otp (throttled, replay-protected); the password through
    ``authenticate`` so django-axes counts failures and locks the (username, address) pair out.
    """
    user = request.user
    if otp_token:
        return confirm_with_authenticator(user, otp_token)
    if password:
        checked = authenticate(request, username=user.get_username(), password=password)
        return checked is not None and checked.pk == user.pk
    return False
