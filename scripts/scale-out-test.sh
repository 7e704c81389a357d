#!/usr/bin/env bash
# Scale-out, run as an operator would: two `serve --no-jobs` nodes and one `worker` on
# PostgreSQL + Redis behind nginx (deploy/nginx/rushline.conf as it is, its upstream and port
# rewritten), scraped by Prometheus (deploy/prometheus/rules.yml loaded). In order:
#   1. promtool check config and rules of deploy/prometheus/;
#   2. the same flash sale against one node directly, then through nginx over both: every
#      invariant must pass; one line of figures each, side by side;
#   3. a sale through nginx while node 1 is SIGKILLed mid-sale and restarted: 0 acknowledged
#      orders lost, 0 oversold (the load test's checks, with --duration so that the units the
#      dead node granted but never wrote, undone by reconciliation, are sold again);
#   4. a small sale behind a waiting room, then every PromQL expression of
#      deploy/grafana/rushline.json queried from that Prometheus must return data.
#
# Usage: scripts/scale-out-test.sh [RUSHLINE_BIN]   (default: $CARGO_TARGET_DIR or target, debug/rushline)
# Needs nginx and prometheus/promtool on PATH (Debian packages `nginx`, `prometheus`), PostgreSQL
# (user postgres, trust) on 127.0.0.1:5432 and Redis on 127.0.0.1:6379. It creates a database
# and a Redis key prefix of its own and removes them. Environment: SCALE_BUYERS (2000),
# SCALE_STOCK (500), SCALE_CONNECTIONS (64), SCALE_KEEP=1 keeps the work directory.
# Exits non-zero, saying what failed, when anything does.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

target_dir=${CARGO_TARGET_DIR:-target}
bin=${1:-$target_dir/debug/rushline}
buyers=${SCALE_BUYERS:-2000}
stock=${SCALE_STOCK:-500}
connections=${SCALE_CONNECTIONS:-64}

fail() { echo "scale-out: FAILED: $*" >&2; exit 1; }
[ -x "$bin" ] || fail "no rushline binary at $bin (cargo build -p rushline first)"
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
for tool in nginx prometheus promtool psql redis-cli curl python3; do
  command -v "$tool" >/dev/null || fail "$tool is not on PATH"
done

echo "scale-out: promtool"
promtool check config deploy/prometheus/prometheus.yml >/dev/null || fail "promtool check config"
promtool check rules deploy/prometheus/rules.yml >/dev/null || fail "promtool check rules"

work=$(mktemp -d /tmp/scale-out.XXXXXX)
chmod 755 "$work"
run=$(printf '%04x%04x' $RANDOM $RANDOM)
db=scaleout_$run
prefix="scaleout:$run:"
pg_admin=postgres://postgres@127.0.0.1:5432/test
pids=()

