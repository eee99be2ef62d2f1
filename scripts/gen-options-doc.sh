#!/usr/bin/env bash
# Regenerates docs/reference/options.md from the evaluated NixOS module
# (nix/options-doc.nix, lib.optionAttrSetToDocList).
#   NIXPKGS_LIB=/path/to/nixpkgs/lib scripts/gen-options-doc.sh
# NIXPKGS_LIB defaults to /var/cache/nixpkgs-lib/lib (see scripts/nixpkgs-lib.sh).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
lib=${NIXPKGS_LIB:-/var/cache/nixpkgs-lib/lib}
if [ ! -e "$lib/default.nix" ]; then
  echo "gen-options-doc: no nixpkgs lib at $lib; run scripts/nixpkgs-lib.sh or set NIXPKGS_LIB" >&2
  exit 1
fi
out="$repo/docs/reference/options.md"
mkdir -p "$(dirname "$out")"
nix --extra-experimental-features nix-command eval --raw --impure \
  --expr "import $repo/nix/options-doc.nix { nixpkgsLib = $lib; }" >"$out.tmp"
mv "$out.tmp" "$out"
echo "gen-options-doc: wrote $out"
