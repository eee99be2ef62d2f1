#!/usr/bin/env bash
# The main job end to end on an embedded default: a local OpenBao dev server on
# loopback, a host provisioned with `vaultkeeper provision`, bootstrapped from the
# wrapped token, secrets rendered into a temporary directory, then Vault stopped
# and the secrets rendered again from the last-known-good cache.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_openbao
command -v cargo >/dev/null || die "cargo is not installed (https://rustup.rs)"
say "building vaultkeeper (release)"
cargo build --release --quiet
VK=$PWD/target/release/vaultkeeper

DEMO=$(mktemp -d /tmp/vaultkeeper-demo.XXXXXX)
PORT=$(free_port_pair)
export BAO_ADDR=http://127.0.0.1:$PORT
cleanup() {
  [ -n "${BAO_PID:-}" ] && kill "$BAO_PID" 2>/dev/null && wait "$BAO_PID" 2>/dev/null
  rm -rf "$DEMO"
}
trap cleanup EXIT

say "starting an OpenBao $OPENBAO_VERSION dev server on $BAO_ADDR"
"$BAO_BIN" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$PORT" >"$DEMO/bao.log" 2>&1 &
BAO_PID=$!
wait_http_200 "$BAO_ADDR/v1/sys/health" 30 || die "OpenBao did not start: $(cat "$DEMO/bao.log")"

say "operator: writing two secrets for host demo01 (random values, never printed)"
rand() { head -c 18 /dev/urandom | base64; }
printf '{"data":{"admin_password":"%s","secret_key":"%s"}}' "$(rand)" "$(rand)" >"$DEMO/grafana.json"
printf '{"data":{"user":"app","password":"%s","port":5432}}' "$(rand)" >"$DEMO/postgres.json"
BAO_TOKEN=root "$BAO_BIN" write secret/data/hosts/demo01/grafana @"$DEMO/grafana.json" >/dev/null
BAO_TOKEN=root "$BAO_BIN" write secret/data/hosts/demo01/postgres @"$DEMO/postgres.json" >/dev/null
rm "$DEMO"/grafana.json "$DEMO"/postgres.json

say "operator: vaultkeeper provision --host demo01 (policy, AppRole, wrapped token)"
WRAPPED=$(VAULT_TOKEN=root "$VK" provision --host demo01 --wrap-ttl 10m)
echo "got a single-use wrapped token (${#WRAPPED} characters, valid 10 minutes)"

cat >"$DEMO/spec.json" <<JSON
{
  "vault": { "address": "$BAO_ADDR" },
  "stateDir": "$DEMO/state",
  "secrets": {
    "grafana":  { "secretPath": "hosts/demo01/grafana",  "outputDir": "$DEMO/run/secrets/grafana", "mode": "0400" },
    "postgres": { "secretPath": "hosts/demo01/postgres", "outputDir": "$DEMO/run/secrets/postgres", "mode": "0440",
                  "owner": "root", "group": "$(id -gn)", "services": ["postgresql"], "restartTrigger": true, "restartInterval": "weekly" }
  },
  "criticalServices": ["openbao"]
}
JSON
say "host: vaultkeeper check"
"$VK" --spec "$DEMO/spec.json" check

say "host: first boot, vaultkeeper bootstrap (token from VAULT_WRAPPED_TOKEN)"
VAULT_WRAPPED_TOKEN=$WRAPPED "$VK" --spec "$DEMO/spec.json" bootstrap
ls -la "$DEMO/state/approle"

say "host: vaultkeeper fetch (one login, secrets fetched concurrently)"
"$VK" --spec "$DEMO/spec.json" fetch
list() { find "$DEMO/run/secrets" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%p -> %l\n'; find -L "$DEMO/run/secrets" -mindepth 2 -type f -printf '%M %u:%g %6s bytes  %p\n' | grep -v '/\.' | sort -k4; }
list

say "the same token cannot be used twice (bootstrap reports it and exits 0)"
mv "$DEMO/state/approle/secret-id" "$DEMO/secret-id.saved"
rc=0; VAULT_WRAPPED_TOKEN=$WRAPPED "$VK" --spec "$DEMO/spec.json" bootstrap || rc=$?
echo "bootstrap exit code: $rc"
mv "$DEMO/secret-id.saved" "$DEMO/state/approle/secret-id"

say "Vault goes away: stopping OpenBao, wiping /run as a reboot would"
kill "$BAO_PID"; wait "$BAO_PID" 2>/dev/null || true; BAO_PID=
rm -rf "$DEMO/run"
"$VK" --spec "$DEMO/spec.json" fetch
list
say "done: every secret rendered from the last-known-good cache while Vault was down"
