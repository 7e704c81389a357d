#!/usr/bin/env bash
# Property-based fuzz of the whole OpenAPI document against a running node on the embedded
# default (SQLite, in-process gate): schemathesis generates requests for every operation, valid
# and invalid, once as a buyer, once as a seller and once as an admin, and checks that no answer
# is a 5xx and that every answer is one the document declares (status, content type, body schema).
#
# Usage: scripts/fuzz-api.sh [RUSHLINE_BIN]   (default: $CARGO_TARGET_DIR or target, debug/rushline)
# Environment: FUZZ_SEED (default 20261204), FUZZ_MAX_EXAMPLES per operation (default 100),
# FUZZ_ROLES (default "buyer seller admin"), FUZZ_KEEP=1 keeps the work directory,
# FUZZ_VENV (default: <target dir>/fuzz-venv) where schemathesis is installed from PyPI,
# FUZZ_CHECKS (default: the four CI holds; "all" to explore).
# Exits non-zero when any check failed for any role.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
target_dir=${CARGO_TARGET_DIR:-target}
bin=${1:-$target_dir/debug/rushline}
seed=${FUZZ_SEED:-20261204}
max_examples=${FUZZ_MAX_EXAMPLES:-100}
roles=${FUZZ_ROLES:-buyer seller admin}
venv=${FUZZ_VENV:-$target_dir/fuzz-venv}

if [ ! -x "$bin" ]; then
  echo "fuzz-api: no rushline binary at $bin (cargo build -p rushline first)" >&2
  exit 2
fi
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
hooks=$PWD/scripts/fuzz_api_hooks.py
# Absolute: schemathesis runs from the work directory below.
mkdir -p "$venv"
venv=$(cd "$venv" && pwd)

# schemathesis in a venv of its own, with every dependency pinned: a new hypothesis has broken
# an older schemathesis before.
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null || true)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  echo "fuzz-api: installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r scripts/fuzz-requirements.txt
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rushline-fuzz.XXXXXX")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ "${FUZZ_KEEP:-0}" = 1 ]; then
    echo "fuzz-api: kept $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# A node of its own. The generated requests hit sign-up, login and verification thousands of
# times from one address, so the abuse limits are raised for this node only (the defaults stay
# what they are, and are tested elsewhere); cheap password hashing keeps logins fast.
export RUSHLINE_DATA_DIR=$work/data
export RUSHLINE_HTTP__ADDR=127.0.0.1:$port
export RUSHLINE_LOG__FORMAT=json
export RUSHLINE_LOG__LEVEL=warn
# Nothing polls its readiness: stop at once on SIGTERM instead of draining.
export RUSHLINE_HTTP__DRAIN_GRACE=0s
export RUSHLINE_AUTH__LOGIN_FAILURES_PER_ACCOUNT=1000000
export RUSHLINE_AUTH__LOGIN_FAILURES_PER_ACCOUNT_EVERYWHERE=1000000
export RUSHLINE_AUTH__LOGIN_FAILURES_PER_IP=1000000
export RUSHLINE_AUTH__ACCOUNT_REQUESTS_PER_IP=1000000
export RUSHLINE_AUTH__ACCOUNT_REQUESTS_PER_EMAIL=1000000
export RUSHLINE_AUTH__RESEND_AFTER=1s
export RUSHLINE_AUTH__ARGON2__MEMORY_KIB=8
export RUSHLINE_AUTH__ARGON2__ITERATIONS=1
# Long enough for the three runs: a token that expires mid-run would turn the rest into 401s.
export RUSHLINE_AUTH__ACCESS_TTL=2h
# A waiting-room event stream never ends by itself; schemathesis reads 20 events of one.
export RUSHLINE_WAITING_ROOM__EVENTS_EVERY=50ms

password='Fuzz!pw-2026'
for role in buyer seller admin; do
  RUSHLINE_ADMIN_PASSWORD=$password "$bin" admin create-user \
    --email "$role@fuzz.example" --name "Fuzz $role" --role "$role" > /dev/null
done

"$bin" serve > "$work/server.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  curl -sf "$base/healthz" > /dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "fuzz-api: the server exited" >&2; tail -20 "$work/server.log" >&2; exit 1; }
  sleep 0.2
done
curl -sf "$base/healthz" > /dev/null

# Products, drops, a coupon campaign, orders: ids for the generated requests to find.
python3 scripts/fuzz_api_seed.py "$base" "$password" "$work"

checks=${FUZZ_CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance}
failed=()
started=$SECONDS
for role in $roles; do
  echo "fuzz-api: as $role (seed $seed, at most $max_examples examples per operation)"
  bearer=$(cat "$work/token-$role")
  # From the work directory, where schemathesis keeps its cache of failures. No stateful phase:
  # the document defines no links, and the ones schemathesis infers from `Location` headers are
  # wrong (4.32.5 links `POST /products` to `GET /trials` by an `id` that has none, and fails).
  # Every operation is still fuzzed on its own with real ids from the seed data. The inbox's
  # event stream is left out: it pushes only new notifications, so a signed-in client waits on it
  # for as long as it stays open (its refusals are probed by the API tests).
  if ! (cd "$work" && SCHEMATHESIS_HOOKS=$hooks "$venv/bin/schemathesis" \
      --config-file "$work/schemathesis.toml" run "$base/openapi.json" \
      --checks "$checks" \
      --phases examples,coverage,fuzzing \
      --seed "$seed" \
      --max-examples "$max_examples" \
      --generation-database none \
      --workers 1 \
      --request-timeout 35 \
      --exclude-path /api/v1/me/notifications/events \
      --header "Authorization: Bearer $bearer" \
      --no-color \
      --report junit --report-junit-path "$work/junit-$role.xml"); then
    failed+=("$role")
  fi
done
echo "fuzz-api: ran in $((SECONDS - started)) s"

if grep -q '"level":"ERROR"' "$work/server.log"; then
  echo "fuzz-api: the server logged errors:" >&2
  grep '"level":"ERROR"' "$work/server.log" | head -20 >&2
  failed+=(server-log)
fi
# One line CI reads: the runs (one per role) and the server log, each passed or failed.
total=$(($(wc -w <<< "$roles") + 1))
echo "fuzz-api: $((total - ${#failed[@]})) passed, ${#failed[@]} failed"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz-api: FAILED (${failed[*]})" >&2
  exit 1
fi
