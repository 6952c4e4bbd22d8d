#!/usr/bin/env python3
"""Point-in-time-recovery drill (SECURITY.md RL-6): base backup + archived WAL, restore to T1.

    source /tmp/testenv.sh      # or the escrowed keys: the drill encrypts and decrypts with them
    uv run --frozen python scripts/pitr-drill.py [--json report.json] [--households 3] [--people 6]

Everything happens in a throw-away PostgreSQL cluster of its own (temp dir, free port, 127.0.0.1
and a private socket only; as the ``postgres`` OS user when run as root); the configured
``DATABASE_URL`` and the machine's main cluster are never used:

1. ``initdb`` with WAL archiving (``archive_command`` copies each segment into an archive dir);
2. ``migrate``, then synthetic data through the services: the demo loader (``seed_demo``);
3. ``pg_basebackup`` (plain, WAL streamed, SHA-256 manifest), checked with ``pg_verifybackup``;
4. more synthetic people (Faker es_MX: passport, flag, correction, access-log row each); T1 is
   recorded with the row count and checksum of every table; after T1 a person is registered and a
   "disaster" runs (every document number overwritten, every vulnerability flag deleted);
   ``pg_switch_wal()`` and a wait until the archiver has copied the segment; the source stops;
5. the base backup is copied into a new data dir with ``restore_command`` (from the archive),
   ``recovery_target_time = T1``, ``recovery_target_action = 'promote'`` and ``recovery.signal``,
   started on another port, and waited for until promoted;
6. a fresh process with the keys (``--probe``) reads the restored cluster: every table's count and
   checksum must equal T1's, everyone written before T1 decrypts to what was typed, the post-T1
   person is absent; a second process with other key material must fail with DecryptionError;
7. timings and the RTO (start of restore to verified) are printed; both clusters are stopped and
   the temp dir removed in all cases.

Exit status 0 only when every check passes; ``--json`` writes the whole report
(tests/security/test_pitr.py asserts on it). A script rather than a management command: Django
binds ``DATABASE_URL`` when settings load, and the drill has to create its cluster first and must
never connect to the configured database.

``--probe`` (internal, also used by tests/security/test_backup_restore.py) prints one JSON object
describing the database that ``DATABASE_URL`` points at, decrypting with the environment's keys.
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVER_TOOLS = (
    "initdb", "pg_ctl", "postgres", "pg_basebackup", "pg_verifybackup", "pg_waldump", "pg_controldata"
)
KEY_VARIABLES = ("FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY", "PSEUDONYM_KEY", "CARD_SIGNING_KEY")
DRILL_DB = "frontera_drill"
SUPERUSER = "drill"
MAIN_PORT = 5432
WAIT_SECONDS = 120
PROBE_MARK = "PITR-PROBE"

TABLES = (
    "SELECT c.relname FROM pg_class c "
    "WHERE c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace ORDER BY c.relname"
)


class DrillError(RuntimeError):
    """A step of the drill failed; the message says which and why."""


# --- shared with tests/security/test_backup_restore.py (Django already set up) -----------------


def table_checksums(cursor) -> dict[str, list]:
    """``{table: [row count, md5 of all rows as text, ordered]}`` for every table in ``public``."""
    cursor.execute(TABLES)
    out = {}
    for (table,) in cursor.fetchall():
        cursor.execute(
            "SELECT count(*), md5(coalesce(string_agg(t::text, chr(10) ORDER BY t::text), '')) "  # noqa: S608 - names from pg_class
            f'FROM "{table}" t'
        )
        count, digest = cursor.fetchone()
        out[table] = [count, digest]
    return out


def write_people(registrar, place, count: int, *, seed: int, prefix: str) -> dict[str, dict]:
    """Register ``count`` synthetic people (Faker es_MX) through the services, each with a
    passport, a flag with details, a correction of the second surname (history rows) and an
    access-log row. Returns what was typed, by person pk."""
    from faker import Faker

    from privacy.access_log import log_access
    from registry import services
    from registry.models import Person
    from registry.vocabulary import BirthPrecision, DocumentKind, LegalBasis, VulnerabilityKind

    fake = Faker("es_MX")
    fake.seed_instance(seed)
    typed = {}
    for index in range(count):
        names = (fake.first_name(), fake.last_name(), fake.last_name())
        identity = {
            "given_names": names[0], "first_surname": names[1], "second_surname": names[2],
            "sex": "f", "nationality": "GT", "birth_precision": BirthPrecision.EXACT,
            "birth_date": fake.date_of_birth(minimum_age=19, maximum_age=60),
        }
        registration = services.register(
            registrar, place=place, person_data=identity, legal_basis=LegalBasis.PUBLIC_INTEREST
        )
        person = registration.person
        number = f"{prefix}{index:07d}"
        services.add_document(
            registrar, person, kind=DocumentKind.PASSPORT, number=number, issuing_country="GT"
        )
        details = f"{fake.sentence(nb_words=6)} {prefix}{index}"
        services.flag(
            registrar, person, VulnerabilityKind.SERIOUS_MEDICAL, details=details,
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
            "names": [names[0], names[1], corrected], "number": number, "details": details,
            "original": names[2],
        }
    return typed


def _refused(sql: str) -> bool:
    """True when the append-only guard refuses ``sql`` (rolled back either way)."""
    from django.db import DatabaseError, connection, transaction

    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    except DatabaseError as exc:
        return "append-only" in str(exc)
    return False


def probe() -> dict:
    """Everything a fresh process reads back from ``DATABASE_URL``: the server, every table's count
    and checksum (first, before anything else touches the database), unapplied migrations, and
    every person, document, flag and history row decrypted with the environment's keys (a wrong
    key raises DecryptionError). Ends with the append-only guards, each attempt rolled back."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from registry.models import IdentityDocument, Person, Vulnerability

    with connection.cursor() as cursor:
        tables = table_checksums(cursor)
        cursor.execute(
            "SELECT inet_server_port(), pg_is_in_recovery(), "
            "(SELECT system_identifier FROM pg_control_system())"
        )
        port, in_recovery, system_identifier = cursor.fetchone()
    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    result = {
        "database": connection.settings_dict["NAME"], "port": port, "in_recovery": in_recovery,
        "system_identifier": str(system_identifier), "tables": tables,
        "unapplied_migrations": [str(migration) for migration, _ in plan],
    }
    result["people"] = {
        str(p.pk): [p.given_names, p.first_surname, p.second_surname] for p in Person.objects.all()
    }
    result["documents"] = {str(d.person_id): d.number for d in IdentityDocument.objects.all()}
    result["flags"] = sorted(v.details for v in Vulnerability.objects.filter(derived=False))
    result["history_surnames"] = sorted({h.second_surname for h in Person.history.all()})
    result["refused"] = {
        "accesslog_update": _refused("UPDATE privacy_accesslog SET object_count = 0"),
        "accesslog_delete": _refused("DELETE FROM privacy_accesslog"),
        "history_update": _refused(
            "UPDATE registry_historicalperson SET history_change_reason = 'x'"
        ),
        "history_delete": _refused("DELETE FROM registry_historicalperson"),
    }
    return result


