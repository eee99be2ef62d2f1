#!/usr/bin/env bash
# Finds nixpkgs' lib (github:nix-community/nixpkgs.lib at the pinned revision
# below) for the module-evaluation tests and scripts/gen-options-doc.sh, and
# prints the path of its lib/ directory (the value for NIXPKGS_LIB) on stdout.
#
#   NIXPKGS_LIB=$(scripts/nixpkgs-lib.sh)
#
# Sources, in order:
#   1. $NIXPKGS_LIB, when set (it must hold default.nix, else this fails);
#   2. the cache directory ($NIXPKGS_LIB_CACHE, default /var/cache/nixpkgs-lib
#      for root, else ${XDG_CACHE_HOME:-~/.cache}/nixpkgs-lib), filled by 3 or 4;
#   3. the offline mirror ../shared/vendor/nixpkgs.lib-<rev>.tar.gz beside the
#      repository (or beside the main checkout of a git worktree), when that
#      directory exists (CI has it and no GitHub); its sha256 is checked;
#   4. the network (GitHub's archive of the revision).
# What 3 and 4 unpack is checked against the pinned NAR hash of the tree before
# it is used. When nothing works this exits 1 and says how to provide it.
# Messages go to stderr; stdout carries only the path.
set -euo pipefail

rev=de42d44212d207476489bce163375d8306a26d59
tar_sha256=70c3a2ed47b34541ea51d9d798ab2b7822b06344cda9be41db23c7709ea2abaa
# nix-hash --type sha256 --base32 of the unpacked tree (the tarball's top directory).
nar_hash=1v7rldwwmxw2wq7b8zrsmz3mk1kav7q8v3m9b5g14ff4j04r69nj
url="https://github.com/nix-community/nixpkgs.lib/archive/$rev.tar.gz"

repo=$(cd "$(dirname "$0")/.." && pwd)
# ../shared beside the clone; for a git worktree, also beside the main checkout.
shared="$(dirname "$repo")/shared"
if [ ! -d "$shared" ] && common=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null); then
  main_shared="$(dirname "$(dirname "$common")")/shared"
  [ -d "$main_shared" ] && shared=$main_shared
fi
vendor="$shared/vendor/nixpkgs.lib-$rev.tar.gz"
if [ -n "${NIXPKGS_LIB_CACHE:-}" ]; then
  cache=$NIXPKGS_LIB_CACHE
elif [ "$(id -u)" = 0 ]; then
  cache=/var/cache/nixpkgs-lib
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/nixpkgs-lib
fi
dest="$cache/$rev"

log() { printf 'nixpkgs-lib: %s\n' "$*" >&2; }

how_to() {
  cat >&2 <<EOF
nixpkgs-lib: FAILED: no source of nixpkgs' lib (nix-community/nixpkgs.lib $rev) worked:
$(printf '  - %s\n' "$@")
Provide it in one of these ways, then run the tests again:
  - NIXPKGS_LIB=/path/to/nixpkgs/lib (any checkout of nixpkgs or nixpkgs.lib; its lib/ directory);
  - put the pinned tarball at $vendor
    (sha256 $tar_sha256);
  - give this machine access to $url;
  - or skip the NixOS module tests explicitly with VAULTKEEPER_SKIP_NIX=1 (they are then counted as skipped).
EOF
  exit 1
}

tried=()

# 1. An explicit lib wins, and a wrong one is an error, not a silent fallback.
if [ -n "${NIXPKGS_LIB:-}" ]; then
  if [ -e "$NIXPKGS_LIB/default.nix" ]; then
    log "using NIXPKGS_LIB=$NIXPKGS_LIB"
    printf '%s\n' "$NIXPKGS_LIB"
    exit 0
  fi
  how_to "NIXPKGS_LIB=$NIXPKGS_LIB has no default.nix (unset it to use the other sources)"
fi

# 2. The cache: only a tree that passed the hash check carries the stamp.
if [ -e "$dest/.vaultkeeper-verified" ] && [ -e "$dest/lib/default.nix" ]; then
  log "using the cache $dest"
  printf '%s\n' "$dest/lib"
  exit 0
fi

command -v nix-hash >/dev/null || how_to "nix-hash is not installed, so no download can be checked (apt-get install nix-bin)"

# Unpacks tarball $1 (from source $2) into the cache after checking the tree's NAR hash.
install_tarball() {
  local tarball=$1 from=$2 tmp got
  mkdir -p "$cache" || { tried+=("$from: cannot create the cache directory $cache"); return 1; }
  tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
  if ! tar -xzf "$tarball" -C "$tmp" 2>/dev/null || [ ! -d "$tmp/nixpkgs.lib-$rev" ]; then
    rm -rf "$tmp"
    tried+=("$from: not a tarball of nixpkgs.lib-$rev")
    return 1
  fi
  got=$(nix-hash --type sha256 --base32 "$tmp/nixpkgs.lib-$rev")
  if [ "$got" != "$nar_hash" ]; then
    rm -rf "$tmp"
    tried+=("$from: the unpacked tree's NAR hash is $got, expected $nar_hash")
    return 1
  fi
  touch "$tmp/nixpkgs.lib-$rev/.vaultkeeper-verified"
  rm -rf "$dest"
  mv "$tmp/nixpkgs.lib-$rev" "$dest"
  rm -rf "$tmp"
  log "unpacked nixpkgs.lib $rev from $from into $dest"
  printf '%s\n' "$dest/lib"
  exit 0
}

# 3. The offline mirror beside the repository (CI).
if [ -d "$shared/vendor" ]; then
  if [ ! -e "$vendor" ]; then
    tried+=("$vendor does not exist")
  elif [ "$(sha256sum "$vendor" | cut -d' ' -f1)" != "$tar_sha256" ]; then
    tried+=("$vendor: sha256 is $(sha256sum "$vendor" | cut -d' ' -f1), expected $tar_sha256")
  else
    install_tarball "$vendor" "$vendor" || true
  fi
else
  tried+=("no offline mirror: $shared/vendor does not exist")
fi

# 4. The network.
download=$(mktemp)
trap 'rm -f "$download"' EXIT
if curl -fsSL --connect-timeout 10 --max-time 120 -o "$download" "$url" 2>/dev/null; then
  install_tarball "$download" "$url" || true
else
  tried+=("cannot download $url")
fi

how_to "${tried[@]}"
