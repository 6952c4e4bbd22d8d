"""Thin viewsets of the partner API: rules live in querysets, services and api/ helpers."""
