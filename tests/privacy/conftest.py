"""Fixtures for the privacy primitives: a throwaway encrypted model, key rings, a real Redis."""

from __future__ import annotations

import base64
import os
import socket
import subprocess
import time

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from privacy.fields import (
    EncryptedCharField,
    EncryptedDateField,
    EncryptedJSONField,
    EncryptedTextField,
)

CANARY = "Canary Ñandú"


def make_key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def secret_model(db):
    """A real table with every encrypted field type, created for one test and rolled back after.

    No production model needs encryption inside the privacy app itself, so the fields are
    exercised through this model, built in an isolated app registry.
    """
    with isolate_apps("privacy"):

        class SecretNote(models.Model):
            name = EncryptedCharField(max_length=20, blank=True, default="")
            text = EncryptedTextField(null=True, blank=True)
            data = EncryptedJSONField(null=True, blank=True)
            born = EncryptedDateField(null=True, blank=True)

            class Meta:
                app_label = "privacy"
                db_table = "privacy_test_secretnote"

            def __str__(self) -> str:
                return f"note {self.pk}"

        with connection.schema_editor() as editor:
            editor.create_model(SecretNote)
        yield SecretNote


def raw_column(column: str, table: str = "privacy_test_secretnote") -> list:
    """What a database dump would show for one column."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} ORDER BY id")  # noqa: S608 - fixed test identifiers
        return [row[0] for row in cursor.fetchall()]


def set_raw(pk: int, column: str, value, table: str = "privacy_test_secretnote") -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [value, pk])  # noqa: S608


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A private redis-server process that a test can stop and start again on the same port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    yield server
    server.stop()


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()
