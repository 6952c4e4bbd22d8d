"""Root URL map. Every route is classified in tests/test_route_inventory.py (AC-1)."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from config import views

urlpatterns = [
    path("", views.home, name="home"),
    path("i18n/setlang/", set_language, name="set_language"),
    path("health/", include("config.health_urls")),
    path("accounts/", include("accounts.urls")),
    path("places/", include("crossings.urls")),
    path("people/", include("registry.urls")),
    path("transit/", include("transit.urls")),
    path("reports/", include("reports.urls")),
    path("privacy/", include("privacy.urls")),
    path("verify/", include("transit.verify_urls")),
    path("api/", include("api.urls")),
    path("admin/", admin.site.urls),
]

# Database unreachable -> a clean 503 with Retry-After, not a 500 (SECURITY.md RL-5).
handler500 = "config.middleware.server_error"

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
