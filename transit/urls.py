"""Transit pages, mounted at /transit/ by config/urls.py (the public card check is in
verify_urls.py, mounted at /verify/)."""

from django.urls import path

from transit.views import journey, permits, post, reports

app_name = "transit"

urlpatterns = [
    path("post/", post.post_home, name="post"),
    path("post/lookup/", post.lookup, name="lookup"),
    path("post/record/", post.record_movement, name="record"),
    path("post/head-count/", post.head_count, name="head-count"),
    path("people/<uuid:person_id>/permits/", permits.person_permits, name="person-permits"),
    path("people/<uuid:pk>/journey/", journey.journey, name="journey"),
    path("permits/<uuid:permit_id>/card/", permits.card, name="card"),
    path("permits/<uuid:permit_id>/card.pdf", permits.card_pdf, name="card-pdf"),
    path("permits/<uuid:permit_id>/status/", permits.change_status, name="permit-status"),
    path("overstays/", reports.overstay_list, name="overstays"),
    path("corridors/", reports.corridors, name="corridors"),
]
