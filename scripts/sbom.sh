#!/usr/bin/env bash
# CycloneDX SBOM of the project's installed environment (SECURITY.md CF-3); works offline.
# Output: $SBOM_OUT (default test-artifacts/sbom.json, git-ignored; CI keeps it as an artifact).
set -euo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-$(bash scripts/ensure-uv.sh)}"
OUT="${SBOM_OUT:-test-artifacts/sbom.json}"
mkdir -p "$(dirname "$OUT")"
"$UV" run --frozen --quiet --with cyclonedx-bom cyclonedx-py environment \
  --pyproject pyproject.toml --output-reproducible --of JSON -o "$OUT" .venv
echo "SBOM: $OUT ($(grep -o '"bom-ref"' "$OUT" | wc -l) components)"
