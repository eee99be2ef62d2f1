#!/usr/bin/env bash
# "Never slow Vault": OpenBao KV-read latency (p50/p99/p99.9/max over
# ROUNDS x PER_ROUND requests per configuration, one keep-alive connection)
# with only a file audit device, vs the same plus a socket device pointed at a
# vaultkeeper audit listener whose Slack webhook hangs, vs a socket device to a
# null sink; then the control: a socket device whose listener never reads.
# Real OpenBao 2.7.2 dev servers and the release build of vaultkeeper.
#   scripts/bench-audit.sh [ROUNDS] [PER_ROUND]      (defaults 20, 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_openbao
ensure_rust_tools
say "cargo bench --bench audit_latency -- ${1:-20} ${2:-1000}"
cargo bench --locked --bench audit_latency -- "${1:-20}" "${2:-1000}"
