#!/usr/bin/env bash
# popreg test command — THE way to run the project's checks:
#
#     ./scripts/test.sh [extra nextest arguments...]
#
# Steps: ensure test tooling -> make sure a PostgreSQL server is available ->
# cargo fmt --check -> cargo clippy -D warnings -> cargo nextest run ->
# cargo test --doc. Exits non-zero on the first failing step.
# Extra arguments go to `cargo nextest run`, e.g. `./scripts/test.sh persons`
# runs only tests whose name contains "persons" (doc tests are skipped when a
# filter/extra argument is given, since nextest arguments don't apply to them).
#
# PostgreSQL (tests create their own throwaway database per test; the URL we
# export must point at a database of a role allowed to CREATE DATABASE):
#   1. POPREG_TEST_PG_URL set      -> use it; fail loudly if unreachable.
#   2. server at 127.0.0.1:5432    -> use postgres://postgres@127.0.0.1:5432/postgres
#                                     after checking trust login + CREATE DATABASE.
#      installed cluster stopped   -> try `pg_ctlcluster --skip-systemctl-redirect`.
#   3. otherwise                   -> initdb a throwaway cluster in a temp dir on a
#                                     free port (installing PostgreSQL via apt if
#                                     needed); stopped and deleted on exit.
#   The chosen server is printed on one line starting with "==> PostgreSQL:".
#
# Environment switches:
#   POPREG_TEST_PG_URL=<url>            use this server (route 1).
#   POPREG_TEST_PG_FORCE_THROWAWAY=1    skip routes 1-2, always use a throwaway cluster.
#   POPREG_TEST_PG_ONLY=1               only set up PostgreSQL, print the URL, run
#                                       `create database`/`drop database` against it,
#                                       tear down. No tool installs, no cargo.
#   POPREG_TEST_QUICK=1                 skip cargo fmt and cargo clippy.
#   NEXTEST_PROFILE=<name>              nextest profile (.config/nextest.toml);
#                                       default "default", CI uses "ci".
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '==> ERROR: %s\n' "$*" >&2; exit 1; }
is_true() { case "${1:-}" in 1 | true | yes | on) return 0 ;; *) return 1 ;; esac; }

# -----------------------------------------------------------------------------
# ensure_tools: test tooling needed by the test suite. Idempotent and quick:
# every tool is checked first and only installed when missing.
# LATER ISSUES: extend this function. xmllint, python3-jsonschema, chromium and chromium-driver are
# installed next to curl, below.
# -----------------------------------------------------------------------------
ensure_tools() {
    if ! cargo nextest --version >/dev/null 2>&1; then
        log "cargo-nextest missing; installing (cargo install cargo-nextest --locked)"
        cargo install cargo-nextest --locked
    fi
}

# -----------------------------------------------------------------------------
# PostgreSQL
# -----------------------------------------------------------------------------
PG_TMP=""        # throwaway cluster directory (route 3), removed on exit
PG_TMP_RUN=()    # command prefix to run cluster commands as the cluster owner
PG_BIN=""        # directory of server binaries (initdb, pg_ctl)

