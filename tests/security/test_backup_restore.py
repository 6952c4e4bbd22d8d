"""Backup and restore drill (SECURITY.md RL-6; production procedure in docs/operations.md).

Synthetic people (Faker es_MX) are registered through the services, with documents, flags, a
correction (history rows) and access-log rows. The test database is dumped with ``pg_dump -Fc``
and restored with ``pg_restore`` into a fresh database; a separate ``manage.py shell`` process
pointed at the restored database (``DATABASE_URL``) then proves:

* every table has the same row count and the same checksum of its rows as the original;
* every person, document, flag and history row decrypts with the escrowed keys to what was typed;
* with any other key, nothing decrypts (the dump alone is useless);
* the append-only triggers (access log, history tables) survived and still refuse UPDATE/DELETE.

The restore time (RTO of this small drill) is printed. Point-in-time recovery (base backup + WAL
replay to a target time) needs WAL archiving on a cluster of our own and is not run here: see
docs/operations.md.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from faker import Faker

from privacy.access_log import log_access
from registry import services
from registry.models import Person
from registry.vocabulary import DocumentKind, VulnerabilityKind
from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.registry.factories import register_person

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="pg_dump / pg_restore need PostgreSQL",
    ),
]

PEOPLE = 15

CHECKSUMS = """
SELECT c.relname FROM pg_class c
WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace ORDER BY c.relname
"""

# Runs inside `manage.py shell -c` against the restored database; prints one JSON object.
PROBE = r"""
import json
from django.db import connection, transaction, DatabaseError
from registry.models import IdentityDocument, Person, Vulnerability

def tables():
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(__CHECKSUMS__)
        for (table,) in cursor.fetchall():
            cursor.execute(
                f'SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), \'\')) '
                f'FROM "{table}" t'
            )
            count, digest = cursor.fetchone()
            out[table] = [count, digest]
    return out

def refused(sql):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as exc:
        return "append-only" in str(exc)
    return False