cleanup() {
  local status=$?
  # nginx's master stops its workers on SIGTERM (a SIGKILL would orphan them).
  [ -n "${nginx_pid:-}" ] && kill -TERM "$nginx_pid" 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  psql -q "$pg_admin" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli --scan --pattern "$prefix*" | xargs -r -n 500 redis-cli del >/dev/null || true
  if [ "$status" -ne 0 ]; then
    for log in "$work"/*.log; do echo "--- $log (last 20 lines)"; tail -20 "$log"; done >&2
  fi
  if [ "${SCALE_KEEP:-}" = 1 ]; then echo "scale-out: kept $work"; else rm -rf "$work"; fi
  exit "$status"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
node1_port=$(free_port); node2_port=$(free_port); worker_port=$(free_port)
lb_port=$(free_port); prom_port=$(free_port)

psql -q "$pg_admin" -c "CREATE DATABASE $db" >/dev/null || fail "cannot create database $db"
export RUSHLINE_DATABASE__URL=postgres://postgres@127.0.0.1:5432/$db
export RUSHLINE_GATE__URL=redis://127.0.0.1:6379 RUSHLINE_REDIS__URL=redis://127.0.0.1:6379
export RUSHLINE_REDIS__KEY_PREFIX=$prefix
export RUSHLINE_AUTH__JWT_SECRET=scale-out-test-secret-of-32-characters-or-more
export RUSHLINE_HTTP__TRUSTED_PROXIES=127.0.0.1
export RUSHLINE_LOG__FORMAT=json RUSHLINE_LOG__LEVEL=warn RUSHLINE_DATA_DIR=$work/data
# Reconcile often, so that grants the killed node made but never wrote are undone mid-sale.
export RUSHLINE_GATE__RECONCILE_EVERY=1s RUSHLINE_GATE__ORPHAN_AFTER=3s
export RUSHLINE_HTTP__DRAIN_GRACE=0s

wait_http() { # URL WHAT
  for _ in $(seq 1 150); do curl -sf "$1" >/dev/null && return 0; sleep 0.2; done
  fail "$2 did not come up at $1"
}

# The worker migrates, so it starts first.
RUSHLINE_WORKER__ADDR=127.0.0.1:$worker_port "$bin" worker > "$work/worker.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$worker_port/healthz" worker

start_node() { # N PORT
  RUSHLINE_HTTP__ADDR=127.0.0.1:$2 "$bin" serve --no-jobs --no-migrate >> "$work/node$1.log" 2>&1 &
  echo $!
}
node1_pid=$(start_node 1 "$node1_port"); pids+=("$node1_pid")
node2_pid=$(start_node 2 "$node2_port"); pids+=("$node2_pid")
wait_http "http://127.0.0.1:$node1_port/readyz" "node 1"
wait_http "http://127.0.0.1:$node2_port/readyz" "node 2"

# nginx: deploy/nginx/rushline.conf with the test's ports, in a main file of the test's own.
mkdir -p "$work/nginx"
sed -e "s/listen 80;/listen 127.0.0.1:$lb_port;/" \
    -e "s/127.0.0.1:8081/127.0.0.1:$node1_port/" -e "s/127.0.0.1:8082/127.0.0.1:$node2_port/" \
    -e "s#/var/log/nginx/rushline.access.log#$work/nginx-access.log#" \
    deploy/nginx/rushline.conf > "$work/nginx/rushline.conf"
grep -q "127.0.0.1:$node2_port" "$work/nginx/rushline.conf" || fail "deploy/nginx/rushline.conf: upstream not found"
cat > "$work/nginx/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 4096; }
http {
  client_body_temp_path $work/nginx/body;
  proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fastcgi;
  uwsgi_temp_path $work/nginx/uwsgi;
  scgi_temp_path $work/nginx/scgi;
  include $work/nginx/rushline.conf;
}
EOF
nginx -t -q -p "$work/nginx" -c "$work/nginx/nginx.conf" 2> "$work/nginx-check.log" || fail "nginx -t: $(cat "$work/nginx-check.log")"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' > "$work/nginx.log" 2>&1 &
nginx_pid=$!
lb=http://127.0.0.1:$lb_port
wait_http "$lb/readyz" nginx
[ "$(curl -s -o /dev/null -w '%{http_code}' "$lb/metrics")" = 404 ] || fail "nginx serves /metrics"
rid=$(curl -s -D - -o /dev/null -H 'x-request-id: scale-out-probe' "$lb/healthz" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-request-id"{print $2}')
[ "$rid" = scale-out-probe ] || fail "the request id did not pass through nginx (got '$rid')"

# Prometheus: the deploy rules, the test's targets, scraped every second.
cp deploy/prometheus/rules.yml "$work/rules.yml"
cat > "$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: [rules.yml]
scrape_configs:
  - job_name: rushline
    static_configs: [{targets: ["127.0.0.1:$node1_port", "127.0.0.1:$node2_port"], labels: {role: api}}]
  - job_name: rushline-worker
    static_configs: [{targets: ["127.0.0.1:$worker_port"], labels: {role: worker}}]
EOF
promtool check config "$work/prometheus.yml" >/dev/null || fail "the test's prometheus.yml"
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" > "$work/prometheus.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$prom_port/-/ready" prometheus

export RUSHLINE_ADMIN_EMAIL=ops@scale-out.example RUSHLINE_ADMIN_PASSWORD='Scale!out-pw9'
"$bin" admin create-user --email "$RUSHLINE_ADMIN_EMAIL" --name Ops --role admin > /dev/null

sale() { # NAME ARGS… — one load test, its summary in $work/NAME.json, one line of figures
  local name=$1; shift
  if ! "$bin" loadtest flash-sale --json "$work/$name.json" "$@" > "$work/$name.out" 2>&1; then
    tail -30 "$work/$name.out" >&2
    fail "sale '$name': an invariant check failed or the load test stopped"
  fi
  python3 - "$work/$name.json" "$name" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); l = s["latency_ms"]
print(f'scale-out: {sys.argv[2]:<24} {s["requests"]} requests, {s["requests_per_second"]:.0f} req/s, '
      f'{s["purchases"]} 201s = {s["purchases_per_second"]:.0f}/s, p50 {l["p50"]:.1f} p99 {l["p99"]:.1f} '
      f'max {l["max"]:.1f} ms; statuses {s["statuses"]}; checks '
      + ", ".join(f'{c["name"]} {c["outcome"]}' for c in s["checks"]))
PY
}

args=(--buyers "$buyers" --stock "$stock" --per-user-limit 1 --connections "$connections" --open-in 3s)
sale one-node --url "http://127.0.0.1:$node1_port" "${args[@]}"
sale two-nodes-via-nginx --url "$lb" "${args[@]}"

# SIGKILL node 1 once it has sold a tenth of the stock, then restart it.
created() {
  curl -s "http://127.0.0.1:$node1_port/metrics" | awk '/^rushline_purchases_total\{outcome="created"\}/ {print $2}'
}
before=$(created); before=${before:-0}
"$bin" loadtest flash-sale --json "$work/kill.json" --url "$lb" "${args[@]}" --duration 25s \
  > "$work/kill.out" 2>&1 &
loadtest_pid=$!
pids+=("$loadtest_pid")
killed=
for _ in $(seq 1 600); do
  now=$(created || true)
  if [ -n "$now" ] && python3 -c "import sys; sys.exit(0 if float('$now') - float('$before') >= $stock / 10 else 1)"; then
    kill -9 "$node1_pid"; killed=1; break
  fi
  kill -0 "$loadtest_pid" 2>/dev/null || break
  sleep 0.05
done
[ -n "$killed" ] || { tail -30 "$work/kill.out" >&2; fail "the sale ended before node 1 sold $((stock / 10)) units"; }
echo "scale-out: node 1 killed (SIGKILL) mid-sale after $((stock / 10))+ of its purchases; restarting it"
sleep 1
node1_pid=$(start_node 1 "$node1_port"); pids+=("$node1_pid")
wait_http "http://127.0.0.1:$node1_port/readyz" "node 1 (restarted)"
if ! wait "$loadtest_pid"; then
  tail -30 "$work/kill.out" >&2
  fail "sale with node 1 killed: an acknowledged order was lost, a unit oversold, or the sale did not complete"
fi
python3 - "$work/kill.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f'scale-out: {"node-1-killed":<24} {s["requests"]} requests, {s["purchases"]} 201s, statuses {s["statuses"]}; checks '
      + ", ".join(f'{c["name"]} {c["outcome"]}' for c in s["checks"]))
PY

# A waiting room too, so that every panel of the dashboard has something to show.
sale waiting-room --url "$lb" --buyers 300 --stock 100 --per-user-limit 1 --connections 32 \
  --open-in 3s --waiting-room --admit-per-minute 60000
sleep 3
python3 - "http://127.0.0.1:$prom_port" deploy/grafana/rushline.json <<'PY'
import json, sys, urllib.parse, urllib.request
prom, path = sys.argv[1], sys.argv[2]
dashboard = json.load(open(path))
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
empty = []
for expr in exprs:
    query = expr.replace("$__rate_interval", "1m")
    url = f"{prom}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    answer = json.load(urllib.request.urlopen(url, timeout=10))
    if answer.get("status") != "success" or not answer["data"]["result"]:
        empty.append(expr)
print(f"scale-out: {len(exprs) - len(empty)} of {len(exprs)} dashboard expressions return data")
for expr in empty:
    print(f"scale-out: no data: {expr}", file=sys.stderr)
sys.exit(1 if empty or not exprs else 0)
PY
echo "scale-out: passed"
