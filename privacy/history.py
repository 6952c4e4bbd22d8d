"""Who, why and under which request a change was made: attribution for the change history.

On PostgreSQL the history rows are written by triggers (``privacy.history_triggers``, SECURITY.md
LG-2); they read the attribution from transaction-local settings. This module sets them: an
execute wrapper on every PostgreSQL connection runs, right before each statement that writes a
tracked table, one ``set_config(..., true)`` per value with

* the user and reason of the innermost ``history_context(actor, reason)`` (or of
  ``save_with_history``), else the instance's ``_history_user`` / ``_change_reason`` (the
  django-simple-history convention, also used by the admin), else the request's user
  (``HistoryContextMiddleware``); empty when there is none — the trigger then records the write as
  ``unattributed``;
* the request id (django-structlog's, bound for every request and task);
* the application's clock, so history dates follow ``timezone.now()`` as simple-history's did.

The values are set again before every such statement and are local to the transaction (a lone
statement in autocommit is wrapped in its own transaction), so nothing outlives the write it was
meant for: one request's actor can never be read by the next request on a pooled connection.

On SQLite (the zero-install demo) there are no triggers; simple-history's Python writer records
``save()`` and ``delete()`` from the same ``_history_user`` / ``_change_reason`` attributes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from functools import cache

import structlog
from django.db import transaction
from django.utils import timezone

USER, REASON, REQUEST_ID, DATE = (
    "frontera.history_user_id",
    "frontera.history_reason",
    "frontera.history_request_id",
    "frontera.history_date",
)
SET_SQL = (
    f"SELECT set_config('{USER}', %s, true), set_config('{REASON}', %s, true), "
    f"set_config('{REQUEST_ID}', %s, true), set_config('{DATE}', %s, true)"
)
_REQUEST_ID = re.compile(r"[^A-Za-z0-9._:-]")
# Data-changing statements only: DDL (CREATE INDEX CONCURRENTLY...) must never be wrapped.
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|MERGE|COPY|WITH)\b", re.I)


@dataclass(frozen=True)
class Attribution:
    """What the next history rows say: the actor (or a callable giving it), reason, request id."""

    actor: object = None
    reason: str = ""
    request_id: str = ""


_current: ContextVar[Attribution | None] = ContextVar("frontera_history", default=None)
# Per table: the (actor, reason) of an instance whose save()/delete() is under way (pre_save).
_pending: ContextVar[dict | None] = ContextVar("frontera_history_pending", default=None)


@contextmanager
def history_context(actor=None, reason: str = "", *, request_id: str = "") -> Iterator[None]:
    """Attribute every write to a tracked table inside the block (bulk and raw SQL included).

    Values not given are inherited from an enclosing context (the request's user and id)."""
    outer = _current.get() or Attribution()
    inner = replace(
        outer,
        actor=actor if actor is not None else outer.actor,
        reason=reason or outer.reason,
        request_id=request_id or outer.request_id,
    )
    token = _current.set(inner)
    try:
        yield
    finally:
        _current.reset(token)


def save_with_history(obj, actor, reason: str, **kwargs) -> None:
    """``obj.save(**kwargs)`` with its history row naming ``actor`` and ``reason``."""
    obj._history_user = actor  # simple-history's writer (SQLite)
    obj._change_reason = reason
    try:
        with history_context(actor, reason):
            obj.save(**kwargs)
    finally:
        del obj._history_user, obj._change_reason


# --- the execute wrapper (PostgreSQL) -----------------------------------------------------------


@cache
def _tracked() -> tuple[re.Pattern, dict[str, str]]:
    """A pattern finding tracked table names in SQL, and model label -> table."""
    from privacy.history_triggers import tracked_tables

    tables = {tracked.model._meta.label: tracked.table for tracked in tracked_tables()}
    names = "|".join(sorted(map(re.escape, tables.values()), key=len, reverse=True))
    return re.compile(rf"\b({names})\b"), tables


def _user_id(actor) -> str:
    if callable(actor):
        actor = actor()
    if actor is None or not getattr(actor, "is_authenticated", False):
        return ""
    return str(actor.pk)


def _request_id(attribution: Attribution) -> str:
    value = attribution.request_id or structlog.contextvars.get_contextvars().get("request_id")
    return _REQUEST_ID.sub("", str(value or ""))[:64]


def attribution_values(tables: set[str]) -> list[str]:
    """The four settings for a write to ``tables``. An instance being saved or deleted with
    ``_history_user`` / ``_change_reason`` wins (simple-history's rule), then the innermost
    ``history_context``; the instance's values are used once."""
    attribution = _current.get() or Attribution()
    actor, reason = attribution.actor, attribution.reason
    pending = _pending.get() or {}
    for table in tables & pending.keys():
        instance_actor, instance_reason = pending.pop(table)
        actor = instance_actor if instance_actor is not None else actor
        reason = instance_reason or reason
    return [_user_id(actor), reason[:100], _request_id(attribution), timezone.now().isoformat()]


def attribute_writes(execute, sql, params, many, context):
    """Execute wrapper: set the attribution right before a statement that may write history."""
    if not _WRITE.match(sql):
        return execute(sql, params, many, context)
    pattern, _tables = _tracked()
    tables = set(pattern.findall(sql))
    if not tables:
        return execute(sql, params, many, context)
    connection, raw = context["connection"], context["cursor"].cursor
    values = attribution_values(tables)
    if not connection.get_autocommit():
        raw.execute(SET_SQL, values)
        return execute(sql, params, many, context)
    with transaction.atomic(using=connection.alias):  # local settings need a transaction
        raw.execute(SET_SQL, values)
        return execute(sql, params, many, context)


def install_wrapper(sender=None, connection=None, **kwargs) -> None:
    """``connection_created`` receiver: every PostgreSQL connection attributes its writes."""
    if (
        connection is not None
        and connection.vendor == "postgresql"
        and attribute_writes not in connection.execute_wrappers
    ):
        # First in the list: ``connection.execute_wrapper()`` blocks pop() their own from the end.
        connection.execute_wrappers.insert(0, attribute_writes)


def remember_instance(sender, instance, **kwargs) -> None:
    """``pre_save``/``pre_delete`` receiver: an instance's ``_history_user``/``_change_reason``."""
    _pattern, tables = _tracked()
    table = tables.get(sender._meta.label)
    if table is None:
        return
    actor = getattr(instance, "_history_user", None)
    reason = getattr(instance, "_change_reason", None)
    pending = _pending.get()
    if actor is None and not reason:
        if pending:
            pending.pop(table, None)
        return
    if pending is None:
        pending = {}
        _pending.set(pending)
    pending[table] = (actor, reason or "")


def forget_instance(sender, **kwargs) -> None:
    """``post_save``/``post_delete`` receiver: the instance's values never reach another write."""
    pending = _pending.get()
    if pending:
        _pattern, tables = _tracked()
        pending.pop(tables.get(sender._meta.label), None)


def request_actor(request) -> Callable[[], object]:
    """The request's user, looked up at write time (a login changes it mid-request)."""
    return lambda: getattr(request, "user", None)