result = {"database": connection.settings_dict["NAME"], "tables": tables()}
result["people"] = {
    str(p.pk): [p.given_names, p.first_surname, p.second_surname] for p in Person.objects.all()
}
result["documents"] = {str(d.person_id): d.number for d in IdentityDocument.objects.all()}
result["flags"] = sorted(v.details for v in Vulnerability.objects.filter(derived=False))
result["history_surnames"] = sorted({h.second_surname for h in Person.history.all()})
result["refused"] = {
    "accesslog_update": refused("UPDATE privacy_accesslog SET object_count = 0"),
    "accesslog_delete": refused("DELETE FROM privacy_accesslog"),
    "history_update": refused("UPDATE registry_historicalperson SET history_change_reason = 'x'"),
    "history_delete": refused("DELETE FROM registry_historicalperson"),
}
print("PROBE" + json.dumps(result))
""".replace("__CHECKSUMS__", repr(CHECKSUMS))  # noqa: S608 - table names from pg_class


def pg_env(**extra) -> dict:
    db = connection.settings_dict
    env = {
        **os.environ,
        "PGHOST": db.get("HOST") or "127.0.0.1",
        "PGPORT": str(db.get("PORT") or 5432),
        "PGUSER": db.get("USER") or "postgres",
        **extra,
    }
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return env


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - fixed programs, arguments built here
        command,
        capture_output=True,
        text=True,
        timeout=300,
        env=kwargs.pop("env", pg_env()),
        **kwargs,
    )


def database_url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host, port = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432
    return f"postgres://{db.get('USER') or 'postgres'}{password}@{host}:{port}/{name}"


def probe(name: str, keys: str) -> subprocess.CompletedProcess:
    env = pg_env(DATABASE_URL=database_url(name), FIELD_ENCRYPTION_KEYS=keys)
    return run(
        [sys.executable, "manage.py", "shell", "-c", PROBE], env=env, cwd=str(settings.BASE_DIR)
    )


def table_checksums() -> dict:
    out = {}
    with connection.cursor() as cursor:
        cursor.execute(CHECKSUMS)
        for (table,) in cursor.fetchall():
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) "  # noqa: S608
                f'FROM "{table}" t'
            )
            count, digest = cursor.fetchone()
            out[table] = [count, digest]
    return out


@pytest.fixture
def seeded(make_user):
    fake = Faker("es_MX")
    fake.seed_instance(6)
    place = PlaceFactory()
    registrar = make_user("registrar", places=[place], agency=AgencyFactory())
    typed = {}
    for index in range(PEOPLE):
        names = (fake.first_name(), fake.last_name(), fake.last_name())
        registration = register_person(
            registrar, place, given_names=names[0], first_surname=names[1], second_surname=names[2]
        )
        person = registration.person
        number = f"BK{index:07d}"
        services.add_document(
            registrar, person, kind=DocumentKind.PASSPORT, number=number, issuing_country="GT"
        )
        details = f"{fake.sentence(nb_words=6)} {index}"
        services.flag(
            registrar,
            person,
            VulnerabilityKind.SERIOUS_MEDICAL,
            details=details,
            registration=registration,
        )
        person = Person.objects.get(pk=person.pk)
        corrected = f"{names[2]}-corregido"
        services.update_person(
            registrar, person, {"second_surname": corrected}, expected_version=person.version
        )
        log_access(
            user=registrar, action="view", object_type="registry.person", object_ids=[person.pk]
        )
        typed[str(person.pk)] = {
            "names": [names[0], names[1], corrected],
            "number": number,
            "details": details,
            "original": names[2],
        }
    return typed


@pytest.fixture
def restored_name():
    name = f"{connection.settings_dict['NAME']}_restored"
    run(["dropdb", "--if-exists", name])
    yield name
    run(["dropdb", "--if-exists", name])


def test_backup_restores_into_a_fresh_database_that_decrypts_only_with_the_keys(
    seeded, restored_name, capsys
):
    assert connection.vendor == "postgresql"
    original = table_checksums()
    assert original["registry_person"][0] == PEOPLE
    assert original["privacy_accesslog"][0] >= PEOPLE
    assert original["registry_historicalperson"][0] >= 2 * PEOPLE

    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "frontera.dump"
        started = time.monotonic()
        done = run(
            ["pg_dump", "-Fc", "--no-owner", "-f", str(dump), connection.settings_dict["NAME"]]
        )
        assert done.returncode == 0, done.stderr
        dumped = time.monotonic()
        done = run(["createdb", "-T", "template0", restored_name])
        assert done.returncode == 0, done.stderr
        done = run(["pg_restore", "--no-owner", "--exit-on-error", "-d", restored_name, str(dump)])
        assert done.returncode == 0, done.stderr
        restored = time.monotonic()
        size = dump.stat().st_size

    done = probe(restored_name, os.environ["FIELD_ENCRYPTION_KEYS"])
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.split("PROBE", 1)[1])
    verified = time.monotonic()
    with capsys.disabled():
        print(
            f"\nRL-6 drill: dump {size} bytes in {dumped - started:.1f}s, restore "
            f"{restored - dumped:.1f}s, verification {verified - restored:.1f}s; "
            f"RTO (restore + verify) {verified - dumped:.1f}s for {len(original)} tables"
        )

    # The restored process really read the restored database, and it is the same data.
    assert result["database"] == restored_name
    assert result["tables"].keys() == original.keys()
    differing = sorted(t for t in original if result["tables"][t] != original[t])
    assert differing == []
    # Every person, document, flag and history row decrypts with the keys to what was typed.
    assert result["people"] == {pk: p["names"] for pk, p in seeded.items()}
    assert result["documents"] == {pk: p["number"] for pk, p in seeded.items()}
    assert result["flags"] == sorted(p["details"] for p in seeded.values())
    assert {p["original"] for p in seeded.values()} <= set(result["history_surnames"])
    # The append-only guards came back with the schema.
    assert result["refused"] == dict.fromkeys(result["refused"], True)
    assert len(result["refused"]) == 4

    # Without the escrowed key (same key id, other key material) nothing decrypts.
    key_id = os.environ["FIELD_ENCRYPTION_KEYS"].split(",")[0].split(":")[0]
    done = probe(restored_name, f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}")
    assert done.returncode != 0
    assert "DecryptionError" in done.stderr
    assert not any(p["names"][1] in done.stdout + done.stderr for p in seeded.values())
