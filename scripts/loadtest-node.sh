#!/usr/bin/env bash
# One load-test run: a fresh node of SERVER_BIN on BACKEND (sqlite | pg), the sale driven by
# $CLIENT (default: the same binary), the summary as JSON and one line of figures.
# Usage: scripts/loadtest-node.sh SERVER_BIN sqlite|pg RUN_ID [loadtest flash-sale args…]
# Needs PostgreSQL (user postgres, trust) and Redis on their default ports for pg.
set -euo pipefail
server=$1 backend=$2 id=$3; shift 3
client=${CLIENT:-$server}
dir=/tmp/lt/$id; rm -rf "$dir"; mkdir -p "$dir"
export RUSHLINE_DATA_DIR=$dir/data RUSHLINE_HTTP__ADDR=127.0.0.1:18080 RUSHLINE_LOG__FORMAT=json
export RUSHLINE_AUTH__JWT_SECRET=load-test-secret-of-at-least-32-characters
export RUSHLINE_HTTP__DRAIN_GRACE=0s   # stop at once when torn down
if [ "$backend" = pg ]; then
  db=lt_$id
  psql -q postgres://postgres@127.0.0.1:5432/test -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  export RUSHLINE_DATABASE__URL=postgres://postgres@127.0.0.1:5432/$db
  export RUSHLINE_GATE__URL=redis://127.0.0.1:6379 RUSHLINE_REDIS__URL=redis://127.0.0.1:6379
  export RUSHLINE_REDIS__KEY_PREFIX=lt$id:
fi
"$server" serve > "$dir/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18080/healthz >/dev/null && break; sleep 0.2; done
export RUSHLINE_ADMIN_PASSWORD='Lt!admin-pw9' RUSHLINE_ADMIN_EMAIL=ops@lt.example
"$server" admin create-user --email ops@lt.example --name Ops --role admin > /dev/null
"$client" loadtest flash-sale --url http://127.0.0.1:18080 --json "$dir/summary.json" "$@" > "$dir/out.txt" 2>&1 || { echo "run $id failed"; tail -20 "$dir/out.txt"; }
python3 - "$dir/summary.json" "$id" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); l = s["latency_ms"]
b = s.get("baseline")
ok = all(c["outcome"] == "passed" for c in s["checks"])
print(f'{sys.argv[2]}: {s["requests"]} req in {s["elapsed_seconds"]:.2f}s = {s["requests_per_second"]:.0f} req/s, '
      f'{s["purchases"]} 201 = {s["purchases_per_second"]:.0f}/s, p50 {l["p50"]:.1f} p90 {l["p90"]:.1f} p99 {l["p99"]:.1f} max {l["max"]:.1f} ms'
      + (f', baseline {b["requests_per_second"]:.0f}/s, share {100*s["purchases_share_of_baseline"]:.1f}%' if b else '')
      + f', checks {"ok" if ok else "FAILED"}')
PY
if [ "$backend" = pg ]; then
  kill $pid; wait $pid 2>/dev/null || true; trap - EXIT
  psql -q postgres://postgres@127.0.0.1:5432/test -c "DROP DATABASE IF EXISTS $db"
  redis-cli --scan --pattern "lt$id:*" | xargs -r -n 500 redis-cli del > /dev/null
fi
