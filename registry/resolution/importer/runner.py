"""Running an import: batches of rows through the registry services, each batch one
transaction together with the job's progress, so ``resume`` continues exactly after the last
committed row. Every row is imported, skipped as already imported, or reported.

A batch is validated, registered (``services.register_many``) and matched
(``registry.resolution.batch``) as a whole: a few dozen queries per batch instead of ~30 per row,
with the same rules and the same outcome per row as registering the rows one by one."""

from __future__ import annotations

import contextlib
import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crossings.models import Place
from privacy.blind_index import blind_index, document_lookup_indexes
from registry import services
from registry.models import IdentityDocument, ImportJob, ImportJobStatus, TravelGroup
from registry.resolution import batch, engine
from registry.resolution.importer import reader, schema
from registry.resolution.importer.report import Report

ROW_DOMAIN = "import.row.v1"
PREVIEW_LINES = 1000


@dataclass
class ImportOptions:
    actor: object
    place_code: str = ""
    legal_basis: str = ""
    dry_run: bool = False
    resume: bool = False
    batch_size: int = 500
    encoding: str = ""
    claimed_format: str = ""
    keep_preview: bool = False
    stored_name: str = ""


@dataclass
class ImportResult:
    job: ImportJob | None
    counts: Counter = field(default_factory=Counter)
    lines: list = field(default_factory=list)
    warnings: list = field(default_factory=list)
    already_done: bool = False


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _Context:
    """Per-run caches: places by code, travel groups by the file's group key."""

    def __init__(self, options: ImportOptions, sha256: str, groups: dict):
        self.options, self.sha256 = options, sha256
        self.places: dict[str, Place | None] = {}
        self.groups = dict(groups)  # committed: key hash -> group id
        self.pending: dict[str, str] = {}  # created in the current batch

    def place(self, code: str) -> Place | None:
        if code not in self.places:
            self.places[code] = Place.objects.filter(code=code).first() if code else None
        return self.places[code]

    def existing_groups(self, digests) -> dict[str, TravelGroup]:
        """The travel groups earlier batches created for these group keys (one query)."""
        ids = {d: self.groups[d] for d in digests if d in self.groups}
        found = TravelGroup.objects.in_bulk(list(ids.values())) if ids else {}
        by_id = {str(pk): group for pk, group in found.items()}
        return {d: by_id[pk] for d, pk in ids.items() if pk in by_id}

    def token(self, row: schema.RowInput) -> uuid.UUID:
        """The row's submission token: a keyed hash (never plaintext) of its cleaned content,
        scoped to the file when the row has no registration time. A row repeated in the file,
        a resumed file, or the same rows in a re-exported file are therefore never imported
        twice (``services.register_many`` is idempotent on the token)."""
        content = json.dumps(
            [row.person, row.place_code, row.registered_at.isoformat() if row.registered_at else self.sha256,
             row.legal_basis, row.document, row.group_key, row.relationship],
            sort_keys=True, default=str,
        )
        return uuid.UUID(blind_index(content, ROW_DOMAIN, 128))


def _group_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _report_errors(report: Report, number: int, errors: dict, values: dict) -> None:
    for column, message in errors.items():
        report.add(number, "error", column if column != "__all__" else "", message, values.get(column, ""))


def _holder(document: dict) -> str:
    bidxs = document_lookup_indexes(document["kind"], document["issuing_country"], document["number"])
    found = IdentityDocument.objects.filter(number_bidx__in=bidxs, status="valid").select_related("person").first()
    return found.person.display_reference if found else ""


def _service_errors(exc: ValidationError, row: schema.RowInput) -> dict:
    errors = {k: " ".join(v) for k, v in exc.message_dict.items()} if hasattr(exc, "error_dict") else {"": " ".join(exc.messages)}
    holder = _holder(row.document) if "number" in errors and row.document else ""
    if holder:  # the document is already registered: name the record it belongs to
        errors["number"] += " " + _("Probable duplicate of %(ref)s.") % {"ref": holder}
    return {("document_number" if k == "number" else k): v for k, v in errors.items()}


@dataclass
class _Row:
    number: int
    values: dict
    row: schema.RowInput
    item: services.NewRegistration


def _clean(ctx: _Context, number: int, values: dict, report: Report, counts: Counter) -> _Row | None:
    """One row parsed and mapped to the service's input; its column errors reported."""
    options = ctx.options
    place = ctx.place(str(values.get("place_code") or options.place_code).strip())
    row = schema.clean_row(values, default_place=options.place_code, default_legal_basis=options.legal_basis,
                           zone=place.time_zone if place else "UTC")
    if place is None:
        row.errors["place_code"] = _("Unknown place code.")
    if row.errors:
        counts["failed"] += 1
        _report_errors(report, number, row.errors, values)
        return None
    item = services.NewRegistration(
        place=place, person_data=row.person, legal_basis=row.legal_basis, registered_at=row.registered_at,
        submission_token=ctx.token(row), document=row.document, relationship=row.relationship,
        group_key=_group_digest(row.group_key) if row.group_key else "",
    )
    return _Row(number, values, row, item)


