"""Read and write serializers of the partner API, apart (DESIGN.md rule 5)."""
