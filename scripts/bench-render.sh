#!/usr/bin/env bash
# Cold render of 100 secrets x 5 keys against a local OpenBao dev server:
# vaultkeeper fetch vs `bao agent` (exit_after_auth, one template per secret) vs a
# curl-per-secret shell loop (the seed's vault-fetch.sh approach).
# Outputs on tmpfs (/dev/shm), caches on disk (fsynced). Prints a hyperfine table.
#   scripts/bench-render.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
RUNS=${1:-10}
N=100

ensure_openbao
apt_install hyperfine jq curl
cargo build --release --quiet
VK=$PWD/target/release/vaultkeeper

W=$(mktemp -d /var/tmp/vk-bench.XXXXXX)      # on disk: state and caches
OUT=$(mktemp -d /dev/shm/vk-bench-out.XXXXXX)  # tmpfs: rendered outputs
PORT=$(free_port_pair)
export BAO_ADDR=http://127.0.0.1:$PORT
cleanup() { [ -n "${BAO_PID:-}" ] && kill "$BAO_PID" 2>/dev/null; rm -rf "$W" "$OUT"; }
trap cleanup EXIT
"$BAO_BIN" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$PORT" >"$W/bao.log" 2>&1 &
BAO_PID=$!
wait_http_200 "$BAO_ADDR/v1/sys/health" 30 || die "OpenBao did not start"
export BAO_TOKEN=root

bench_seed_secrets "$N" "$W"
unset BAO_TOKEN

# vaultkeeper spec
python3 - "$W" "$OUT" "$N" "$BAO_ADDR" <<'PY'
import json, sys
w, out, n, addr = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
secrets = {f"s{i}": {"secretPath": f"hosts/bench/s{i}", "outputDir": f"{out}/vk/s{i}",
                     "cacheDir": f"{w}/state/cache/s{i}"} for i in range(1, n + 1)}
json.dump({"vault": {"address": addr}, "stateDir": f"{w}/state", "secrets": secrets}, open(f"{w}/spec.json", "w"))
PY

# bao agent: one template per secret, render once and exit
{
  echo "vault { address = \"$BAO_ADDR\" }"
  echo "exit_after_auth = true"
  echo "auto_auth {"
  echo "  method \"approle\" {"
  echo "    config = { role_id_file_path = \"$W/state/approle/role-id\", secret_id_file_path = \"$W/state/approle/secret-id\", remove_secret_id_file_after_reading = false }"
  echo "  }"
  echo "}"
  for i in $(seq 1 $N); do
    mkdir -p "$W/tpl"
    printf '{{ with secret "secret/data/hosts/bench/s%s" }}{{ range $k, $v := .Data.data }}{{ $k }}={{ $v }}\n{{ end }}{{ end }}' "$i" >"$W/tpl/s$i.tpl"
    echo "template { source = \"$W/tpl/s$i.tpl\" destination = \"$OUT/agent/s$i\" perms = \"0400\" }"
  done
} >"$W/agent.hcl"

# the seed's approach: curl per secret, jq to split keys into files
cat >"$W/curl-fetch.sh" <<SH
#!/usr/bin/env bash
set -euo pipefail
TOKEN=\$(curl -sf -X POST -d "{\"role_id\":\"\$(cat $W/state/approle/role-id)\",\"secret_id\":\"\$(cat $W/state/approle/secret-id)\"}" $BAO_ADDR/v1/auth/approle/login | jq -r .auth.client_token)
for i in \$(seq 1 $N); do
  d=$OUT/curl/s\$i; mkdir -p \$d
  json=\$(curl -sf -H "X-Vault-Token: \$TOKEN" $BAO_ADDR/v1/secret/data/hosts/bench/s\$i)
  for k in \$(jq -r '.data.data | keys[]' <<<"\$json"); do
    jq -r --arg k "\$k" '.data.data[\$k]' <<<"\$json" >\$d/.\$k.tmp && chmod 0400 \$d/.\$k.tmp && mv \$d/.\$k.tmp \$d/\$k
  done
done
SH
chmod +x "$W/curl-fetch.sh"

say "sanity: each tool renders all $N secrets"
"$VK" --spec "$W/spec.json" fetch 2>/dev/null
"$BAO_BIN" agent -config="$W/agent.hcl" >"$W/agent.log" 2>&1 || die "bao agent failed: $(tail -5 "$W/agent.log")"
"$W/curl-fetch.sh"
[ "$(find -L "$OUT/vk" -type f | grep -vc '/\.')" = $((N * 5)) ] || die "vaultkeeper did not render $((N * 5)) files"
[ "$(ls "$OUT/agent" | wc -l)" = $N ] || die "bao agent did not render $N files"
[ "$(find "$OUT/curl" -type f | wc -l)" = $((N * 5)) ] || die "curl loop did not render $((N * 5)) files"

if [ -n "${BENCH_SHELL:-}" ]; then
  say "BENCH_SHELL set: a shell in the prepared bench directory (W=$W OUT=$OUT VK=$VK); exit it to clean up"
  W=$W OUT=$OUT VK=$VK BAO_BIN=$BAO_BIN bash -c "$BENCH_SHELL"
  exit 0
fi

say "cold render, $RUNS runs each (outputs on tmpfs, caches on disk)"
hyperfine --runs "$RUNS" --warmup 1 --export-markdown "$W/result.md" \
  --prepare "rm -rf $OUT/vk $W/state/cache $W/state/status" \
  -n "vaultkeeper fetch" "$VK --spec $W/spec.json fetch" \
  --prepare "rm -rf $OUT/agent" \
  -n "bao agent (exit_after_auth)" "$BAO_BIN agent -config=$W/agent.hcl" \
  --prepare "rm -rf $OUT/curl" \
  -n "curl + jq loop" "$W/curl-fetch.sh"
cat "$W/result.md"
