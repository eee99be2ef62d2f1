#!/usr/bin/env bash
# The idle daemon with 100 secrets against a local OpenBao dev server that has a
# file audit device: `vaultkeeper run` (release build) vs `bao agent` in daemon
# mode with 100 templates, same secrets, same refresh interval.
# For each: RSS at the end (VmRSS, and the peak VmHWM), CPU over the idle window
# (utime+stime from /proc/PID/stat), and every request it sent to OpenBao during
# that window (from the audit log), per refresh cycle.
#   scripts/bench-daemon.sh [IDLE_SECONDS] [REFRESH_SECONDS]     (defaults 300, 30)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
IDLE=${1:-300}
REFRESH=${2:-30}
N=100

ensure_openbao
apt_install jq curl
cargo build --release --quiet
VK=${CARGO_TARGET_DIR:-$PWD/target}/release/vaultkeeper

W=$(mktemp -d /var/tmp/vk-bench-daemon.XXXXXX)
OUT=$(mktemp -d /dev/shm/vk-bench-daemon-out.XXXXXX)
PORT=$(free_port_pair)
export BAO_ADDR=http://127.0.0.1:$PORT
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$W" "$OUT"
}
trap cleanup EXIT
cat >"$W/bao.hcl" <<HCL
audit "file" "bench" { options = { file_path = "$W/audit.log" } }
HCL
"$BAO_BIN" server -dev -dev-root-token-id=root -dev-listen-address="127.0.0.1:$PORT" -config="$W/bao.hcl" >"$W/bao.log" 2>&1 &
PIDS+=($!)
wait_http_200 "$BAO_ADDR/v1/sys/health" 30 || die "OpenBao did not start"
export BAO_TOKEN=root

bench_seed_secrets "$N" "$W"
unset BAO_TOKEN

python3 - "$W" "$OUT" "$N" "$BAO_ADDR" "$REFRESH" <<'PY'
import json, sys
w, out, n, addr, refresh = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
secrets = {f"s{i}": {"secretPath": f"hosts/bench/s{i}", "outputDir": f"{out}/vk/s{i}",
                     "cacheDir": f"{w}/state/cache/s{i}", "services": [f"bench{i}"]} for i in range(1, n + 1)}
json.dump({"vault": {"address": addr}, "stateDir": f"{w}/state", "refreshInterval": f"{refresh}s",
           "secrets": secrets}, open(f"{w}/spec.json", "w"))
PY
{
  echo "vault { address = \"$BAO_ADDR\" }"
  echo "auto_auth {"
  echo "  method \"approle\" {"
  echo "    config = { role_id_file_path = \"$W/state/approle/role-id\", secret_id_file_path = \"$W/state/approle/secret-id\", remove_secret_id_file_after_reading = false }"
  echo "  }"
  echo "}"
  echo "template_config { static_secret_render_interval = \"${REFRESH}s\" }"
  mkdir -p "$W/tpl"
  for i in $(seq 1 $N); do
    printf '{{ with secret "secret/data/hosts/bench/s%s" }}{{ range $k, $v := .Data.data }}{{ $k }}={{ $v }}\n{{ end }}{{ end }}' "$i" >"$W/tpl/s$i.tpl"
    echo "template { source = \"$W/tpl/s$i.tpl\" destination = \"$OUT/agent/s$i\" perms = \"0400\" }"
  done
} >"$W/agent.hcl"

audit_lines() { wc -l <"$W/audit.log"; }
# Lines FROM+1..TO of the audit log (sed reads to the end: no SIGPIPE under pipefail).
audit_slice() { sed -n "$(($1 + 1)),$2p" "$W/audit.log"; }
# Requests in the audit log after line $1, grouped "operation path-kind".
audit_summary() { # FROM_LINE TO_LINE
  audit_slice "$1" "$2" | jq -r 'select(.type=="request") | .request.operation + " " + (.request.path | sub("hosts/bench/s[0-9]+$"; "hosts/bench/*"))' | sort | uniq -c | sort -rn
}
audit_count() { # FROM_LINE TO_LINE PATTERN
  audit_slice "$1" "$2" | jq -r 'select(.type=="request") | .request.path' | grep -c "$3" || true; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }
TCK=$(getconf CLK_TCK)

measure() { # NAME PID READY_CHECK...
  local name=$1 pid=$2
  shift 2
  local t0=$SECONDS
  until "$@"; do
    kill -0 "$pid" 2>/dev/null || die "$name exited early"
    [ $((SECONDS - t0)) -lt 120 ] || die "$name did not render all $N secrets in 120 s"
    sleep 0.2
  done
  local ready=$((SECONDS - t0))
  sleep 5
  local a0 c0 c1 a1
  a0=$(audit_lines)
  c0=$(cpu_ticks "$pid")
  say "$name: rendered all $N secrets in ~${ready}s; idle for ${IDLE}s"
  sleep "$IDLE"
  c1=$(cpu_ticks "$pid")
  a1=$(audit_lines)
  local rss hwm cpu meta data total cycles
  rss=$(rss_kib "$pid" VmRSS)
  hwm=$(rss_kib "$pid" VmHWM)
  cpu=$(python3 -c "print(f'{($c1 - $c0) / $TCK / $IDLE * 100:.3f}')")
  meta=$(audit_count "$a0" "$a1" 'secret/metadata/hosts/bench/')
  data=$(audit_count "$a0" "$a1" 'secret/data/hosts/bench/')
  total=$(audit_slice "$a0" "$a1" | jq -r 'select(.type=="request") | 1' | wc -l)
  # A refresh cycle = every secret checked once (metadata or full read).
  cycles=$(python3 -c "print(f'{($meta + $data) / $N:.1f}')")
  per=$(python3 -c "c = ($meta + $data) / $N; print(f'{$total / c:.1f}' if c else 'n/a')")
  echo "$name | RSS ${rss} KiB ($(python3 -c "print(f'{$rss/1024:.1f}')") MiB), peak ${hwm} KiB | CPU ${cpu}% of a core over ${IDLE}s | ${cycles} refresh cycles: ${total} requests = ${per} per cycle (${meta} metadata reads, ${data} full reads)" | tee -a "$W/result.txt"
  audit_summary "$a0" "$a1" | sed -n '1,8s/^/    /p' | tee -a "$W/result.txt"
}

say "vaultkeeper run (release build), $N secrets, refreshInterval ${REFRESH}s"
VAULTKEEPER_LOG=warn "$VK" --spec "$W/spec.json" run 2>"$W/vk.log" &
VK_PID=$!
PIDS+=($VK_PID)
vk_ready() { [ "$(find -L "$OUT/vk" -type f 2>/dev/null | wc -l)" -ge $((N * 5)) ]; }
measure "vaultkeeper run" "$VK_PID" vk_ready
kill -TERM "$VK_PID"; wait "$VK_PID" || true

say "bao agent (daemon mode), $N templates, static_secret_render_interval ${REFRESH}s"
"$BAO_BIN" agent -config="$W/agent.hcl" >"$W/agent.log" 2>&1 &
AG_PID=$!
PIDS+=($AG_PID)
agent_ready() { [ "$(ls "$OUT/agent" 2>/dev/null | wc -l)" -ge $N ]; }
measure "bao agent" "$AG_PID" agent_ready
kill -TERM "$AG_PID"; wait "$AG_PID" || true

say "results"
cat "$W/result.txt"
