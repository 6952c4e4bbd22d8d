"""No service writes history-tracked data behind the history's back (SECURITY.md LG-2).

History here is django-simple-history: it records ``save()`` and ``delete()`` (signals), not
``QuerySet.update()``, ``bulk_create()``/``bulk_update()`` or raw SQL. Until history is written by
triggers (django-pghistory, an open item of LG-2), the guarantee is this scan: every such bulk
write in the application code (registry, transit, privacy, accounts, api, crossings, reports;
not migrations or tests) is listed below with the reviewed reason it may bypass history, and a
new one — or a raw ``UPDATE``/``INSERT``/``DELETE`` on a tracked table — fails the test until
someone reviews it. Writes on a model with history are only allowed where the history itself
is being erased or re-keyed (erasure, retention, key rotation) or where the same service saves the
row with history right after (optimistic version bump).
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

APPS = ("registry", "transit", "privacy", "accounts", "api", "crossings", "reports")
QUERYSET_STEPS = {
    "objects", "_base_manager", "_default_manager", "history", "filter", "exclude", "all",
    "select_for_update", "order_by", "annotate", "select_related", "only", "defer",
}  # fmt: skip
WRITES = {"update", "bulk_create", "bulk_update"}
RAW_WRITE = re.compile(
    r'\b(?:UPDATE\s+"?(\w+)"?\s+SET|INSERT\s+INTO\s+"?(\w+)|DELETE\s+FROM\s+"?(\w+))', re.I
)

UNTRACKED = "model has no change history (derived index, job bookkeeping or partner mapping)"
ERASURE = "erasure: personal data removed on purpose; the history rows are deleted in the same purge_path and one 'erased' history row is saved"
ROTATION = "key rotation: same values under a new key; history rows inside rotation_path (LG-3 trigger lets only key-dependent columns change)"

# (file, function, method, receiver) -> reviewed reason
ALLOWED = {
    ("registry/people.py", "reindex_names", "bulk_create", "PersonNameTerm"): UNTRACKED,
    ("registry/resolution/blocking.py", "reindex", "bulk_create", "PersonBlockingKey"): UNTRACKED,
    ("registry/resolution/importer/runner.py", "_flush", "update", "ImportJob"): UNTRACKED,
    ("registry/resolution/scan.py", "_start", "update", "MatchingRun"): UNTRACKED,
    ("accounts/agreements.py", "pseudonyms_for", "bulk_create", "PartnerPseudonym"): UNTRACKED,
    ("reports/generation.py", "set_progress", "update", "ReportRun"): UNTRACKED,
    ("registry/services.py", "_bump_version", "update", "model"): (
        "optimistic-concurrency version bump; every caller then saves the row through "
        "save_with_history, whose history row carries the new version"
    ),
    ("privacy/erasure.py", "_erase_one", "update", "Registration"): ERASURE,
    ("privacy/erasure.py", "_erase_one", "update", "RegistrationTransition"): ERASURE,
    ("privacy/erasure.py", "_erase_one", "update", "Vulnerability"): ERASURE,
    ("privacy/erasure.py", "_erase_one", "update", "Referral"): ERASURE,
    ("privacy/erasure.py", "_erase_one", "update", "Permit"): ERASURE,
    ("privacy/erasure.py", "_erase_one", "update", "DuplicateCandidate"): ERASURE,
    ("privacy/erasure.py", "_erase_one", "update", "MergeRecord"): ERASURE,
    ("privacy/erasure.py", "_erase_outbox", "update", "mentioning"): (
        "outbox payloads (no history) emptied of the erased person's data"
    ),
    ("privacy/retention.py", "_purge_vulnerabilities", "update", "Vulnerability"): (
        "retention: expired vulnerability details emptied; their history rows are deleted in "
        "the same purge_path and the purge is counted in RetentionRun"
    ),
    ("privacy/rotation.py", "_rotate_batch", "update", "model"): ROTATION,
    ("privacy/rotation.py", "_document_batch", "update", "model"): ROTATION,
    ("privacy/rotation.py", "_replace_set", "bulk_create", "model"): (
        "blind-index rotation re-derives PersonNameTerm/PersonBlockingKey rows: " + UNTRACKED
    ),
}
# Where a bulk write on a model that HAS history may live at all.
HISTORY_BYPASS_MODULES = {"privacy/erasure.py", "privacy/retention.py", "privacy/rotation.py"}


def _chain(node) -> tuple[str | None, list[str]]:
    """Root name and the attribute/method names of ``a.b(...).c[...]``."""
    steps = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            steps.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            node = node.value
        else:
            return (node.id if isinstance(node, ast.Name) else None), steps


class _Scanner(ast.NodeVisitor):
    def __init__(self, rel: str) -> None:
        self.rel, self.scope, self.found, self.assigned = rel, [], [], [{}]

    def visit_FunctionDef(self, node) -> None:
        self.scope.append(node.name)
        self.assigned.append({})
        self.generic_visit(node)
        self.assigned.pop()
        self.scope.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node) -> None:
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    def visit_Assign(self, node) -> None:
        for target in node.targets:
            if isinstance(target, ast.Name):
                self.assigned[-1][target.id] = node.value
        self.generic_visit(node)

    def visit_Call(self, node) -> None:
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in WRITES:
            root, steps = _chain(func.value)
            # bulk_create/bulk_update only exist on managers and querysets; update() also on dicts
            is_queryset = func.attr != "update" or bool(QUERYSET_STEPS & set(steps))
            if not is_queryset and root in self.assigned[-1]:
                earlier_root, earlier = _chain(self.assigned[-1][root])
                is_queryset = bool(QUERYSET_STEPS & set(earlier))
                root = earlier_root if is_queryset and earlier_root else root
            if is_queryset:
                self.found.append((self.rel, ".".join(self.scope), func.attr, root))
        self.generic_visit(node)

    def visit_Constant(self, node) -> None:
        if isinstance(node.value, str):
            for match in RAW_WRITE.finditer(node.value):
                table = next(group for group in match.groups() if group)
                self.found.append((self.rel, ".".join(self.scope), "sql", table))


def scan(source: str, rel: str = "x.py") -> list[tuple]:
    scanner = _Scanner(rel)
    scanner.visit(ast.parse(source))
    return scanner.found


def bulk_writes() -> list[tuple]:
    base = Path(settings.BASE_DIR)
    found = []
    for app in APPS:
        for path in sorted((base / app).rglob("*.py")):
            rel = path.relative_to(base).as_posix()
            if "/migrations/" not in rel and "/tests/" not in rel:
                found += scan(path.read_text(encoding="utf-8"), rel)
    return found


def tracked_tables() -> set[str]:
    """Tables of models with history, and the history tables themselves."""
    tables = set()
    for model in apps.get_models():
        history = getattr(model, "history", None)
        if history is not None and hasattr(history, "model"):
            tables |= {model._meta.db_table, history.model._meta.db_table}
    return tables


def resolve(rel: str, name: str | None):
    """The model class ``name`` refers to in module ``rel`` (or, imported inside a function, the
    installed model of that name), or None (a variable such as ``model``)."""
    module = importlib.import_module(rel.removesuffix(".py").replace("/", "."))
    candidate = getattr(module, name or "", None)
    if isinstance(candidate, type) and hasattr(candidate, "_meta"):
        return candidate
    named = [model for model in apps.get_models() if model.__name__ == name]
    return named[0] if len(named) == 1 else None


def test_the_scanner_finds_what_it_must():
    source = """
