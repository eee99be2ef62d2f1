#!/usr/bin/env bash
# What `nix build` and `nix flake check` do to the Rust derivations, simulated
# without nixpkgs (which cannot be brought to these machines):
#
#  1. evaluates the flake's packages and checks with nixpkgs' lib and a stand-in
#     nixpkgs (nix/build-sim.nix): each derivation's source paths (nix/source.nix,
#     the same list nix/package.nix gives lib.fileset), cargoTestFlags, phases;
#  2. copies exactly those files (as a flake does: the ones git tracks) into an
#     empty directory;
#  3. builds and tests there offline (--frozen: only the crates Cargo.lock names,
#     vendored as importCargoLock does), as the unprivileged user nixbld1, in fresh network
#     and mount namespaces (loopback only, as in the sandbox) where /etc/passwd
#     and /etc/group hold only root, nixbld and nobody, as in the Nix sandbox;
#  4. fails if the build, a test, or cargo's wish to change Cargo.lock fails.
#
# Debug profile (Nix builds release; the source set and the sandbox are what
# this checks), and a target directory of its own kept under
# target/nix-build-sim between runs: the first run compiles every crate (a few
# minutes), later runs only the copied crate itself. NixOS VM tests are listed,
# not run (they need full nixpkgs and KVM).
#
#   scripts/nix-build-sim.sh            # every package and check
#   scripts/nix-build-sim.sh package    # only these
# Needs root (namespaces, bind mounts, dropping to nixbld1). Prints one line
#   nix-build-sim: N passed, N failed
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