def _link_duplicates(actor, new: list[_Row], report: Report, counts: Counter) -> None:
    """Match the batch's new people against the registry and the earlier rows (one blocking
    query for the batch) and link the pairs to the adjudication queue; one report line per row
    with its best pair."""
    people = [r.item.registration.person for r in new]
    found = batch.find_candidates(people)
    stored = batch.record_candidates(actor, people, found)
    probable = engine.probable_threshold()
    for r, person, matches, pairs in zip(new, people, found, stored, strict=True):
        if not pairs:
            continue
        best = max(pairs, key=lambda p: p.score)
        other_pk = best.person_b_id if best.person_a_id == person.pk else best.person_a_id
        other = next(m for m in matches if m.person_id == other_pk).person
        outcome = "probable_duplicate" if best.score >= probable else "possible_duplicate"
        counts["duplicates"] += 1
        report.add(r.number, outcome, "", _("Imported and sent to the duplicates queue with %(ref)s (score %(score).2f).")
                   % {"ref": other.display_reference, "score": best.score}, person.display_reference)


def import_batch(ctx: _Context, rows: list[tuple[int, dict]], report: Report, counts: Counter) -> None:
    """One batch: every row validated, the clean ones registered together through
    ``services.register_many`` (the same rules as a form, checked against the registry and the
    earlier rows), the new people matched together (``registry.resolution.batch``); each row
    imported, skipped as already imported, or reported with its row number."""
    first = len(report.lines)
    cleaned = [r for r in (_clean(ctx, number, values, report, counts) for number, values in rows) if r is not None]
    groups = ctx.existing_groups({r.item.group_key for r in cleaned if r.item.group_key})
    for r in cleaned:
        r.item.group = groups.get(r.item.group_key)
    services.register_many(ctx.options.actor, [r.item for r in cleaned])
    new = []
    for r in cleaned:
        if r.item.error is not None:
            counts["failed"] += 1
            _report_errors(report, r.number, _service_errors(r.item.error, r.row), r.values)
        elif not r.item.created:
            counts["skipped"] += 1
            report.add(r.number, "skipped", "", _("Already imported (the same row earlier in this file or in an earlier import)."))
        else:
            counts["imported"] += 1
            new.append(r)
            if r.item.membership is not None:
                ctx.pending[r.item.group_key] = str(r.item.membership.group_id)
    if new:
        _link_duplicates(ctx.options.actor, new, report, counts)
    report.lines[first:] = sorted(report.lines[first:], key=lambda line: line[0])  # row order (stable)


def _commit_batch(ctx: _Context, job: ImportJob | None, header, batch_rows, report: Report, counts: Counter) -> None:
    """One transaction for the rows and the job's progress; a failure rolls the batch back
    and reports every row of it, and the import goes on with the next batch. A unique
    violation (another import took a row's token or document meanwhile) is retried once: the
    batch is checked again and those rows are skipped or reported."""
    before = len(report.lines)
    rows = [(number, dict(zip(header, values, strict=False))) for number, values in batch_rows]
    for attempt in (1, 2):
        batch_counts: Counter = Counter()
        try:
            with transaction.atomic():
                import_batch(ctx, rows, report, batch_counts)
                _save_progress(job, batch_rows[-1][0], batch_counts)
            break
        except Exception as exc:  # noqa: BLE001 - any failure of the batch is reported, not raised
            del report.lines[before:]
            ctx.pending.clear()
            if attempt == 1 and isinstance(exc, IntegrityError):
                continue
            batch_counts = Counter(failed=len(batch_rows))
            for number, _values in batch_rows:
                report.add(number, "batch_failed", "", _("The batch failed and was rolled back (%(error)s).") % {"error": type(exc).__name__})
            _save_progress(job, batch_rows[-1][0], batch_counts)
            break
    ctx.groups.update(ctx.pending)
    ctx.pending.clear()
    counts.update(batch_counts)


def _save_progress(job: ImportJob | None, last_row: int, batch_counts: Counter) -> None:
    if job is None or job.pk is None:
        return
    job.last_committed_row = last_row
    job.rows_seen = last_row - 1
    for name in ("imported", "failed", "duplicates"):
        setattr(job, name, getattr(job, name) + batch_counts[name])
    job.save(update_fields=["last_committed_row", "rows_seen", "imported", "failed", "duplicates", "groups"])


