#!/usr/bin/env bash
# Dependency audit of the locked dependencies (SECURITY.md CF-3); see docs/security.md.
#
# Exports uv.lock (with hashes) and runs pip-audit against it with the PyPI advisory service.
#   exit 0 + "AUDITED: no known vulnerabilities ..."    the lock was checked and is clean
#   exit 1 + pip-audit's findings                        known vulnerabilities: fix or review
#   exit 0 + "NOT AUDITED: advisory database unreachable" offline: nothing was checked, and the
#                                                         output never claims otherwise
# AUDIT_PROBE_URL overrides the reachability probe (tests point it at a closed port).
set -uo pipefail
cd "$(dirname "$0")/.."
UV="${UV:-$(bash scripts/ensure-uv.sh)}"
PROBE_URL="${AUDIT_PROBE_URL:-https://pypi.org/pypi/pip/json}"
NOT_AUDITED="NOT AUDITED: advisory database unreachable"

probe() {
  if command -v curl >/dev/null 2>&1; then
    curl -fsS -o /dev/null --max-time 10 "$PROBE_URL" 2>/dev/null
  else
    python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=10)' "$PROBE_URL" 2>/dev/null
  fi
}

if ! probe; then
  echo "$NOT_AUDITED ($PROBE_URL)"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$UV" export --frozen --quiet --format requirements.txt --all-groups --no-emit-project \
  -o "$work/requirements.txt" || { echo "audit: could not export uv.lock" >&2; exit 2; }

"$UV" run --frozen --quiet --with pip-audit pip-audit --strict --disable-pip --require-hashes \
  --progress-spinner off -r "$work/requirements.txt" >"$work/out.txt" 2>&1
rc=$?
cat "$work/out.txt"
if [ $rc -eq 0 ]; then
  echo "AUDITED: no known vulnerabilities in the locked dependencies"
  exit 0
fi
if grep -Eq "Found [0-9]+ known vulnerabilit" "$work/out.txt"; then
  exit 1
fi
# pip-audit failed without a verdict (network error mid-run, service down): say so, claim nothing.
echo "$NOT_AUDITED (pip-audit exit $rc)"
exit 0
