#!/usr/bin/env bash
# Regenerates tests/fixtures/audit/openbao-2.7.2-socket.log: what a real
# OpenBao 2.7.2 sends to a socket audit device (unix socket, read by a small
# Python listener) while this script performs every dangerous action the
# audit rules know, each once, among ordinary traffic. The same actions are
# listed in tests/audit.rs (the test that replays the capture) and
# docs/reference/audit-rules.md.
#
# The server is a throwaway dev server; every token, key and password is
# random and dies with it. Request paths are not HMAC'd by the audit device,
# so the script never puts a secret in a path, and at the end it checks that
# no secret it created appears anywhere in the capture.
#
# Usage: scripts/capture-audit.sh [OUTPUT]   (needs python3, curl)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_openbao
command -v curl >/dev/null || die "curl is needed (apt-get install curl)"

OUT=${1:-tests/fixtures/audit/openbao-2.7.2-socket.log}
WORK=$(mktemp -d)
BAO_PID= LISTENER_PID=
cleanup() {
  [ -n "$BAO_PID" ] && kill "$BAO_PID" 2>/dev/null && wait "$BAO_PID" 2>/dev/null
  [ -n "$LISTENER_PID" ] && kill "$LISTENER_PID" 2>/dev/null && wait "$LISTENER_PID" 2>/dev/null
  [ -n "${KEEP_WORK:-}" ] && echo "work dir kept: $WORK" || rm -rf "$WORK"
}
trap cleanup EXIT

rand() { python3 -c 'import secrets; print(secrets.token_hex(16))'; }
SECRETS=()
keep() { SECRETS+=("$1"); }

# The socket device's peer: appends every line from every connection.
SOCK=$WORK/audit.sock
python3 - "$SOCK" "$WORK/capture.log" <<'PY' &
import os, socket, sys, threading
path, out = sys.argv[1], sys.argv[2]
lock = threading.Lock()
f = open(out, "ab", buffering=0)
s = socket.socket(socket.AF_UNIX); s.bind(path); s.listen(16)
def serve(c):
    buf = b""
    while True:
        d = c.recv(65536)
        if not d: break
        buf += d
        *lines, buf = buf.split(b"\n")
        with lock:
            for l in lines:
                if l: f.write(l + b"\n")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
LISTENER_PID=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
[ -S "$SOCK" ] || die "the capture listener did not start"

PORT=$(free_port_pair)
PORT2=$(free_port_pair)
ROOT=$(rand); keep "$ROOT"
mkdir -p "$WORK/plugins"
cp /bin/true "$WORK/plugins/vk-test-plugin"
cat >"$WORK/server.hcl" <<EOF
audit "socket" "capture" {
  options = { address = "$SOCK", socket_type = "unix" }
}
audit "file" "local" {
  options = { file_path = "$WORK/file.log" }
}
listener "tcp" {
  address = "127.0.0.1:$PORT2"
  tls_disable = true
}
raw_storage_endpoint = true
plugin_directory = "$WORK/plugins"
EOF
"$BAO_BIN" server -dev -dev-root-token-id="$ROOT" -dev-listen-address="127.0.0.1:$PORT" \
  -config="$WORK/server.hcl" >"$WORK/bao.log" 2>&1 &
BAO_PID=$!
export BAO_ADDR=http://127.0.0.1:$PORT BAO_TOKEN=$ROOT
wait_http_200 "$BAO_ADDR/v1/sys/health" 30 || die "OpenBao did not start: $(tail -20 "$WORK/bao.log")"
UNSEAL=
for _ in $(seq 100); do
  UNSEAL=$(sed -n 's/^Unseal Key: //p' "$WORK/bao.log" | head -1)
  [ -n "$UNSEAL" ] && break
  sleep 0.1
done
[ -n "$UNSEAL" ] || die "no unseal key in the dev server's output"
keep "$UNSEAL"
bao() { "$BAO_BIN" "$@"; }
api() { # METHOD PATH [JSON] [extra curl args...]
  local m=$1 p=$2 d=${3:-}
  shift 3 || shift $#
  curl -sS -o /dev/null -w '%{http_code}\n' -X "$m" -H "X-Vault-Token: $BAO_TOKEN" \
    ${d:+--data "$d"} "$@" "$BAO_ADDR/v1/$p"
}
step() { printf '  - %s\n' "$*"; }

say "ordinary traffic (no alert expected)"
PW=$(rand); keep "$PW"
bao kv put -mount=secret app/db password="$PW" >/dev/null
bao kv get -mount=secret app/db >/dev/null
bao kv list -mount=secret / >/dev/null
bao token lookup >/dev/null