def _job(options: ImportOptions, sha256: str, file_format: str, size: int, warnings: list) -> tuple[ImportJob | None, bool]:
    """The job to run (new, or the unfinished one when resuming) and whether it is already done."""
    if options.dry_run:
        return None, False
    job = ImportJob.objects.filter(sha256=sha256, dry_run=False).first()
    if job is not None and job.status == ImportJobStatus.DONE:
        return job, True
    if job is not None and not options.resume:
        raise ValidationError(_("This file was partly imported before; resume it instead."), code="resume_needed")
    if job is None:
        place = Place.objects.filter(code=options.place_code).first() if options.place_code else None
        job = ImportJob.objects.create(
            sha256=sha256, file_format=file_format, size=size, created_by=options.actor, place=place,
            batch_size=options.batch_size, stored_name=options.stored_name, warnings=warnings,
        )
        job.report_name = f"{job.pk}-report.csv"
    job.status = ImportJobStatus.RUNNING
    job.save()
    return job, False


def run_import(path: Path, options: ImportOptions) -> ImportResult:
    """Import (or, with ``dry_run``, preview without writing) a registrations file."""
    size = path.stat().st_size
    reader.check_size(size)
    file_format = reader.sniff(path, options.claimed_format)
    sha256 = file_sha256(path)
    header, rows = reader.open_rows(path, file_format, options.encoding)
    header = schema.normalise_header(header)
    warnings = schema.check_header(header)
    job, done = _job(options, sha256, file_format, size, warnings)
    if done:
        return ImportResult(job, warnings=warnings, already_done=True)
    report = Report(Path(settings.IMPORT_DIR) / job.report_name if job else None)
    result = ImportResult(job, warnings=warnings)
    # A dry run is one transaction rolled back at the end; a real run commits batch by batch.
    try:
        with transaction.atomic() if options.dry_run else contextlib.nullcontext():
            _run_batches(_Context(options, sha256, job.groups if job else {}), job, header, rows, report, result)
            if options.dry_run:
                transaction.set_rollback(True)
    except ValidationError as exc:  # the file itself went bad half way (row limit, broken CSV)
        _fail(job, exc)
        raise
    return _finish(job, options, result, sha256, file_format, size)


def _fail(job: ImportJob | None, exc: ValidationError) -> None:
    """Record why a real run stopped; the batches before it stay committed."""
    if job is None:
        return
    job.status, job.finished_at = ImportJobStatus.FAILED, timezone.now()
    job.warnings = [*job.warnings, *map(str, exc.messages)]
    job.save(update_fields=["status", "finished_at", "warnings"])


def _run_batches(ctx: _Context, job, header, rows, report: Report, result: ImportResult) -> None:
    start = job.last_committed_row if job else 0
    batch: list = []
    for number, values in rows:
        if number <= start:
            continue
        batch.append((number, values))
        if len(batch) >= ctx.options.batch_size:
            _flush(ctx, job, header, batch, report, result)
            batch = []
    if batch:
        _flush(ctx, job, header, batch, report, result)


def _flush(ctx, job, header, batch, report: Report, result: ImportResult) -> None:
    if job is not None:
        job.groups = ctx.groups | ctx.pending
    _commit_batch(ctx, job, header, batch, report, result.counts)
    if job is not None:
        job.groups = dict(ctx.groups)
        ImportJob.objects.filter(pk=job.pk).update(groups=job.groups)
    written = report.flush()
    room = PREVIEW_LINES - len(result.lines)
    result.lines.extend(written[:max(room, 0)])


def _finish(job, options: ImportOptions, result: ImportResult, sha256: str, file_format: str, size: int) -> ImportResult:
    if job is not None:
        job.status, job.finished_at = ImportJobStatus.DONE, timezone.now()
        job.save(update_fields=["status", "finished_at"])
        if job.stored_name:
            # An upload kept under IMPORT_DIR holds plaintext names: once every row is in the
            # (encrypted) registry it is not kept. Files named on the command line are the user's.
            (Path(settings.IMPORT_DIR) / job.stored_name).unlink(missing_ok=True)
    elif options.keep_preview:
        result.job = ImportJob.objects.create(
            sha256=sha256, file_format=file_format, size=size, created_by=options.actor, dry_run=True,
            status=ImportJobStatus.PREVIEWED, stored_name=options.stored_name, batch_size=options.batch_size,
            imported=result.counts["imported"], failed=result.counts["failed"], duplicates=result.counts["duplicates"],
            warnings=result.warnings, finished_at=timezone.now(),
        )
    return result
