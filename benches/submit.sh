#!/usr/bin/env bash
# The submission benchmark (issue 3): validated birth registrations over HTTP with durable commit, 32
# concurrent clients. Results go to docs/benchmarks.md ("Submissions (issue 3)") by hand.
#
#   benches/submit.sh [PERSONS]          default 300000
#
# For each database (SQLite always; PostgreSQL when POPREG_BENCH_PG_URL is set) it generates a register of
# PERSONS persons, registers a medical organisation with a contact e-mail (so every rejection also writes
# an e-mail to the outbox) and an API key with the `submit` function, picks up to 50,000 living women born
# 1980-2004 as mothers, starts `popreg serve`, warms up for 5 s, and then runs wrk (2 threads, 32
# connections, POPREG_BENCH_DURATION each) three times with benches/submit.lua:
#   valid      births the register accepts (201; 202 when the duplicate check holds one),
#   reject     births the decision refuses (child born before the mother: 422),
#   malformed  bodies refused before the decision (bad JSON, missing fields, bad values: 400/422).
# After each run it counts persons, rejections, outbox rows and submissions in the database and compares the
# growth with the statuses wrk counted (durability and consistency check).
#
# POPREG_BENCH_BIN=path runs a prebuilt popreg binary instead of building this tree (A/B comparisons).
# Needs: wrk (apt), sqlite3 (apt), psql for PostgreSQL, python3, curl.
# Everything is local (127.0.0.1), and every loop is bounded in time.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PERSONS="${1:-300000}"
WORK="${POPREG_BENCH_DIR:-/tmp/popreg-bench}"
PG_ADMIN="${POPREG_BENCH_PG_URL:-}"
DURATION="${POPREG_BENCH_DURATION:-30s}"
CONNS="${POPREG_BENCH_CONNECTIONS:-32}"
REUSE="${POPREG_BENCH_REUSE:-0}" # 1: keep an existing SQLite register of an earlier run instead of regenerating
PORT="${POPREG_BENCH_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}"
BODY=MED-BENCH
KEY="bench-submit-key-$$-$RANDOM"
mkdir -p "$WORK"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
command -v sqlite3 >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq sqlite3; }

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), $(rustc --version)"
if git rev-parse --short HEAD >/dev/null 2>&1; then
  echo "== commit: $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- crates Cargo.toml Cargo.lock || echo ' (with uncommitted changes in crates/)')"
fi
if [ -n "${POPREG_BENCH_BIN:-}" ]; then
  BIN="$POPREG_BENCH_BIN" # a prebuilt binary (e.g. an A/B baseline of another commit); nothing is built
  echo "== binary: $BIN (prebuilt)"
else
  cargo build --release -q -p popreg
  BIN="${CARGO_TARGET_DIR:-target}/release/popreg"
fi

# A rough figure of the disk's synchronous write rate (what one durable commit at a time is bound by).
echo "== disk: $(dd if=/dev/zero of="$WORK/fsync.probe" bs=4k count=500 oflag=dsync 2>&1 | tail -1)"
rm -f "$WORK/fsync.probe"

# The Armenian date (UTC+4) decides what "today" is for the register; births are 1-3 days before it.
DATES="$(for d in 1 2 3; do date -u -d "+4 hours -$d days" +%F; done | paste -sd,)"
echo "== birth dates used: $DATES"

SERVER=
stop_server() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; SERVER=; fi
}
trap stop_server EXIT

# Server CPU time (user+system) in seconds.
cpu_seconds() { awk '{printf "%.1f", ($14 + $15) / 100}' "/proc/$1/stat"; }