def run_probe(database_url: str, keys: str, *, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run ``--probe`` in a fresh interpreter against ``database_url`` with ``keys``."""
    env = {**os.environ, "DATABASE_URL": database_url, "FIELD_ENCRYPTION_KEYS": keys}
    return subprocess.run(  # noqa: S603 - this interpreter, this script
        [sys.executable, str(Path(__file__).resolve()), "--probe"],
        capture_output=True, text=True, timeout=timeout, env=env, cwd=str(REPO),
    )


def probe_result(done: subprocess.CompletedProcess) -> dict:
    """The JSON object a successful probe printed."""
    if done.returncode != 0 or PROBE_MARK not in done.stdout:
        raise DrillError(f"probe failed ({done.returncode}): {done.stderr[-3000:]}")
    return json.JSONDecoder().raw_decode(done.stdout.split(PROBE_MARK, 1)[1])[0]


def wrong_keys(keys: str) -> str:
    """The same key id as the first escrowed key, with other (random) key material."""
    key_id = keys.split(",")[0].split(":")[0]
    return f"{key_id}:{base64.b64encode(os.urandom(32)).decode()}"


# --- the throw-away clusters ---------------------------------------------------------------------


def find_bindir() -> Path | None:
    """The PostgreSQL server binaries: ``$PG_BINDIR``, the newest /usr/lib/postgresql/*/bin, or
    the directory of ``initdb`` on PATH. None when the server is not installed."""
    candidates = [Path(os.environ["PG_BINDIR"])] if os.environ.get("PG_BINDIR") else []
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0, reverse=True)
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb")).parent)
    for candidate in candidates:
        if all((candidate / tool).is_file() for tool in SERVER_TOOLS):
            return candidate
    return None


def run(command: list, *, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
    """Run a PostgreSQL tool as the cluster owner (``postgres`` when we are root: the server
    refuses to run as root)."""
    command = [str(part) for part in command]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)  # noqa: S603
    if check and done.returncode != 0:
        raise DrillError(f"{' '.join(command)} failed: {(done.stderr or done.stdout)[-2000:]}")
    return done


def postgres_user_exists() -> bool:
    import pwd

    try:
        return bool(pwd.getpwnam("postgres"))
    except KeyError:
        return False


def owned_dir(path: Path) -> Path:
    """``path`` created (0700) and owned by the cluster owner."""
    path.mkdir(mode=0o700, exist_ok=True)
    if os.geteuid() == 0:
        import pwd

        owner = pwd.getpwnam("postgres")
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return path


def free_port(taken: set[int]) -> int:
    """A TCP port free on 127.0.0.1 right now, never the main cluster's."""
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port != MAIN_PORT and port not in taken:
            return port


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class Cluster:
    """One throw-away cluster in the drill's temp dir, on 127.0.0.1 and a private socket only."""

    bindir: Path
    data: Path
    port: int
    password: str

    @property
    def log(self) -> Path:
        return self.data.parent / f"{self.data.name}.log"

    def url(self, database: str = DRILL_DB) -> str:
        return f"postgres://{SUPERUSER}:{self.password}@127.0.0.1:{self.port}/{database}"

    def configure(self, filename: str, settings: dict) -> None:
        lines = [f"{name} = '{value}'" for name, value in settings.items()]
        with (self.data / filename).open("a") as conf:
            conf.write("\n# pitr-drill\n" + "\n".join(lines) + "\n")

    def start(self) -> None:
        run([self.bindir / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", WAIT_SECONDS, "start"])

    def stop(self, mode: str = "fast") -> None:
        if (self.data / "postmaster.pid").exists():
            run([self.bindir / "pg_ctl", "-D", self.data, "-m", mode, "-w", "stop"], check=False)

    def connect(self, database: str = DRILL_DB):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=5)


def create_source(bindir: Path, workdir: Path, archive: Path, port: int) -> Cluster:
    """initdb + WAL archiving; started; the drill database created."""
    password = secrets.token_urlsafe(24)
    pwfile = workdir / "pwfile"
    pwfile.write_text(password)
    if os.geteuid() == 0:  # initdb reads it as the cluster owner
        shutil.chown(pwfile, "postgres")
    cluster = Cluster(bindir, workdir / "source", port, password)
    run([
        bindir / "initdb", "-D", cluster.data, "-U", SUPERUSER, f"--pwfile={pwfile}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
        "--data-checksums", "--no-instructions", "--no-sync",
        "--wal-segsize=1",  # 1 MB segments: less to archive, copy and delete than 16 MB ones
    ])
    pwfile.unlink()
    cluster.configure("postgresql.conf", {
        "listen_addresses": "127.0.0.1", "port": port, "unix_socket_directories": workdir,
        "timezone": "UTC", "log_timezone": "UTC", "wal_level": "replica", "archive_mode": "on",
        "archive_command": f"test ! -f {archive}/%f && cp %p {archive}/%f",
        # Throw-away cluster: no fsync (the WAL written and archived is the same, only an OS
        # crash could lose it).
        "fsync": "off",
    })
    cluster.start()
    with cluster.connect("postgres") as conn:
        # FILE_COPY (PostgreSQL 15+): a few WAL records instead of the whole template in WAL
        strategy = " STRATEGY = FILE_COPY" if conn.info.server_version >= 150000 else ""
        conn.execute(f'CREATE DATABASE "{DRILL_DB}"{strategy}')
    return cluster


def base_backup(cluster: Cluster, workdir: Path) -> dict:
    """pg_basebackup (plain, WAL streamed, SHA-256 manifest) checked by pg_verifybackup."""
    target = workdir / "base"
    run([
        cluster.bindir / "pg_basebackup", "-h", workdir, "-p", cluster.port, "-U", SUPERUSER,
        "-D", target, "-Fp", "-X", "stream", "--checkpoint=fast", "--manifest-checksums=SHA256",
    ])
    verified = run([cluster.bindir / "pg_verifybackup", target])
    size = sum(f.stat().st_size for f in target.rglob("*") if f.is_file())
    return {"path": str(target), "bytes": size, "verifybackup": verified.stdout.strip()}


def switch_and_archive(cluster: Cluster, archive: Path) -> str:
    """Close the current WAL segment and wait until the archiver has copied it."""
    with cluster.connect() as conn:
        segment = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()[0]
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            done, failed = conn.execute(
                "SELECT last_archived_wal, last_failed_wal FROM pg_stat_archiver"
            ).fetchone()
            if done and done >= segment and (archive / segment).is_file():
                return segment
            time.sleep(0.1)
    raise DrillError(f"WAL segment {segment} not archived in {WAIT_SECONDS}s (last failed {failed})")


def restore(source: Cluster, workdir: Path, archive: Path, t1: str, port: int) -> Cluster:
    """The base backup into a new data dir, replaying archived WAL up to T1, then promoted."""
    cluster = Cluster(source.bindir, workdir / "restored", port, source.password)
    run(["cp", "-a", workdir / "base", cluster.data])
    cluster.configure("postgresql.auto.conf", {
        "port": port,
        "archive_mode": "off",  # the restored cluster must not write into the source's archive
        "restore_command": f"cp {archive}/%f %p",
        "recovery_target_time": t1,
        "recovery_target_action": "promote",
    })
    run(["touch", cluster.data / "recovery.signal"])
    cluster.start()
    deadline = time.monotonic() + WAIT_SECONDS
    with cluster.connect() as conn:
        while conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
            if time.monotonic() > deadline:
                raise DrillError(f"still in recovery after {WAIT_SECONDS}s; see {cluster.log}")
            time.sleep(0.1)
    return cluster


def recovery_log(cluster: Cluster) -> dict:
    """What the restored server logged about the recovery."""
    text = cluster.log.read_text(errors="replace")
    stop = re.search(r"recovery stopping before commit of transaction \d+, time ([^\n]+)", text)
    return {
        "segments_from_archive": len(re.findall(r'restored log file "[0-9A-F]{24}" from archive', text)),
        "stopped_before_commit_at": stop.group(1).strip() if stop else None,
        "archive_recovery_complete": "archive recovery complete" in text,
    }


# --- the drill ---------------------------------------------------------------------------------


@contextmanager
def timed(timings: dict, name: str):
    started = time.monotonic()
    try:
        yield
    finally:
        timings[name] = round(time.monotonic() - started, 2)


def setup_django(database_url: str) -> None:
    """Django pointed at the drill's cluster (and nowhere else) before anything connects."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(REPO))
    import logging

    import django

    django.setup()
    logging.getLogger("celery").setLevel(logging.WARNING)  # eager tasks: one line per person


def seed_before_backup(households: int) -> None:
    """Schema, reference places and the demo population (accounts, people, movements)."""
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_reference_data", stdout=io.StringIO())
    settings.DEMO_REGISTRY_HOUSEHOLDS = households
    call_command("seed_demo", force=True, stdout=io.StringIO())


def demo_registrar():
    from accounts import roles
    from accounts.demo import REGISTRAR_PLACE_CODE
    from accounts.models import User
    from crossings.models import Place

    return User.objects.get(username=roles.REGISTRAR), Place.objects.get(code=REGISTRAR_PLACE_CODE)


def checksums_now() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        return table_checksums(cursor)


def record_t1(cluster: Cluster) -> tuple[str, dict]:
    """T1 (server clock, after the last commit to keep) and every table's count and checksum."""
    with cluster.connect() as conn:
        t1 = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    return t1.isoformat(), checksums_now()


def disaster() -> dict:
    """A mistaken mass UPDATE (every document number set to the first one) and a mass DELETE
    (every vulnerability flag), committed after T1."""
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE registry_identitydocument SET number = "
            "(SELECT number FROM registry_identitydocument ORDER BY id LIMIT 1)"
        )
        overwritten = cursor.rowcount
        cursor.execute("DELETE FROM registry_vulnerability")
        return {"documents_overwritten": overwritten, "flags_deleted": cursor.rowcount}


def build_source(report: dict, args, bindir: Path, workdir: Path, archive: Path) -> Cluster:
    """Steps 1–4: cluster, data, base backup, data up to T1, the disaster, WAL archived."""
    timings = report["timings"]
    with timed(timings, "initdb_and_start"):
        source = create_source(bindir, workdir, archive, free_port(set()))
    report["source_port"] = source.port
    with timed(timings, "migrate_and_demo_data"):
        setup_django(source.url())
        seed_before_backup(args.households)
    report["at_base_backup"] = {t: c for t, (c, _) in checksums_now().items()}
    with timed(timings, "base_backup_and_verify"):
        report["base_backup"] = base_backup(source, workdir)
    with timed(timings, "writes_after_backup"):
        registrar, place = demo_registrar()
        report["typed"] = write_people(registrar, place, args.people, seed=args.seed, prefix="PT")
    report["t1"], report["at_t1"] = record_t1(source)
    with timed(timings, "disaster"):
        late = write_people(registrar, place, 1, seed=args.seed + 1, prefix="LATE")
        report["after_t1_person"] = next(iter(late))
        report["disaster"] = disaster()
        after = checksums_now()
        report["disaster"]["tables_changed"] = sorted(t for t in after if after[t] != report["at_t1"].get(t))
        report["disaster"]["counts_after"] = {t: c for t, (c, _) in after.items()}
    with timed(timings, "wal_switch_and_archive"):
        report["last_segment"] = switch_and_archive(source, archive)
    from django.db import connections

    connections.close_all()
    source.stop()  # the disaster host is gone: the restore needs only the backup and the archive
    return source


def verify(report: dict, restored: Cluster, keys: str) -> dict:
    """Read the restored cluster in a fresh process with the keys; compare with T1."""
    result = probe_result(run_probe(restored.url(), keys))
    at_t1, typed = report["at_t1"], report["typed"]
    checks = {
        "restored_port": result["port"] == restored.port,
        "promoted": result["in_recovery"] is False,
        "same_system_identifier": result["system_identifier"] == report["system_identifier"],
        "no_unapplied_migrations": result["unapplied_migrations"] == [],
        "same_tables": sorted(result["tables"]) == sorted(at_t1),
        "counts_and_checksums_equal_t1": result["tables"] == at_t1,
        "people_after_backup_decrypt": all(result["people"].get(pk) == p["names"] for pk, p in typed.items()),
        "documents_decrypt_disaster_undone": all(result["documents"].get(pk) == p["number"] for pk, p in typed.items()),
        "flags_restored": {p["details"] for p in typed.values()} <= set(result["flags"]),
        "history_restored": {p["original"] for p in typed.values()} <= set(result["history_surnames"]),
        "after_t1_person_absent": report["after_t1_person"] not in result["people"],
        "append_only_guards": all(result["refused"].values()),
    }
    report["restored"] = {k: result[k] for k in ("tables", "unapplied_migrations", "refused")}
    report["restored"]["people"] = len(result["people"])
    report["restored"]["after_t1_person_present"] = report["after_t1_person"] in result["people"]
    report["restored"]["typed"] = {  # the drill's own synthetic people, as read back
        pk: {"names": result["people"].get(pk), "number": result["documents"].get(pk)} for pk in typed
    }
    return checks


def wrong_key_check(report: dict, restored: Cluster, keys: str) -> dict:
    """Other key material under the same key id: the probe must fail and print no name."""
    done = run_probe(restored.url(), wrong_keys(keys))
    output = done.stdout + done.stderr
    leaked = [pk for pk, p in report["typed"].items() if p["names"][1] in output or p["number"] in output]
    report["wrong_key"] = {
        "returncode": done.returncode,
        "decryption_error": "DecryptionError" in done.stderr,
        "names_leaked": leaked,
    }
    return {"wrong_key_fails_with_decryption_error": done.returncode != 0 and "DecryptionError" in done.stderr and not leaked}


def restore_and_verify(report: dict, source: Cluster, workdir: Path, archive: Path) -> None:
    """Steps 5–6; the RTO runs from the start of the restore to the verified data."""
    timings, keys = report["timings"], os.environ["FIELD_ENCRYPTION_KEYS"]
    started = time.monotonic()
    with timed(timings, "restore_and_recovery"):
        restored = restore(source, workdir, archive, report["t1"], free_port({source.port}))
    report["restored_port"] = restored.port
    report["recovery"] = recovery_log(restored)
    with timed(timings, "verification"):
        checks = verify(report, restored, keys)
    report["rto_seconds"] = round(time.monotonic() - started, 2)
    with timed(timings, "wrong_key_check"):
        checks |= wrong_key_check(report, restored, keys)
    checks["recovery_stopped_at_t1"] = bool(report["recovery"]["stopped_before_commit_at"])
    checks["wal_replayed_from_archive"] = report["recovery"]["segments_from_archive"] > 0
    checks["base_backup_verified"] = "successfully verified" in report["base_backup"]["verifybackup"]
    checks["disaster_changed_data"] = {"registry_identitydocument", "registry_vulnerability"} <= set(report["disaster"]["tables_changed"])
    report["checks"] = checks


def system_identifier(cluster: Cluster) -> str:
    done = run([cluster.bindir / "pg_controldata", cluster.data], check=False)
    found = re.search(r"Database system identifier:\s+(\d+)", done.stdout)
    return found.group(1) if found else ""


def drill(args, report: dict) -> None:
    """Steps 1–7 into ``report``; cleanup in all cases."""
    bindir = find_bindir()
    if bindir is None:
        raise DrillError("PostgreSQL server binaries not found (set PG_BINDIR)")
    missing = [name for name in KEY_VARIABLES if not os.environ.get(name)]
    if missing:
        raise DrillError(f"keys missing from the environment: {', '.join(missing)}")
    if os.geteuid() == 0 and not (shutil.which("runuser") and postgres_user_exists()):
        raise DrillError("run as root needs runuser and a 'postgres' OS user to own the clusters")
    workdir = owned_dir(Path(tempfile.mkdtemp(prefix="frontera-pitr-")))
    report.update(bindir=str(bindir), workdir=str(workdir), timings={})
    started = time.monotonic()

    def terminated(*_) -> None:
        # SIGTERM (a CI or test timeout): the clusters are daemons and would outlive the drill.
        # Clean up right here; an exception raised instead can be swallowed by library code.
        cleanup(workdir, report)
        os._exit(143)

    signal.signal(signal.SIGTERM, terminated)
    try:
        archive = owned_dir(workdir / "wal-archive")
        source = build_source(report, args, bindir, workdir, archive)
        report["system_identifier"] = system_identifier(source)
        restore_and_verify(report, source, workdir, archive)
    finally:
        with timed(report["timings"], "cleanup"):
            cleanup(workdir, report)
        report["timings"]["total"] = round(time.monotonic() - started, 2)


def cleanup(workdir: Path, report: dict) -> None:
    """Stop every cluster of the drill (found by data dir, also half-started ones), remove the
    temp dir; the main cluster is never touched."""
    for pid_file in sorted(workdir.glob("*/postmaster.pid")):
        # immediate: nothing of either cluster is kept, so no shutdown checkpoint is needed
        Cluster(Path(report["bindir"]), pid_file.parent, 0, "").stop("immediate")
    shutil.rmtree(workdir, ignore_errors=True)
    ports = [p for p in (report.get("source_port"), report.get("restored_port")) if p]
    report["cleaned_up"] = not workdir.exists() and not any(port_open(p) for p in ports)


def print_summary(report: dict) -> None:
    timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in report["timings"].items())
    people = report.get("at_t1", {}).get("registry_person", ["?"])[0]
    print(f"pitr-drill: T1 {report.get('t1')}; {people} people at T1, {len(report.get('at_t1', {}))} tables")
    print(f"pitr-drill: recovery {report.get('recovery')}")
    print(f"pitr-drill: timings: {timings}")
    for name, ok in report.get("checks", {}).items():
        print(f"pitr-drill: {'ok  ' if ok else 'FAIL'} {name}")
    print(f"pitr-drill: RTO {report.get('rto_seconds')}s (restore start to verified data)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--households", type=int, default=3, help="demo households before the backup")
    parser.add_argument("--people", type=int, default=6, help="people written between backup and T1")
    parser.add_argument("--seed", type=int, default=2026, help="Faker seed")
    parser.add_argument("--probe", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.probe:
        setup_django(os.environ["DATABASE_URL"])
        print(PROBE_MARK + json.dumps(probe()))
        return 0
    report: dict = {}
    try:
        drill(args, report)
    except DrillError as exc:
        report["error"] = str(exc)
        print(f"pitr-drill: FAILED: {exc}", file=sys.stderr)
    finally:
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
    print_summary(report)
    return 0 if report.get("checks") and all(report["checks"].values()) and report.get("cleaned_up") else 1


if __name__ == "__main__":
    sys.exit(main())
