"""Point-in-time recovery drill (SECURITY.md RL-6): runs ``scripts/pitr-drill.py`` and checks its
report (procedure and figures in docs/operations.md).

The drill builds its own throw-away cluster with WAL archiving on a free port (never the test
database's cluster): base backup + ``pg_verifybackup``, more writes, T1, a disaster after T1, WAL
archived, restore of the base backup replaying archived WAL to T1 on another port, verification in
a fresh process with the keys and a failure with other key material, RTO printed, everything
removed. It needs only the PostgreSQL server binaries (initdb, pg_ctl, postgres, pg_basebackup,
pg_verifybackup), not the test database.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

DRILL_PATH = Path(settings.BASE_DIR) / "scripts" / "pitr-drill.py"


def load_drill():
    """The drill script as a module (its name has a hyphen, like the other scripts)."""
    if "pitr_drill" in sys.modules:
        return sys.modules["pitr_drill"]
    spec = importlib.util.spec_from_file_location("pitr_drill", DRILL_PATH)
    module = importlib.util.module_from_spec(spec)
    sys.modules["pitr_drill"] = module  # dataclasses look their module up while it executes
    spec.loader.exec_module(module)
    return module


drill = load_drill()

pytestmark = pytest.mark.skipif(
    drill.find_bindir() is None,
    reason="PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, pg_verifybackup) not installed",
)

PEOPLE = 4  # written between the base backup and T1: they can only come back from archived WAL
TIMEOUT = 600


def closed(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) != 0


def run_drill(report_path: Path) -> tuple[subprocess.CompletedProcess, dict]:
    """Run the drill in its own process; its exit status, output and JSON report. On a timeout
    it gets SIGTERM, not SIGKILL, so that it still stops its clusters and removes its files."""
    command = [sys.executable, str(DRILL_PATH), "--json", str(report_path), "--people", str(PEOPLE)]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=str(settings.BASE_DIR), env=dict(os.environ),
    ) as process:
        try:
            stdout, stderr = process.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()
            stdout, stderr = process.communicate(timeout=120)
            pytest.fail(f"the drill took over {TIMEOUT}s: {stdout[-2000:]} {stderr[-2000:]}")
    done = subprocess.CompletedProcess(command, process.returncode, stdout, stderr)
    return done, json.loads(report_path.read_text())


def test_pitr_drill_restores_t1_from_base_backup_and_wal_decrypting_only_with_the_keys(
    tmp_path, capsys
):
    # One test, one drill (~1 minute): xdist would run a module fixture once per worker.
    done, report = run_drill(tmp_path / "report.json")
    with capsys.disabled():
        print("\n" + "\n".join(line for line in done.stdout.splitlines() if "pitr-drill:" in line))
    assert "error" not in report, (report["error"], done.stderr[-3000:])
    assert [name for name, ok in report["checks"].items() if not ok] == []
    assert done.returncode == 0, done.stderr[-3000:]
    assert_restored_to_t1(report)
    assert_decrypts_only_with_the_keys(report)
    assert_rto_printed_and_nothing_left(done, report)


def assert_restored_to_t1(report: dict) -> None:
    # Its own clusters, never the machine's main one (nor the test database's).
    test_port = int(settings.DATABASES["default"].get("PORT") or 5432)
    ports = {report["source_port"], report["restored_port"]}
    assert len(ports) == 2 and not ports & {5432, test_port}
    # The base backup was verified against its manifest.
    assert report["base_backup"]["verifybackup"] == "backup successfully verified"
    assert report["base_backup"]["bytes"] > 1_000_000

    # The people written after the base backup exist at T1, so the restore needed the WAL.
    at_backup, at_t1 = report["at_base_backup"], report["at_t1"]
    assert at_t1["registry_person"][0] == at_backup["registry_person"] + PEOPLE
    assert report["recovery"]["segments_from_archive"] >= 1
    assert report["recovery"]["archive_recovery_complete"] is True
    # Recovery stopped at the first commit after T1 (the post-T1 writes and the disaster).
    t1 = dt.datetime.fromisoformat(report["t1"])
    stopped = dt.datetime.fromisoformat(report["recovery"]["stopped_before_commit_at"])
    assert t1 < stopped < t1 + dt.timedelta(minutes=5)

    # The disaster really changed the data after T1 ...
    assert report["disaster"]["documents_overwritten"] >= PEOPLE
    assert report["disaster"]["flags_deleted"] >= PEOPLE
    assert {"registry_identitydocument", "registry_vulnerability", "registry_person"} <= set(
        report["disaster"]["tables_changed"]
    )
    # ... and the restored cluster has every table exactly as at T1: counts and checksums.
    restored = report["restored"]["tables"]
    assert restored.keys() == at_t1.keys() and len(at_t1) > 50
    assert sorted(t for t in at_t1 if restored[t] != at_t1[t]) == []
    assert report["restored"]["people"] == at_t1["registry_person"][0]
    # The person registered after T1 (before the disaster) is not there: replay stopped at T1.
    assert report["disaster"]["counts_after"]["registry_person"] == at_t1["registry_person"][0] + 1
    assert report["restored"]["after_t1_person_present"] is False
    assert report["restored"]["unapplied_migrations"] == []
    assert report["restored"]["refused"] == dict.fromkeys(report["restored"]["refused"], True)


def assert_decrypts_only_with_the_keys(report: dict) -> None:
    typed, read_back = report["typed"], report["restored"]["typed"]
    assert len(typed) == PEOPLE
    assert read_back == {pk: {"names": p["names"], "number": p["number"]} for pk, p in typed.items()}
    # Other key material under the same key id: the probe fails closed and prints nothing typed.
    assert report["wrong_key"]["returncode"] != 0
    assert report["wrong_key"]["decryption_error"] is True
    assert report["wrong_key"]["names_leaked"] == []


def assert_rto_printed_and_nothing_left(done: subprocess.CompletedProcess, report: dict) -> None:
    assert 0 < report["rto_seconds"] < report["timings"]["total"]
    assert f"RTO {report['rto_seconds']}s" in done.stdout
    assert {"base_backup_and_verify", "restore_and_recovery", "verification"} <= report["timings"].keys()
    assert report["cleaned_up"] is True
    assert not Path(report["workdir"]).exists()
    assert closed(report["source_port"]) and closed(report["restored_port"])
