#!/usr/bin/env bash
# The main job end to end on an embedded default: a local OpenBao dev server on
# loopback, a host provisioned with `vaultkeeper provision`, bootstrapped from the
# wrapped token, secrets rendered into a temporary directory (one owned by a
# user and group made for the demo), then Vault stopped and the secrets rendered
# again from the last-known-good cache.
#
# First run: about 1 minute to install OpenBao into target/tools, 5-10 minutes to
# build vaultkeeper in release mode (2 cores). Later runs: under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
START=$SECONDS
step_start=$SECONDS
took() { echo "   ($((SECONDS - step_start))s)"; step_start=$SECONDS; }

[ "$(id -u)" = 0 ] || die "the demo creates a user and group and renders files owned by them: run it as root (e.g. sudo -E env PATH=\"\$PATH\" scripts/demo.sh)"
need_cmd curl curl
need_cmd useradd passwd
need_cmd find findutils
command -v cargo >/dev/null || die "cargo is not installed: install Rust with rustup (https://rustup.rs) and run this again"
ensure_openbao
took

# VAULTKEEPER_DEMO_BIN: a binary already built (the test suite runs the demo
# with its debug build instead of building a release one).
if [ -n "${VAULTKEEPER_DEMO_BIN:-}" ]; then
  VK=$VAULTKEEPER_DEMO_BIN
  [ -x "$VK" ] || die "VAULTKEEPER_DEMO_BIN=$VK is not an executable"
else
  if [ -x target/release/vaultkeeper ]; then
    say "building vaultkeeper (release; incremental, usually seconds)"
  else
    say "building vaultkeeper (release; the first build takes 5-10 minutes on 2 cores, cargo shows its progress)"
  fi
  cargo build --release
  VK=$PWD/target/release/vaultkeeper
fi
"$VK" --version
took

DEMO=$(mktemp -d /tmp/vaultkeeper-demo.XXXXXX)
chmod 0755 "$DEMO"
PORT=$(free_port_pair)
export BAO_ADDR=http://127.0.0.1:$PORT
# A user and group for the grafana secret, made here and removed at the end
# (only if this script made them).
DEMO_USER=vkdemo-$$
MADE_USER=
cleanup() {
  [ -n "${BAO_PID:-}" ] && kill "$BAO_PID" 2>/dev/null && wait "$BAO_PID" 2>/dev/null
  rm -rf "$DEMO"
  if [ -n "$MADE_USER" ]; then userdel "$DEMO_USER" 2>/dev/null || true; getent group "$DEMO_USER" >/dev/null && groupdel "$DEMO_USER" 2>/dev/null; fi
  return 0
}
trap cleanup EXIT

say "starting an OpenBao $OPENBAO_VERSION dev server on $BAO_ADDR"
"$BAO_BIN" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$PORT" >"$DEMO/bao.log" 2>&1 &
BAO_PID=$!
wait_http_200 "$BAO_ADDR/v1/sys/health" 30 || die "OpenBao did not answer on $BAO_ADDR within 30 s; its log:
$(cat "$DEMO/bao.log")"
took

say "operator: writing two secrets for host demo01 (random values, never printed)"
rand() { head -c 18 /dev/urandom | base64; }
printf '{"data":{"admin_password":"%s","secret_key":"%s"}}' "$(rand)" "$(rand)" >"$DEMO/grafana.json"
printf '{"data":{"user":"app","password":"%s","port":5432}}' "$(rand)" >"$DEMO/postgres.json"
BAO_TOKEN=root "$BAO_BIN" write secret/data/hosts/demo01/grafana @"$DEMO/grafana.json" >/dev/null
BAO_TOKEN=root "$BAO_BIN" write secret/data/hosts/demo01/postgres @"$DEMO/postgres.json" >/dev/null
rm "$DEMO"/grafana.json "$DEMO"/postgres.json

say "operator: vaultkeeper provision --host demo01 (policy, AppRole, wrapped token)"
WRAPPED=$(BAO_TOKEN=root "$VK" provision --host demo01 --wrap-ttl 10m)
echo "got a single-use wrapped token (${#WRAPPED} characters, valid 10 minutes)"

