"""The report-file purge runs inside the daily retention purge (privacy.retention_purge); the
separate beat schedule earlier versions created would now name a task that no longer exists."""

from django.db import migrations


def drop_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name="reports: purge expired files", task="reports.purge_expired").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(drop_schedule, migrations.RunPython.noop)]
