#!/usr/bin/env bash
# The suite's last word: no test secret value in any log it produced. Every test
# secret contains the marker "vksecret" (tests/support/run.rs); every output of
# the binary and of OpenBao is kept under target/test-logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
logs=target/test-logs
[ -d "$logs" ] || { echo "ERROR: no logs in $logs: did the tests run?" >&2; exit 1; }
n=$(find "$logs" -type f | wc -l)
[ "$n" -gt 0 ] || { echo "ERROR: $logs is empty" >&2; exit 1; }
if grep -rl "vksecret" "$logs"; then
  echo "ERROR: a test secret value appears in the logs above" >&2
  exit 1
fi
echo "secret sweep: 0 test secret values in $n log files under $logs"
