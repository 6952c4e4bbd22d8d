"""The officials' pages of the registry, one module per area (mounted at /people/)."""
