"""The officials' pages for people, mounted at /people/ by config/urls.py."""

from django.urls import path

from registry.views import duplicates, people, receipts, registration, review
from registry.views.duplicates import follows_merges

app_name = "registry"

urlpatterns = [
    path("", people.search, name="search"),
    path("register/", registration.register, name="register"),
    path("review/", review.queue, name="review-queue"),
    path("duplicates/", duplicates.queue, name="duplicates"),
    path("duplicates/<uuid:pk>/", duplicates.compare, name="duplicate"),
    path("merges/<uuid:pk>/undo/", duplicates.unmerge, name="unmerge"),
    path("registrations/<uuid:pk>/", registration.details, name="details"),
    path("registrations/<uuid:pk>/section/<slug:name>/", registration.section, name="details-section"),
    path("registrations/<uuid:pk>/duplicates/<uuid:other>/", registration.decide_duplicate, name="decide-duplicate"),
    path("registrations/<uuid:pk>/submit/", registration.submit, name="submit"),
    path("registrations/<uuid:pk>/review/", review.review, name="review"),
    # A merged record's pages lead to its survivor (old links and printed receipts keep working).
    path("<uuid:pk>/", follows_merges(people.person_detail), name="person"),
    path("<uuid:pk>/edit/", follows_merges(people.person_edit), name="person-edit"),
    path("<uuid:pk>/receipt/", follows_merges(receipts.receipt), name="receipt"),
    path("<uuid:pk>/receipt.pdf", follows_merges(receipts.receipt_pdf), name="receipt-pdf"),
]