say "host: creating user and group $DEMO_USER (grafana's files will belong to them)"
getent passwd "$DEMO_USER" >/dev/null && die "user $DEMO_USER already exists; run the demo again (the name has the process id)"
useradd --system --user-group --no-create-home --shell /usr/sbin/nologin "$DEMO_USER"
MADE_USER=1
id "$DEMO_USER"

cat >"$DEMO/spec.json" <<JSON
{
  "vault": { "address": "$BAO_ADDR" },
  "approle": { "roleName": "demo01" },
  "stateDir": "$DEMO/state",
  "secrets": {
    "grafana":  { "secretPath": "hosts/demo01/grafana",  "outputDir": "$DEMO/run/secrets/grafana", "mode": "0440",
                  "owner": "$DEMO_USER", "group": "$DEMO_USER", "services": ["grafana"] },
    "postgres": { "secretPath": "hosts/demo01/postgres", "outputDir": "$DEMO/run/secrets/postgres", "mode": "0400",
                  "owner": "root", "group": "root", "services": ["postgresql"], "restartTrigger": true, "restartInterval": "weekly" }
  },
  "criticalServices": ["openbao"]
}
JSON
say "host: vaultkeeper check"
"$VK" --spec "$DEMO/spec.json" check

say "host: first boot, vaultkeeper bootstrap (token from VAULT_WRAPPED_TOKEN)"
VAULT_WRAPPED_TOKEN=$WRAPPED "$VK" --spec "$DEMO/spec.json" bootstrap
# (On a real boot a failed bootstrap exits 0 so the boot goes on; the demo stops.)
[ -s "$DEMO/state/approle/secret-id" ] || die "bootstrap stored no credentials: its message above says why"
ls -la "$DEMO/state/approle" | tail -n +2 | sort -k9

say "host: vaultkeeper fetch (one login, secrets fetched concurrently)"
"$VK" --spec "$DEMO/spec.json" fetch
# Each secret's directory is a symlink to its current generation; one file per key.
list() {
  find "$DEMO/run/secrets" -mindepth 1 -maxdepth 1 ! -name '.*' -printf '%p -> %l\n' | sort
  find -L "$DEMO/run/secrets" -mindepth 2 -type f ! -path '*/.*' -printf '%p %M %u %g %s\n' | sort |
    awk '{ printf "%s %-14s %-14s %4s bytes  %s\n", $2, $3, $4, $5, $1 }'
}
list

say "the same token cannot be used twice (bootstrap reports it and exits 0; --strict would exit 10)"
mv "$DEMO/state/approle/secret-id" "$DEMO/secret-id.saved"
rc=0; VAULT_WRAPPED_TOKEN=$WRAPPED "$VK" --spec "$DEMO/spec.json" bootstrap || rc=$?
echo "bootstrap exit code: $rc"
mv "$DEMO/secret-id.saved" "$DEMO/state/approle/secret-id"

say "Vault goes away: stopping OpenBao, wiping /run as a reboot would"
kill "$BAO_PID"; wait "$BAO_PID" 2>/dev/null || true; BAO_PID=
rm -rf "$DEMO/run"
"$VK" --spec "$DEMO/spec.json" fetch
list

say "vaultkeeper status during the outage (exit code 6: Vault unreachable)"
rc=0; "$VK" --spec "$DEMO/spec.json" status || rc=$?
echo "status exit code: $rc"

trap - EXIT
cleanup
say "summary ($((SECONDS - START))s)"
cat <<EOF
Shown:
  - vaultkeeper provision made a policy, an AppRole and a single-use wrapped token;
  - bootstrap unwrapped it into the host's role-id and secret-id (0600), and refused it the second time;
  - fetch rendered one file per key, grafana's owned by a user and group made for the demo (0440),
    postgres's by root (0400), each directory a symlink to an atomically switched generation;
  - with Vault stopped, fetch rendered both again from the last-known-good cache (exit 0),
    and status listed each secret as served from the cache.
  - user and group $DEMO_USER, the temporary directory and the dev server are gone.
Read next:
  docs/getting-started/quickstart.md     the same steps on your own Vault
  docs/how-to/provision-a-host.md        operators: policies, AppRoles, wrapped tokens
  docs/reference/cli.md                  every command, message and exit code
  docs/getting-started/nixos.md          the NixOS module
EOF