say "dangerous actions, one each"
step "root token created (auth/token/create with policy root)"
EMERG=$(bao token create -policy=root -display-name=emergency -field=token); keep "$EMERG"
step "root token used from a new remote address (127.0.0.3)"
curl -sS -o /dev/null --interface 127.0.0.3 -H "X-Vault-Token: $EMERG" "http://127.0.0.1:$PORT2/v1/sys/mounts"
step "policy written, then deleted (legacy sys/policy spelling)"
api PUT sys/policy/vk-legacy '{"policy":"path \"secret/*\" { capabilities = [\"read\"] }"}'
api DELETE sys/policy/vk-legacy
step "auth method enabled (userpass) and secrets engine enabled (kv1), each disabled later"
bao auth enable userpass >/dev/null
bao secrets enable -path=kv1 kv >/dev/null
step "secrets engine tuned (ordinary: medium)"
bao secrets tune -max-lease-ttl=2h kv1 >/dev/null
step "secrets engine tuned with audit_non_hmac_request_keys (critical)"
bao secrets tune -audit-non-hmac-request-keys=vk_field kv1 >/dev/null
step "auth method tuned with listing_visibility (critical)"
bao auth tune -listing-visibility=unauth userpass/ >/dev/null
step "auth method tuned through sys/mounts/auth/<m>/tune (other spelling)"
bao auth tune -max-lease-ttl=2000h userpass/ >/dev/null
api POST sys/mounts/auth/userpass/tune '{"default_lease_ttl":"1h"}'
step "long-TTL token from a login (userpass, token_ttl 800h)"
UPW=$(rand); keep "$UPW"
bao write auth/userpass/users/vk-bob password="$UPW" token_ttl=800h token_max_ttl=1000h >/dev/null
T=$(bao login -method=userpass -no-store -field=token username=vk-bob password="$UPW"); keep "$T"
step "periodic token from an AppRole login (token_period 24h)"
bao auth enable approle >/dev/null
bao write auth/approle/role/vk-periodic token_period=24h token_policies=default >/dev/null
RID=$(bao read -field=role_id auth/approle/role/vk-periodic/role-id)
SID=$(bao write -f -field=secret_id auth/approle/role/vk-periodic/secret-id); keep "$SID"
T=$(bao write -field=token auth/approle/login role_id="$RID" secret_id="$SID"); keep "$T"
step "token from a token role without an explicit max TTL (the system maximum, 768h: long TTL)"
bao write auth/token/roles/vk-forever allowed_policies=default orphan=false token_explicit_max_ttl=0 >/dev/null
T=$(bao token create -role=vk-forever -policy=default -field=token); keep "$T"
step "plugin registered in the catalog"
SUM=$(sha256sum "$WORK/plugins/vk-test-plugin" | cut -d' ' -f1)
bao plugin register -sha256="$SUM" -command=vk-test-plugin secret vk-test-plugin >/dev/null
step "raw storage read (sys/raw)"
api GET sys/raw/core/mounts ''
step "audited request header configured (sys/config/auditing/request-headers)"
bao write sys/config/auditing/request-headers/x-vk-test hmac=false >/dev/null
step "leases revoked with revoke-prefix, then revoke-force"
api PUT sys/leases/revoke-prefix/auth/approle/login ''
api PUT sys/leases/revoke-force/auth/userpass/login ''
step "identity entity and group written with policies (an entity without policies: no alert)"
bao write identity/entity name=vk-plain >/dev/null
bao write identity/entity name=vk-admin policies=admin >/dev/null
bao write identity/group name=vk-admins policies=admin >/dev/null
step "namespace created; a policy written inside it (header and URL-path spellings); namespace deleted"
bao namespace create vk-ns >/dev/null
bao policy write -namespace=vk-ns vk-in-ns - <<<'path "secret/*" { capabilities = ["read"] }' >/dev/null
api PUT vk-ns/sys/policies/acl/vk-in-ns-path '{"policy":"path \"secret/*\" { capabilities = [\"read\"] }"}'
bao namespace delete vk-ns >/dev/null
step "wrapped secret-id unwrapped twice (the second fails)"
W=$(bao write -wrap-ttl=1h -f -field=wrapping_token auth/approle/role/vk-periodic/secret-id); keep "$W"
bao unwrap "$W" >/dev/null
bao unwrap "$W" >/dev/null 2>&1 && die "a wrapping token worked twice"
step "six failed userpass logins"
for _ in 1 2 3 4 5 6; do
  BAD=$(rand); keep "$BAD"
  bao login -method=userpass -no-store username=vk-bob password="$BAD" >/dev/null 2>&1 && die "a bad password logged in"
done
step "root token generation with Vault's sys/generate-root spelling: started, cancelled"
api PUT sys/generate-root/attempt '{}'
api DELETE sys/generate-root/attempt ''
step "root token generation with OpenBao's sys/generate-root-token spelling: started, then completed (complete: true)"
INIT=$(bao operator generate-root -init -format=json)
NONCE=$(printf '%s' "$INIT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["nonce"])')
OTP=$(printf '%s' "$INIT" | python3 -c 'import json,sys; print(json.load(sys.stdin)["otp"])'); keep "$OTP"
DONE=$(bao operator generate-root -nonce="$NONCE" -format=json "$UNSEAL")
printf '%s' "$DONE" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["complete"], d' || die "root generation did not complete"
ENC=$(printf '%s' "$DONE" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("encoded_token") or d.get("encoded_root_token"))'); keep "$ENC"
NEWROOT=$(bao operator generate-root -decode="$ENC" -otp="$OTP"); keep "$NEWROOT"
step "auth method and secrets engine disabled"
bao secrets disable kv1 >/dev/null
bao auth disable userpass >/dev/null
step "sealed"
bao operator seal >/dev/null

kill "$BAO_PID"; wait "$BAO_PID" 2>/dev/null || true; BAO_PID=
sleep 0.5
kill "$LISTENER_PID"; wait "$LISTENER_PID" 2>/dev/null || true; LISTENER_PID=

LINES=$(wc -l <"$WORK/capture.log")
[ "$LINES" -gt 100 ] || die "only $LINES lines captured"
for s in "${SECRETS[@]}"; do
  if grep -qF -- "$s" "$WORK/capture.log"; then die "a raw secret of the run is in the capture; not writing it"; fi
done
mkdir -p "$(dirname "$OUT")"
cp "$WORK/capture.log" "$OUT"
say "wrote $OUT ($LINES lines; none of the ${#SECRETS[@]} secrets of the run in it)"
