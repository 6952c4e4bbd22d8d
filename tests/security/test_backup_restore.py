"""Backup and restore drill (SECURITY.md RL-6; production procedure in docs/operations.md).

Synthetic people (Faker es_MX) are registered through the services, with documents, flags, a
correction (history rows) and access-log rows. The test database is dumped with ``pg_dump -Fc``
and restored with ``pg_restore`` into a fresh database; a separate process pointed at the restored
database (``DATABASE_URL``) then proves:

* every table has the same row count and the same checksum of its rows as the original;
* every person, document, flag and history row decrypts with the escrowed keys to what was typed;
* with any other key, nothing decrypts (the dump alone is useless);
* the append-only triggers (access log, history tables) survived and still refuse UPDATE/DELETE.

The restore time (RTO of this small drill) is printed. The writer of the synthetic people, the
per-table checksums and that separate process (``--probe``) are shared with the point-in-time
recovery drill, ``scripts/pitr-drill.py`` (base backup + WAL replay to T1 on a throw-away cluster
of its own), which tests/security/test_pitr.py runs.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from django.db import connection

from tests.factories.accounts import AgencyFactory
from tests.factories.crossings import PlaceFactory
from tests.security.test_pitr import drill

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="pg_dump / pg_restore need PostgreSQL",
    ),
]

PEOPLE = 15


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
    """The drill's probe (scripts/pitr-drill.py --probe) in a fresh process on database ``name``."""
    return drill.run_probe(database_url(name), keys)


def table_checksums() -> dict:
    with connection.cursor() as cursor:
        return drill.table_checksums(cursor)


@pytest.fixture
def seeded(make_user):
    place = PlaceFactory()
    registrar = make_user("registrar", places=[place], agency=AgencyFactory())
    return drill.write_people(registrar, place, PEOPLE, seed=6, prefix="BK")


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
    result = drill.probe_result(done)
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
    done = probe(restored_name, drill.wrong_keys(os.environ["FIELD_ENCRYPTION_KEYS"]))
    assert done.returncode != 0
    assert "DecryptionError" in done.stderr
    assert not any(p["names"][1] in done.stdout + done.stderr for p in seeded.values())
