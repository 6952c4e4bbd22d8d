"""The officials' pages for people, mounted at /people/ by config/urls.py."""

from django.urls import path

from registry.views import people, receipts, registration, review

app_name = "registry"

urlpatterns = [
    path("", people.search, name="search"),
    path("register/", registration.register, name="register"),
    path("review/", review.queue, name="review-queue"),
    path("registrations/<uuid:pk>/", registration.details, name="details"),
    path("registrations/<uuid:pk>/section/<slug:name>/", registration.section, name="details-section"),
    path("registrations/<uuid:pk>/duplicates/<uuid:other>/", registration.decide_duplicate, name="decide-duplicate"),
    path("registrations/<uuid:pk>/submit/", registration.submit, name="submit"),
    path("registrations/<uuid:pk>/review/", review.review, name="review"),
    path("<uuid:pk>/", people.person_detail, name="person"),
    path("<uuid:pk>/edit/", people.person_edit, name="person-edit"),
    path("<uuid:pk>/receipt/", receipts.receipt, name="receipt"),
    path("<uuid:pk>/receipt.pdf", receipts.receipt_pdf, name="receipt-pdf"),
]
