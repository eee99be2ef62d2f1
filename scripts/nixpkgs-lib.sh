#!/usr/bin/env bash
# Puts nixpkgs' lib (github:nix-community/nixpkgs.lib at a pinned revision) at
# /var/cache/nixpkgs-lib, OUTSIDE the repository, for the module-evaluation tests
# (NIXPKGS_LIB=/var/cache/nixpkgs-lib/lib) and scripts/gen-options-doc.sh.
#   scripts/nixpkgs-lib.sh [DIR]
set -euo pipefail
dir=${1:-/var/cache/nixpkgs-lib}
rev=de42d44212d207476489bce163375d8306a26d59
if [ -e "$dir/lib/default.nix" ]; then
  echo "nixpkgs-lib: $dir is ready"
  exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL "https://github.com/nix-community/nixpkgs.lib/archive/$rev.tar.gz" | tar -xz -C "$tmp" --strip-components=1
mkdir -p "$dir"
cp -a "$tmp"/. "$dir"/
echo "nixpkgs-lib: unpacked nixpkgs.lib $rev into $dir"