# bench NAME QUERY-COMMAND STORE-ARGS...: register the body and key, pick mothers, serve, load, check.
bench() {
  local name="$1" query="$2"
  shift 2
  local counts_sql="SELECT (SELECT COUNT(*) FROM persons), (SELECT COUNT(*) FROM rejections), \
(SELECT COUNT(*) FROM outbox), (SELECT COUNT(*) FROM submissions WHERE status = 'accepted'), \
(SELECT COUNT(*) FROM submissions WHERE status = 'held'), (SELECT COUNT(*) FROM submissions WHERE status = 'rejected')"
  if ! "$BIN" body list "$@" | grep -q "$BODY"; then
    "$BIN" body add "$@" --id "$BODY" --type medical_organization --name-hy 'Չափումների ծննդատուն' \
      --name-en 'Benchmark maternity hospital' --name-ru 'Роддом для замеров' --email bench@example.am >/dev/null
  fi
  "$BIN" key add "$@" --body "$BODY" --owner bench --functions submit,read_persons \
    --sha256 "$("$BIN" hash-key "$KEY")" >/dev/null
  $query "SELECT psn FROM persons WHERE sex = 'F' AND birth_date BETWEEN '1980-01-01' AND '2004-12-31' \
AND death_date IS NULL LIMIT 50000" >"$WORK/mothers-$name.txt"
  echo "== $name: $(wc -l <"$WORK/mothers-$name.txt") mothers; $($query "SELECT COUNT(*) FROM persons") persons"

  POPREG_LOG=warn "$BIN" serve --listen "127.0.0.1:$PORT" "$@" &
  SERVER=$!
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null || { echo "server did not get ready"; exit 1; }

  export POPREG_BENCH_KEY="$KEY" POPREG_BENCH_MOTHERS="$WORK/mothers-$name.txt" POPREG_BENCH_DATES="$DATES"
  POPREG_BENCH_MODE=valid wrk -t2 -c"$CONNS" -d5s -s benches/submit.lua "http://127.0.0.1:$PORT" >/dev/null
  local mode out before after cpu0 cpu1
  for mode in valid reject malformed; do
    sleep 1
    before=($($query "$counts_sql"))
    cpu0=$(cpu_seconds "$SERVER")
    echo "-- $name, $mode: wrk -t2 -c$CONNS -d$DURATION --latency, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
    out=$(POPREG_BENCH_MODE=$mode wrk -t2 -c"$CONNS" -d"$DURATION" --latency -s benches/submit.lua \
      "http://127.0.0.1:$PORT")
    cpu1=$(cpu_seconds "$SERVER")
    sleep 2 # let requests in flight at wrk's cut-off finish before counting
    after=($($query "$counts_sql"))
    echo "$out" | sed -n '/^mode:/,$p'
    echo "server CPU during the run: $(awk -v a="$cpu0" -v b="$cpu1" -v d="${DURATION%s}" \
      'BEGIN{printf "%.1f s (%.0f%% of one core)", b - a, 100 * (b - a) / d}'), load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    local statuses n201 n202 n4xx
    statuses=$(echo "$out" | sed -n 's/^statuses: //p')
    n201=$(echo "$statuses" | tr ' ' '\n' | awk -F= '$1 == 201 {s += $2} END {print s + 0}')
    n202=$(echo "$statuses" | tr ' ' '\n' | awk -F= '$1 == 202 {s += $2} END {print s + 0}')
    n4xx=$(echo "$statuses" | tr ' ' '\n' | awk -F= '$1 >= 400 && $1 < 500 {s += $2} END {print s + 0}')
    local dp=$((after[0] - before[0])) dr=$((after[1] - before[1])) dout=$((after[2] - before[2]))
    local da=$((after[3] - before[3])) dh=$((after[4] - before[4])) dj=$((after[5] - before[5]))
    echo "check: persons +$dp for $n201 answered 201 (in flight at the cut-off: $((dp - n201)), at most $CONNS);" \
      "submissions accepted +$da $([ "$da" -eq "$dp" ] && echo '= persons' || echo '!= persons: INCONSISTENT')"
    echo "check: rejection log +$dr for $n4xx answered 4xx (in flight: $((dr - n4xx))); outbox +$dout" \
      "$([ "$dout" -eq "$dr" ] && echo '= rejections' || echo '!= rejections: INCONSISTENT');" \
      "submissions rejected +$dj $([ "$dj" -eq "$dr" ] && echo '= rejections' || echo '!= rejections: INCONSISTENT');" \
      "held +$dh for $n202 answered 202"
    if [ "$dp" -lt "$n201" ] || [ $((dp - n201)) -gt "$CONNS" ] || [ "$dr" -lt "$n4xx" ] \
      || [ $((dr - n4xx)) -gt "$CONNS" ] || [ "$da" -ne "$dp" ] || [ "$dout" -ne "$dr" ]; then
      echo "check FAILED"
    fi
  done
  echo "server RSS after the runs: $(awk '/VmRSS/{print $2, $3}' "/proc/$SERVER/status")"
  stop_server
}

sqlite_query() { sqlite3 -separator ' ' "$WORK/sqlite/register.sqlite" "$1"; }

echo "== SQLite register of $PERSONS persons ($WORK/sqlite)"
if [ "$REUSE" = 1 ] && [ -f "$WORK/sqlite/register.sqlite" ]; then
  echo "reusing the existing register"
else
  rm -rf "$WORK/sqlite"
  POPREG_LOG=warn "$BIN" generate --persons "$PERSONS" --seed 1 --data-dir "$WORK/sqlite"
fi
bench sqlite sqlite_query --data-dir "$WORK/sqlite"

if [ -n "$PG_ADMIN" ]; then
  DB="popreg_submit_$$"
  PG_URL="${PG_ADMIN%/*}/$DB"
  pg_query() { psql "$PG_URL" -qAt -F ' ' -c "$1"; }
  echo "== PostgreSQL register of $PERSONS persons (database $DB)"
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB" -c "CREATE DATABASE $DB"
  POPREG_LOG=warn "$BIN" generate --persons "$PERSONS" --seed 1 --database-url "$PG_URL"
  POPREG_MAX_CONNECTIONS=32 bench postgres pg_query --database-url "$PG_URL"
  psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
fi
echo "== done; the SQLite register stays in $WORK (delete it when done)"
