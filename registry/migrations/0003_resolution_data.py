"""Identity resolution data: stored duplicate reasons become codes; blocking keys backfilled."""

from django.db import migrations


def reasons_to_codes(apps, schema_editor):
    from registry.resolution.reasons import to_code

    DuplicateCandidate = apps.get_model("registry", "DuplicateCandidate")
    for pair in DuplicateCandidate.objects.exclude(reasons=[]).iterator():
        codes = [to_code(r) for r in pair.reasons]
        if codes != pair.reasons:
            DuplicateCandidate.objects.filter(pk=pair.pk).update(reasons=codes)


def backfill_blocking_keys(apps, schema_editor):
    from registry.resolution.blocking import stored_keys
    from registry.resolution.identity import from_fields

    Person = apps.get_model("registry", "Person")
    Key = apps.get_model("registry", "PersonBlockingKey")
    for person in Person.objects.filter(status="active").iterator(chunk_size=500):
        identity = from_fields(
            person.pk, given_names=person.given_names, first_surname=person.first_surname,
            second_surname=person.second_surname, aliases=person.aliases, sex=person.sex,
            birth_date=person.birth_date, birth_year=person.birth_year, precision=person.birth_precision,
            nationality=str(person.nationality or ""),
        )
        Key.objects.bulk_create([Key(person_id=person.pk, key=k) for k in stored_keys(identity)], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_resolution")]

    operations = [
        migrations.RunPython(reasons_to_codes, migrations.RunPython.noop),
        migrations.RunPython(backfill_blocking_keys, migrations.RunPython.noop),
    ]
