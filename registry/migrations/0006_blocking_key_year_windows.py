"""Blocking keys of imprecise births are written for every year the birth may be.

``registry.resolution.blocking`` now stores a person's year-bearing keys for their birth year ±
their own slack (year only: ±1, estimated age: ±3) and looks up only the query's own years, so
an exact birth probes one year instead of seven. Exact births keep the keys they have; people
with an imprecise birth get theirs written again here (decrypted in memory, never logged).
Reversing leaves the wider keys in place: the previous code ignores the extra years' keys
beyond ranking, so nothing is lost either way.
"""

from django.db import migrations


def rewrite_imprecise_keys(apps, schema_editor):
    from registry.resolution.blocking import clear_columns, stored_keys
    from registry.resolution.identity import from_fields

    Person = apps.get_model("registry", "Person")
    Key = apps.get_model("registry", "PersonBlockingKey")
    people = Person.objects.filter(birth_precision__in=["year", "estimated"], blocking_keys__isnull=False).distinct()
    for person in people.order_by("pk").iterator(chunk_size=500):
        identity = from_fields(
            person.pk, given_names=person.given_names, first_surname=person.first_surname,
            second_surname=person.second_surname, aliases=person.aliases, sex=person.sex,
            birth_date=person.birth_date, birth_year=person.birth_year, precision=person.birth_precision,
            nationality=str(person.nationality or ""),
        )
        keys, columns = stored_keys(identity), clear_columns(identity)
        Key.objects.filter(person_id=person.pk).exclude(key__in=keys).delete()
        existing = set(Key.objects.filter(person_id=person.pk).values_list("key", flat=True))
        Key.objects.filter(person_id=person.pk).update(**columns)
        Key.objects.bulk_create([Key(person_id=person.pk, key=k, **columns) for k in sorted(keys - existing)])


class Migration(migrations.Migration):
    dependencies = [("registry", "0005_blocking_key_birth")]

    operations = [migrations.RunPython(rewrite_imprecise_keys, migrations.RunPython.noop)]
