"""Sign in, sign out, password change and the two-factor steps (mounted at /accounts/)."""

from django.urls import path

from accounts import session_views, views

app_name = "accounts"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("mfa/setup/", views.MFASetupView.as_view(), name="mfa_setup"),
    path("mfa/verify/", views.MFAVerifyView.as_view(), name="mfa_verify"),
    path("mfa/backup-codes/", views.BackupCodesView.as_view(), name="mfa_backup_codes"),
    path("mfa/replace/", views.MFAReplaceView.as_view(), name="mfa_replace"),
    path("sessions/", session_views.SessionsView.as_view(), name="sessions"),
]
