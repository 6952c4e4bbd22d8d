"""Project-level pages that belong to no single app."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The landing page after login: shortcuts for the user's roles."""
    return render(request, "home.html")
