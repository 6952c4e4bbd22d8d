"""Bulk import of registrations (CSV or XLSX), streaming, in batches, resumable. See docs/import.md."""
