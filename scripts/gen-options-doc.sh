#!/usr/bin/env bash
# Regenerates docs/reference/options.md from the evaluated NixOS module
# (nix/options-doc.nix, lib.optionAttrSetToDocList).
#   scripts/gen-options-doc.sh
# nixpkgs' lib comes from scripts/nixpkgs-lib.sh ($NIXPKGS_LIB, its cache, the
# offline mirror in ../shared/vendor, the network).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
lib=$("$repo/scripts/nixpkgs-lib.sh") || { echo "gen-options-doc: no nixpkgs lib (see above)" >&2; exit 1; }
out="$repo/docs/reference/options.md"
mkdir -p "$(dirname "$out")"
nix --extra-experimental-features nix-command eval --raw --impure \
  --expr "import $repo/nix/options-doc.nix { nixpkgsLib = $lib; }" >"$out.tmp"
mv "$out.tmp" "$out"
echo "gen-options-doc: wrote $out"