def f(qs, data):
    Person.objects.filter(pk=1).update(notes="")
    people = Person.objects.all()
    people.update(notes="")
    Person.objects.bulk_create([])
    data.update(notes="")
    cursor.execute('UPDATE "registry_person" SET notes = %s', [""])
"""
    assert scan(source) == [
        ("x.py", "f", "update", "Person"),
        ("x.py", "f", "update", "Person"),  # through the variable's assignment
        ("x.py", "f", "bulk_create", "Person"),
        ("x.py", "f", "sql", "registry_person"),
    ]


def test_every_bulk_write_is_reviewed():
    found = set(bulk_writes())
    unreviewed = sorted(found - set(ALLOWED))
    assert unreviewed == [], (
        "QuerySet.update()/bulk_create()/bulk_update() bypass django-simple-history: use the "
        f"service's save-with-history, or review and list them in ALLOWED: {unreviewed}"
    )
    stale = sorted(set(ALLOWED) - found)
    assert stale == [], f"ALLOWED lists writes that no longer exist: {stale}"
    assert all(len(reason) > 20 for reason in ALLOWED.values())


def test_no_raw_sql_writes_a_tracked_table():
    tables = tracked_tables()
    assert {"registry_person", "registry_historicalperson"} <= tables
    raw = [hit for hit in bulk_writes() if hit[2] == "sql" and hit[3].lower() in tables]
    assert raw == []


def test_bulk_writes_on_models_with_history_only_where_history_is_purged_or_rekeyed():
    for (rel, function, _method, receiver), reason in ALLOWED.items():
        model = resolve(rel, receiver)
        if reason == UNTRACKED:
            assert model is not None, (rel, function)
            assert getattr(model, "history", None) is None, f"{model} has history: not UNTRACKED"
        elif model is not None and getattr(model, "history", None) is not None:
            assert rel in HISTORY_BYPASS_MODULES, (rel, function, receiver)