cleanup() {
    local rc=$?
    if [[ -n "$PG_TMP" && -d "$PG_TMP" ]]; then
        if [[ -f "$PG_TMP/data/postmaster.pid" ]]; then
            (cd "$PG_TMP" && "${PG_TMP_RUN[@]}" "$PG_BIN/pg_ctl" stop -D "$PG_TMP/data" -m immediate -w >/dev/null 2>&1) || true
        fi
        rm -rf "$PG_TMP"
        log "throwaway PostgreSQL stopped and removed ($PG_TMP)"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

apt_install() {
    local sudo=()
    if [[ $EUID -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || die "need to install $* but not root and no sudo"
        sudo=(sudo -n)
    fi
    log "installing $* via apt-get"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" </dev/null
}

ensure_pg_client() {
    if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
        apt_install postgresql-client
    fi
}

find_pg_bin() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [[ -n "$d" && -x "$d/initdb" ]]; then
        PG_BIN="$d"
    elif command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        PG_BIN=$(dirname "$(command -v initdb)")
    else
        return 1
    fi
}

# Print a URL with any password masked.
redact() { sed -E 's#(://[^:/@]*):[^@]*@#\1:***@#' <<<"$1"; }

# psql that never prompts and stops on the first error.
pg_sql() {
    local url=$1; shift
    PGCONNECT_TIMEOUT=10 psql "$url" -w -X -q -v ON_ERROR_STOP=1 "$@" </dev/null
}

# Can we log in and create/drop a database? (what every test needs)
pg_can_create_db() {
    local url=$1 probe="popreg_probe_$$_${RANDOM}"
    pg_sql "$url" -c "CREATE DATABASE $probe" -c "DROP DATABASE $probe" >/dev/null
}

use_env_url() {
    local url=$POPREG_TEST_PG_URL shown i
    shown=$(redact "$url")
    # Give a just-started CI service container a moment.
    # (pg_isready: 0 = accepting, 1 = rejecting/starting, 2 = no response, 3 = bad parameters)
    local rc=0
    for i in $(seq 1 30); do
        rc=0
        pg_isready -q -d "$url" -t 2 || rc=$?
        [[ $rc -eq 1 || $rc -eq 2 ]] || break
        [[ $i -eq 1 ]] && log "waiting up to 30s for $shown to accept connections"
        sleep 1
    done
    PGCONNECT_TIMEOUT=10 psql "$url" -w -X -q -c 'select 1' </dev/null >/dev/null \
        || die "POPREG_TEST_PG_URL=$shown is not reachable (psql 'select 1' failed)"
    pg_can_create_db "$url" \
        || die "POPREG_TEST_PG_URL=$shown: connected, but cannot CREATE DATABASE (tests need that)"
    log "PostgreSQL: using POPREG_TEST_PG_URL=$shown (from environment)"
}

# Route 2: the machine's server on 127.0.0.1:5432 (starting the installed cluster
# if it is merely stopped). Returns 1 if it isn't usable.
try_local_server() {
    local url="postgres://postgres@127.0.0.1:5432/postgres"
    if ! pg_isready -q -h 127.0.0.1 -p 5432 -t 3; then
        command -v pg_lsclusters >/dev/null 2>&1 || return 1
        [[ $EUID -eq 0 ]] || return 1
        local ver name port status
        read -r ver name port status _ < <(pg_lsclusters -h 2>/dev/null | awk '$4 == "down"' | head -n 1) || true
        [[ -n "${ver:-}" && "${status:-}" == down ]] || return 1
        log "installed cluster $ver/$name (port $port) is stopped; starting it"
        pg_ctlcluster --skip-systemctl-redirect "$ver" "$name" start </dev/null || {
            log "WARNING: could not start cluster $ver/$name"
            return 1
        }
        url="postgres://postgres@127.0.0.1:$port/postgres"
        pg_isready -q -d "$url" -t 15 || return 1
    fi
    if ! pg_can_create_db "$url"; then
        log "WARNING: a server answers at ${url#postgres://postgres@}, but connecting as postgres (trust auth) and creating a database failed; falling back to a throwaway cluster"
        return 1
    fi
    POPREG_TEST_PG_URL=$url
    log "PostgreSQL: using local server $url"
}

port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Route 3: private cluster in a temp dir, trust auth, fsync off.
start_throwaway() {
    if ! find_pg_bin; then
        apt_install postgresql
        find_pg_bin || die "PostgreSQL server binaries still missing after apt-get install postgresql"
    fi
    if [[ $EUID -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user to own the throwaway cluster"
        PG_TMP_RUN=(runuser -u postgres --)
    else
        PG_TMP_RUN=(env)
    fi

    PG_TMP=$(mktemp -d "${TMPDIR:-/tmp}/popreg-pg.XXXXXX")
    chmod 700 "$PG_TMP"
    if [[ $EUID -eq 0 ]]; then chown postgres: "$PG_TMP"; fi

    (cd "$PG_TMP" && "${PG_TMP_RUN[@]}" "$PG_BIN/initdb" -D "$PG_TMP/data" -U postgres \
        -A trust -E UTF8 --locale=C --no-sync >"$PG_TMP/initdb.log" 2>&1) || {
        cat "$PG_TMP/initdb.log" >&2
        die "initdb failed"
    }

    local attempt port=""
    for attempt in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 40000))
        port_is_free "$port" || continue
        if (cd "$PG_TMP" && "${PG_TMP_RUN[@]}" "$PG_BIN/pg_ctl" start -D "$PG_TMP/data" -w -t 60 \
            -l "$PG_TMP/server.log" \
            -o "-p $port -k $PG_TMP -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            >/dev/null 2>&1); then
            break
        fi
        log "throwaway PostgreSQL failed to start on port $port (attempt $attempt)"
        port=""
    done
    if [[ -z "$port" ]]; then
        [[ -f "$PG_TMP/server.log" ]] && tail -n 30 "$PG_TMP/server.log" >&2
        die "could not start a throwaway PostgreSQL cluster"
    fi

    POPREG_TEST_PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
    pg_isready -q -d "$POPREG_TEST_PG_URL" -t 30 || die "throwaway PostgreSQL at port $port not ready"
    pg_can_create_db "$POPREG_TEST_PG_URL" || die "throwaway PostgreSQL: cannot create a database"
    local ver
    ver=$("$PG_BIN/postgres" --version | awk '{print $3}')
    log "PostgreSQL: started throwaway cluster (PostgreSQL $ver, $PG_TMP) at $POPREG_TEST_PG_URL; removed on exit"
}

ensure_postgres() {
    ensure_pg_client
    if [[ -n "${POPREG_TEST_PG_URL:-}" ]]; then
        use_env_url
    elif is_true "${POPREG_TEST_PG_FORCE_THROWAWAY:-}"; then
        log "POPREG_TEST_PG_FORCE_THROWAWAY set: not using any existing server"
        start_throwaway
    elif ! try_local_server; then
        start_throwaway
    fi
    export POPREG_TEST_PG_URL
}

# -----------------------------------------------------------------------------
# main
# -----------------------------------------------------------------------------
if is_true "${POPREG_TEST_PG_ONLY:-}"; then
    ensure_postgres
    echo "POPREG_TEST_PG_URL=$(redact "$POPREG_TEST_PG_URL")"
    db="popreg_pgonly_$$_${RANDOM}"
    pg_sql "$POPREG_TEST_PG_URL" -c "CREATE DATABASE $db" -c "DROP DATABASE $db"
    log "PG_ONLY: create database $db / drop database $db OK"
    exit 0
fi

ensure_tools
ensure_postgres
# The ID-card login tests also identify with curl (--cert/--key), as an operator would.
command -v curl >/dev/null 2>&1 || apt_install curl ca-certificates
# The schema tests (tests/it/schemas.rs) check the derived schemas with third-party validators: xmllint for the
# XSDs and Python jsonschema for the JSON Schemas (2020-12). They fail, never skip, without them.
has_jsonschema() {
    local py
    for py in ${POPREG_PYTHON:-} python3 /usr/bin/python3; do
        "$py" -c 'import jsonschema; jsonschema.Draft202012Validator' >/dev/null 2>&1 && return 0
    done
    return 1
}
command -v xmllint >/dev/null 2>&1 || apt_install libxml2-utils
has_jsonschema || apt_install python3 python3-jsonschema
command -v xmllint >/dev/null 2>&1 || die "xmllint is still missing after installing libxml2-utils"
has_jsonschema || die "no Python with jsonschema (Draft 2020-12) after installing python3-jsonschema"
# The browser test (tests/it/browser.rs) drives Debian's headless Chromium through Debian's chromedriver
# (never a downloaded browser). It fails, never skips, without them.
has_browser() { [[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]]; }
has_browser || apt_install chromium chromium-driver
has_browser || die "chromium or chromedriver is still missing after installing chromium chromium-driver"
# Whether one of POPREG_PYTHON, Debian's python3 and the one on the PATH runs the Python code $1.
has_python_with() {
    local py
    for py in ${POPREG_PYTHON:-} /usr/bin/python3 python3; do
        "$py" -c "$1" >/dev/null 2>&1 && return 0
    done
    return 1
}
# The notification tests (tests/it/notify.rs) deliver e-mail to a real SMTP server, aiosmtpd, run as a child
# process. They fail, never skip, without it.
has_aiosmtpd() { has_python_with 'import aiosmtpd.controller'; }
has_aiosmtpd || apt_install python3 python3-aiosmtpd
has_aiosmtpd || die "no Python with aiosmtpd after installing python3-aiosmtpd"
# The official mail tests (tests/it/inbound_mail.rs) check the DKIM signature and ARC set of forwarded mail
# with an independent implementation, dkimpy (Debian's python3-dkim). They fail, never skip, without it.
has_dkimpy() { has_python_with 'import dkim; dkim.verify; dkim.arc_verify'; }
has_dkimpy || apt_install python3 python3-dkim
has_dkimpy || die "no Python with dkimpy (dkim.verify, dkim.arc_verify) after installing python3-dkim"
# The SMS tests (crates/notify/tests/smpp.rs) speak SMPP 3.4 to a real SMSC: the server of the PyPI package
# smpp34 (not packaged by Debian), run by crates/notify/tests/fixtures/smsc.py as a child process. They fail, never
# skip, without it. Pinned: the fixture uses its Python API.
SMPP34_VERSION=1.5.0
has_smpp34() { has_python_with 'import smpp34; smpp34.Server'; }
if ! has_smpp34; then
    /usr/bin/python3 -m pip --version >/dev/null 2>&1 || apt_install python3 python3-pip
    log "installing smpp34==$SMPP34_VERSION for /usr/bin/python3 with pip"
    /usr/bin/python3 -m pip install --quiet --no-deps --break-system-packages "smpp34==$SMPP34_VERSION"
fi
has_smpp34 || die "no Python with smpp34 after pip install smpp34==$SMPP34_VERSION"
# The audit tests (tests/it/audit.rs) check inclusion proofs and checkpoint signatures with an independent
# implementation: RFC 6962 hashing in Python's hashlib and Ed25519 from python3-cryptography.
has_cryptography() { has_python_with 'from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey'; }
has_cryptography || apt_install python3 python3-cryptography
has_cryptography || die "no Python with cryptography (Ed25519) after installing python3-cryptography"
# The PDF export of the citizen's usage view (tests/it/my_usage.rs) is read back by independent tools:
# pdftotext and pdfinfo (poppler-utils) for its text and PDF/A metadata, qpdf --check for its structure.
command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1 || apt_install poppler-utils
command -v qpdf >/dev/null 2>&1 || apt_install qpdf
command -v pdftotext >/dev/null 2>&1 && command -v pdfinfo >/dev/null 2>&1 || die "pdftotext/pdfinfo still missing after installing poppler-utils"
command -v qpdf >/dev/null 2>&1 || die "qpdf is still missing after installing qpdf"

if is_true "${POPREG_TEST_QUICK:-}"; then
    log "POPREG_TEST_QUICK set: skipping cargo fmt and cargo clippy"
else
    log "cargo fmt --all -- --check"
    cargo fmt --all -- --check
    log "cargo clippy --workspace --all-targets -- -D warnings"
    cargo clippy --workspace --all-targets -- -D warnings
fi

profile=${NEXTEST_PROFILE:-default}
log "cargo nextest run --workspace --no-fail-fast --profile $profile $*"
cargo nextest run --workspace --no-fail-fast --profile "$profile" "$@"

if [[ $# -eq 0 ]]; then
    log "cargo test --workspace --doc"
    cargo test --workspace --doc
else
    log "extra nextest arguments given: skipping doc tests"
fi

log "all checks passed"
