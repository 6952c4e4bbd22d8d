"""Celery tasks of transit: thin wrappers over services (DESIGN.md rule 7)."""

from __future__ import annotations

import structlog
from celery import shared_task

from transit.overstays import overstay_summary

logger = structlog.get_logger(__name__)


@shared_task(name="transit.detect_overstays")
def detect_overstays() -> dict[str, int]:
    """Daily: count people past their authorised stay (no exit / exited late). Idempotent:
    it only reads; the supervisors' page lists the people."""
    summary = overstay_summary()
    logger.info("transit.overstays", **summary)  # counts only, never people
    return summary
