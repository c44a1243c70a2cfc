#!/usr/bin/env bash
# The register-core benchmarks (issue "register core"): import speed into SQLite and PostgreSQL, person
# lookups over HTTP with 64 connections, server memory. Results go to docs/benchmarks.md by hand, with the
# machine description this script prints.
#
#   benches/run.sh [PERSONS]          default 3000000
#
# Needs: wrk (apt), python3, a PostgreSQL server (POPREG_BENCH_PG_URL, default the local one).
# Everything is local: the load goes to 127.0.0.1 only, and every loop is bounded in time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PERSONS="${1:-3000000}"
PG_ADMIN="${POPREG_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
WORK="${POPREG_BENCH_DIR:-$(mktemp -d /tmp/popreg-bench.XXXXXX)}"
PORT="${POPREG_BENCH_PORT:-18080}"
DURATION="${POPREG_BENCH_DURATION:-30s}"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(rustc --version)"
cargo build --release -q -p popreg
BIN="${CARGO_TARGET_DIR:-target}/release/popreg"

echo "== import of $PERSONS persons into SQLite ($WORK/sqlite)"
rm -rf "$WORK/sqlite"
/usr/bin/time -f "wall %e s, max RSS %M KiB" "$BIN" generate --persons "$PERSONS" --seed 1 --data-dir "$WORK/sqlite"
ls -l "$WORK/sqlite"

# POPREG_BENCH_PG=0 measures SQLite only.
WITH_PG="${POPREG_BENCH_PG:-1}"
DB="popreg_bench_$$"
PG_URL="${PG_ADMIN%/*}/$DB"
if [[ "$WITH_PG" == 1 ]]; then
echo "== import of $PERSONS persons into PostgreSQL"
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
/usr/bin/time -f "wall %e s, max RSS %M KiB" "$BIN" generate --persons "$PERSONS" --seed 1 --database-url "$PG_URL"
fi

echo "== lookups over HTTP, SQLite, 64 connections, $DURATION"
python3 - "$WORK/sqlite/register.sqlite" "$WORK/psns.txt" <<'PY'
import sqlite3, sys, random
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
psns = [r[0] for r in con.execute("SELECT psn FROM persons")]
random.seed(1)
random.shuffle(psns)
open(sys.argv[2], "w").write("\n".join(psns[:200000]) + "\n")
PY
KEY="bench-key-$$"
HASH=$("$BIN" hash-key "$KEY")
# The key belongs to a body in each register (only its hash is stored).
bench_key() {
  "$BIN" body add "$@" --id OPS-BENCH --type operator --name-hy 'Չափումների օպերատոր' \
    --name-en 'Benchmark operator' --name-ru 'Оператор замеров' >/dev/null
  "$BIN" key add "$@" --body OPS-BENCH --owner bench --functions read_persons --sha256 "$HASH" >/dev/null
  # Every read passes the access gate: the body needs a grant, and each answer writes a usage record.
  "$BIN" grant add "$@" --body OPS-BENCH --elements 'person.*' --purpose 'benchmark' \
    --legal-basis 'none (benchmark data)' >/dev/null
}
bench_key --data-dir "$WORK/sqlite"
[[ "$WITH_PG" == 1 ]] && bench_key --database-url "$PG_URL"
POPREG_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" --data-dir "$WORK/sqlite" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
# Warm-up, then the measured run.
POPREG_BENCH_KEY="$KEY" POPREG_BENCH_PSNS="$WORK/psns.txt" wrk -t2 -c64 -d5s -s benches/lookup.lua "http://127.0.0.1:$PORT" >/dev/null
POPREG_BENCH_KEY="$KEY" POPREG_BENCH_PSNS="$WORK/psns.txt" wrk -t2 -c64 -d"$DURATION" --latency -s benches/lookup.lua "http://127.0.0.1:$PORT"
echo "server RSS after the run: $(awk '/VmRSS/{print $2, $3}' /proc/$SERVER/status)"
kill $SERVER; wait $SERVER 2>/dev/null || true
trap - EXIT
python3 - "$WORK/sqlite/register.sqlite" <<'PY'
import sqlite3, sys
con = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
print("usage records written during the runs (one per answered lookup):",
      con.execute("SELECT COUNT(*) FROM usage_log").fetchone()[0])
PY
if [[ "$WITH_PG" != 1 ]]; then echo "== done (SQLite only); data left in $WORK"; exit 0; fi

echo "== lookups over HTTP, PostgreSQL, 64 connections, $DURATION"
POPREG_LOG=warn POPREG_MAX_CONNECTIONS=32 "$BIN" serve --listen "127.0.0.1:$PORT" --database-url "$PG_URL" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
POPREG_BENCH_KEY="$KEY" POPREG_BENCH_PSNS="$WORK/psns.txt" wrk -t2 -c64 -d5s -s benches/lookup.lua "http://127.0.0.1:$PORT" >/dev/null
POPREG_BENCH_KEY="$KEY" POPREG_BENCH_PSNS="$WORK/psns.txt" wrk -t2 -c64 -d"$DURATION" --latency -s benches/lookup.lua "http://127.0.0.1:$PORT"
echo "server RSS after the run: $(awk '/VmRSS/{print $2, $3}' /proc/$SERVER/status)"
kill $SERVER; wait $SERVER 2>/dev/null || true
trap - EXIT
psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
echo "== done; SQLite data left in $WORK (delete it when done)"
