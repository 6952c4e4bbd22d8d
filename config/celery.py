"""The Celery application. Tasks are thin: they take ids and call a service (DESIGN.md rule 7)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("frontera")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
