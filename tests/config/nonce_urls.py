"""A test-only URLconf: one page with an inline script that uses the CSP nonce."""

from django.http import HttpResponse
from django.template import engines
from django.urls import path

PAGE = '<!doctype html><script nonce="{{ request.csp_nonce }}">1</script>'


def inline_script(request):
    """Render a template that reads request.csp_nonce, as a page with inline script would."""
    return HttpResponse(engines["django"].from_string(PAGE).render(request=request))


urlpatterns = [path("inline/", inline_script)]