die() { printf 'nix-build-sim: FAILED: %s\n' "$*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root (it creates namespaces and drops to the build user nixbld1)"
for tool in nix-instantiate unshare setpriv ip git cargo python3; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

lib=$(scripts/nixpkgs-lib.sh) || die "no nixpkgs lib (see above)"
plan=$(nix-instantiate --eval --strict --json nix/build-sim.nix --argstr nixpkgsLib "$lib") \
  || die "cannot evaluate the flake's packages and checks (nix/build-sim.nix)"

# The build user, as nix-bin's nixbld1 (created when missing).
getent group nixbld >/dev/null || groupadd --system nixbld
id nixbld1 >/dev/null 2>&1 || useradd --system --gid nixbld --no-create-home --home-dir /homeless-shelter --shell /usr/sbin/nologin nixbld1
uid=$(id -u nixbld1)
gid=$(id -g nixbld1)

toolchain=$(dirname "$(dirname "$(rustup which cargo 2>/dev/null || command -v cargo)")")
[ -x "$toolchain/bin/rustc" ] || die "no rustc beside cargo in $toolchain/bin"
cache=${VAULTKEEPER_BUILD_SIM_DIR:-$repo/target/nix-build-sim}
target="$cache/target"
build="$cache/build"
logs="$repo/target/test-logs"
mkdir -p "$cache" "$logs"
chmod 0755 "$cache"

# The crates, as nixpkgs' importCargoLock (cargoLock.lockFile) gives them: one
# directory per Cargo.lock entry in a vendor directory that is world-readable
# (the Nix store is), never the builder's own ~/.cargo, whose files keep the
# modes of the crate tarballs (fnv-1.0.7/lib.rs is 0640) and which nixbld1
# cannot read. Made again when Cargo.lock changes.
vendor="$cache/vendor"
lockhash=$(sha256sum Cargo.lock | cut -d' ' -f1)
if [ "$(cat "$vendor/.cargo-lock-sha256" 2>/dev/null)" != "$lockhash" ]; then
  rm -rf "$vendor"
  # importCargoLock takes every crate Cargo.lock names, for every platform; a
  # build on Linux downloaded only Linux's: fetch the others once if needed.
  if ! cargo vendor --locked --offline --versioned-dirs "$vendor" >/dev/null 2>"$logs/nix-build-sim-vendor.log"; then
    rm -rf "$vendor"
    cargo fetch --locked >>"$logs/nix-build-sim-vendor.log" 2>&1 \
      && cargo vendor --locked --offline --versioned-dirs "$vendor" >/dev/null 2>>"$logs/nix-build-sim-vendor.log" \
      || die "cannot vendor the crates Cargo.lock names (every platform's, as importCargoLock does): run 'cargo fetch --locked' once with network to crates.io; see $logs/nix-build-sim-vendor.log"
  fi
  chmod -R u+rwX,go+rX,go-w "$vendor"
  echo "$lockhash" >"$vendor/.cargo-lock-sha256"
fi
mkdir -p "$target"
chown -R "$uid:$gid" "$target"
rm -rf "$build"
mkdir -p "$build"/{toolchain,nixpkgs/lib,cargo-home,etc}
chmod 0755 "$build"
chown "$uid:$gid" "$build/cargo-home"
# cargoSetupHook's configuration: crates.io replaced by the vendored sources.
mkdir -p "$build/vendor"
printf '[source.crates-io]\nreplace-with = "vendored-sources"\n\n[source.vendored-sources]\ndirectory = "%s"\n' "$build/vendor" >"$build/cargo-home/config.toml"
chmod 0644 "$build/cargo-home/config.toml"
printf 'root:x:0:0:Nix build user:/build:/noshell\nnixbld:x:%s:%s:Nix build user:/build:/noshell\nnobody:x:65534:65534:Nobody:/:/noshell\n' "$uid" "$gid" >"$build/etc/passwd"
printf 'root:x:0:\nnixbld:!:%s:\nnogroup:x:65534:\n' "$gid" >"$build/etc/group"
chmod 0644 "$build/etc/passwd" "$build/etc/group"

# Names to run: the arguments, else every distinct derivation (packages.default
# and checks.package are the same derivation: built once).
names=$(python3 - "$plan" "$@" <<'PY'
import json, sys
plan = json.loads(sys.argv[1]); wanted = sys.argv[2:]
seen, out = {}, []
for kind in ("checks", "packages"):
    for name, d in sorted(plan[kind].items()):
        key = json.dumps(d, sort_keys=True)
        label = name if kind == "checks" else f"packages.{name}"
        if wanted and name not in wanted and label not in wanted:
            continue
        if key in seen:
            print(f"{label}\tsame\t{seen[key]}")
            continue
        seen[key] = label
        print(f"{label}\t{'vm' if d['nixosTest'] else 'build'}\t{kind}")
PY
)
[ -n "$names" ] || die "no such package or check: $*"

field() { # KIND NAME FIELD -> JSON value (strings raw)
  python3 -c '
import json, sys
d = json.loads(sys.argv[1])[sys.argv[2]][sys.argv[3]][sys.argv[4]]
print(d if isinstance(d, str) else json.dumps(d))' "$plan" "$1" "$2" "$3"
}

passed=0
failed=0
failures=()
while IFS=$'\t' read -r label what kind; do
  name=${label#packages.}
  case $what in
    same) echo "nix-build-sim $label: the same derivation as $kind (built once)"; continue ;;
    vm) echo "nix-build-sim $label: a NixOS VM test (nix flake check runs it on a machine with Nix and KVM; not a source build)"; continue ;;
  esac
  start=$(date +%s)
  log="$logs/nix-build-sim-$name.log"
  src="$build/src-$name"
  mkdir -p "$src" "$build/tmp-$name"

  # 2. Exactly the source set: every path must exist, and only tracked files count.
  missing=()
  mapfile -t paths < <(field "$kind" "$name" sourcePaths | python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)))')
  for p in "${paths[@]}"; do [ -e "$p" ] || missing+=("$p"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "nix-build-sim $label: FAILED: the source set names paths that do not exist: ${missing[*]}" | tee "$log"
    failed=$((failed + 1)); failures+=("$label"); continue
  fi
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -- "${paths[@]}" | (cd "$repo" && xargs -0 cp --parents -t "$src")
  else
    cp -a --parents -t "$src" "${paths[@]}"
  fi
  chown -R "$uid:$gid" "$src" "$build/tmp-$name"
  files=$(find "$src" -type f | wc -l)

  # 3. The phases, as the derivation states them.
  buildPhase=$(field "$kind" "$name" buildPhase)
  preCheck=$(field "$kind" "$name" preCheck)
  doCheck=$(field "$kind" "$name" doCheck)
  flags=$(field "$kind" "$name" cargoTestFlags | python3 -c 'import json,shlex,sys; print(" ".join(map(shlex.quote, json.load(sys.stdin))))')
  # buildRustPackage's cargoCheckHook: cargo test $cargoTestFlags -- $checkFlags
  checkflags=$(field "$kind" "$name" checkFlags | python3 -c 'import json,shlex,sys; print(" ".join(map(shlex.quote, json.load(sys.stdin))))')
  envs=$(field "$kind" "$name" env | python3 -c '
import json, shlex, sys
for k, v in json.load(sys.stdin).items():
    v = v.replace("/nix/store/00000000000000000000000000000000-nixpkgs", sys.argv[1])
    print(f"export {k}={shlex.quote(v)}")' "$build/nixpkgs")
  script="$build/phases-$name.sh"
  {
    echo 'set -euo pipefail'
    echo "cd $src"
    echo "export HOME=/homeless-shelter TMPDIR=$build/tmp-$name CARGO_HOME=$build/cargo-home"
    echo "export CARGO_TARGET_DIR=$target CARGO_NET_OFFLINE=true PATH=$build/toolchain/bin:/usr/bin:/bin"
    echo 'runHook() { :; }'
    printf '%s\n' "$envs"
    echo 'echo "== build phase as $(id -un) ($(id -u):$(id -g)), network interfaces: $(ip -o link | cut -d: -f2 | tr -d "\n")"'
    if [ "$buildPhase" != null ] && [ -n "$buildPhase" ]; then
      printf '%s\n' "$buildPhase"
    else
      echo 'cargo build --frozen'
    fi
    postInstall=$(field "$kind" "$name" postInstall)
    installPhase=$(field "$kind" "$name" installPhase)
    # (A derivation with its own installPhase that does not run the hooks skips it.)
    if [ -n "$postInstall" ] && [ "$installPhase" = null ]; then
      # The install phase's hook, with the debug binary as $out/bin and
      # nixpkgs' installShellFiles helpers reduced to "the file is not empty".
      echo "out=$build/tmp-$name/out; mkdir -p \$out/bin; cp $target/debug/vaultkeeper \$out/bin/"
      cat <<'HOOKS'
installShellCompletion() {
  shift 2
  while [ $# -gt 0 ]; do [ -n "$(cat "$2")" ] || { echo "installShellCompletion: $1 completion is empty" >&2; return 1; }; shift 2; done
}
installManPage() { [ -s "$1" ] || { echo "installManPage: $1 is empty" >&2; return 1; }; }
HOOKS
      echo 'echo "== install phase (postInstall)"'
      echo 'cd "$TMPDIR"'
      printf '%s\n' "$postInstall"
      echo "cd $src"
    fi
    if [ "$doCheck" = true ]; then
      echo 'echo "== check phase"'
      printf '%s\n' "$preCheck"
      echo "cargo test --frozen $flags -- $checkflags"
    fi
  } >"$script"
  chmod 0644 "$script"
  cp "$src/Cargo.lock" "$build/Cargo.lock.$name"

  set +e
  timeout 1800 unshare --net --mount -- bash -c '
    set -e
    mount --make-rprivate /
    ip link set lo up
    mount --bind "$1/etc/passwd" /etc/passwd
    mount --bind "$1/etc/group" /etc/group
    mount --bind -o ro "$2" "$1/toolchain"
    mount --bind -o ro "$3" "$1/vendor"
    mount --bind -o ro "$4" "$1/nixpkgs/lib"
    exec setpriv --reuid="$5" --regid="$6" --clear-groups --inh-caps=-all --bounding-set=-all --no-new-privs \
      env -i bash "$7"' sim "$build" "$toolchain" "$vendor" "$lib" "$uid" "$gid" "$script" >"$log" 2>&1
  rc=$?
  set -e
  if [ $rc = 0 ] && ! cmp -s "$build/Cargo.lock.$name" "$src/Cargo.lock"; then
    echo "cargo changed Cargo.lock: it is out of date (run cargo build and commit Cargo.lock)" >>"$log"
    rc=1
  fi
  tests=$( (grep -Eo '^test result: [a-z]+\. [0-9]+ passed' "$log" || true) | awk '{s += $4} END {print s + 0}')
  if [ $rc = 0 ]; then
    echo "nix-build-sim $label: ok ($files files, $tests tests passed as nixbld1 without network, $(( $(date +%s) - start )) s; log $log)"
    passed=$((passed + 1))
  else
    echo "nix-build-sim $label: FAILED (exit $rc, $(( $(date +%s) - start )) s); the end of $log:"
    tail -n 40 "$log" | sed 's/^/    /'
    failed=$((failed + 1)); failures+=("$label")
  fi
done <<<"$names"

echo "nix-build-sim: $passed passed, $failed failed${failures:+ (${failures[*]})}"
[ $failed = 0 ]
