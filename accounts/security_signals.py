"""Receivers that turn authentication and MFA signals into security events (SECURITY.md LG-5).

Sources: Django's ``user_logged_in`` / ``user_logged_out`` / ``user_login_failed``, django-axes'
``user_locked_out``, and saves and deletes of django-otp devices (enrolment, a rejected code,
removal). django-otp has no "verification failed" signal: a failed check is the save that
raises the device's throttling failure count (``throttle_increment``); a success resets it to 0.
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.security_events import Kind, record

OTP_DEVICE_MODELS = (TOTPDevice, StaticDevice)


def _user_named(username: str | None):
    """The existing user with this username, or None (the typed value itself is never stored)."""
    if not username:
        return None
    return User.objects.filter(username=username).first()


@receiver(user_logged_in, dispatch_uid="accounts.security_signals.logged_in")
def on_logged_in(sender, request, user, **kwargs) -> None:
    record(Kind.LOGIN_SUCCEEDED, user=user, request=request)


@receiver(user_logged_out, dispatch_uid="accounts.security_signals.logged_out")
def on_logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        record(Kind.LOGGED_OUT, user=user, request=request)


@receiver(user_login_failed, dispatch_uid="accounts.security_signals.login_failed")
def on_login_failed(sender, credentials, request=None, **kwargs) -> None:
    """Password step failed: the user if the name exists, a keyed hash of what was typed."""
    typed = (credentials or {}).get("username") or ""
    record(Kind.LOGIN_FAILED, user=_user_named(typed), request=request, username=typed)


@receiver(user_locked_out, dispatch_uid="accounts.security_signals.locked_out")
def on_locked_out(sender, request, username=None, ip_address=None, **kwargs) -> None:
    """django-axes locked a username + address pair out."""
    record(Kind.LOCKED_OUT, user=_user_named(username), request=request, username=username or "")


def _device_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """Enrolment (a confirmed device is created) or a rejected code (failure count went up)."""
    if raw:
        return
    if created and instance.confirmed:
        record(Kind.MFA_ENROLLED, user=instance.user, device=sender.__name__)
    elif not created and getattr(instance, "throttling_failure_count", 0) > 0:
        record(
            Kind.MFA_FAILED, user=instance.user, device=sender.__name__,
            failures=instance.throttling_failure_count,
        )


def _device_deleted(sender, instance, **kwargs) -> None:
    record(Kind.MFA_DEVICE_REMOVED, user=instance.user, device=sender.__name__)


for _model in OTP_DEVICE_MODELS:
    post_save.connect(_device_saved, sender=_model, dispatch_uid=f"accounts.mfa_saved.{_model.__name__}")
    post_delete.connect(_device_deleted, sender=_model, dispatch_uid=f"accounts.mfa_deleted.{_model.__name__}")
