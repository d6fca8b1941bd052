#!/usr/bin/env bash
# REST benchmark: the gateway's AI system list against a FastAPI + uvicorn + asyncpg
# reference implementation of the same endpoint, over the same database, in one run.
#
# The script starts a throwaway PostgreSQL cluster on a loopback port, applies the schema
# with `secruna migrate`, seeds one tenant with AI systems, findings and verdicts, and
# creates a read API token with `secruna tokens create`. It then starts `secruna serve`
# and the reference server (load-tests/rest-bench/app.py), checks that both return the
# same pages for every URL of the mix, and loads each in turn with wrk from a separate
# process: same connections, duration and URL mix. The mix is a third first pages
# (limit 50), a third first pages filtered by risk class, and a third later pages
# reached through a cursor. The last line of output is
#   gateway/fastapi throughput ratio: R
#
# Usage: load-tests/rest-bench.sh [--binary PATH] [--systems N] [--connections N]
#          [--threads N] [--duration SECONDS] [--warmup SECONDS] [--rounds N]
#          [--workers N] [--pool-size N] [--random-page-cost X]
#
#   --binary PATH         secruna binary (default: build it with cargo build --release)
#   --systems N           AI systems in the tenant (default 100000)
#   --connections N       wrk connections, the concurrency (default 32)
#   --threads N           wrk threads (default 2)
#   --duration SECONDS    length of one measured wrk run (default 20)
#   --warmup SECONDS      unmeasured wrk run per server before the first round (default 5)
#   --rounds N            measured runs per server, alternating the servers (default 3)
#   --workers N           uvicorn worker processes (default: the number of cores)
#   --pool-size N         asyncpg connections per uvicorn worker (default: 16 divided by
#                         the workers, so both servers hold 16 connections, the gateway's
#                         default pool size)
#   --random-page-cost X  planner setting of the cluster (default 1.1, the usual value for
#                         SSD storage; 4 is the PostgreSQL default)
#
# Environment:
#   SECRUNA_BIN                secruna binary, same as --binary
#   SECRUNA_REST_BENCH_VENV    virtualenv of the reference server (default
#                              /var/tmp/secruna-py-bench); created and filled from
#                              load-tests/rest-bench/requirements.txt when missing
#   CARGO                      cargo command for the release build (default cargo)
#
# Needs PostgreSQL 15 server binaries, psql, python3 with venv, and wrk (Debian packages
# postgresql, python3-venv and wrk; the missing ones are installed when run as root).
# Everything listens on 127.0.0.1 only.
set -euo pipefail

export PYTHONDONTWRITEBYTECODE=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
helpers="$here/rest-bench"

binary="${SECRUNA_BIN:-}"
num_systems=100000
connections=32
threads=2
duration=20
warmup=5
rounds=3
workers="$(nproc)"
pool_size=""
random_page_cost=1.1
venv="${SECRUNA_REST_BENCH_VENV:-/var/tmp/secruna-py-bench}"

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --systems) num_systems="$2"; shift 2 ;;
        --connections) connections="$2"; shift 2 ;;
        --threads) threads="$2"; shift 2 ;;
        --duration) duration="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --workers) workers="$2"; shift 2 ;;
        --pool-size) pool_size="$2"; shift 2 ;;
        --random-page-cost) random_page_cost="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument '$1'; run with --help for the options" >&2; exit 2 ;;
    esac
done
for option in num_systems connections threads duration warmup rounds workers; do
    if ! [[ "${!option}" =~ ^[1-9][0-9]*$ ]]; then
        echo "error: --${option//_/-} must be a positive integer, got '${!option}'" >&2
        exit 2
    fi
done
if [[ -z "$pool_size" ]]; then
    pool_size=$(( (16 + workers - 1) / workers ))
fi

log() { echo "rest-bench: $*" >&2; }

# Installs a missing Debian package when running as root, or stops with the install command.
require() {
    local present="$1" package="$2"
    eval "$present" >/dev/null 2>&1 && return 0
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "error: Debian package '$package' is missing; install it with: sudo apt-get install -y $package" >&2
        exit 1
    fi
    log "installing $package"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
}

pg_bindir() {
    local candidate
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$candidate/initdb" ]]; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

require pg_bindir postgresql
require "command -v psql" postgresql-client
require "command -v wrk" wrk
require "python3 -c 'import ensurepip, venv'" python3-venv
pg_bin="$(pg_bindir)"

# 1. The reference server's virtualenv.
if [[ ! -x "$venv/bin/uvicorn" ]]; then
    log "creating the virtualenv $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r "$helpers/requirements.txt"
fi

# 2. The binary.
if [[ -z "$binary" ]]; then
    log "building secruna in release mode"
    (cd "$repo" && "${CARGO:-cargo}" build --release --locked -p secruna)
    binary="${CARGO_TARGET_DIR:-$repo/target}/release/secruna"
fi
if [[ ! -x "$binary" ]]; then
    echo "error: secruna binary '$binary' is missing or not executable; build it or pass --binary" >&2
    exit 1
fi

# 3. Cleanup of everything started below, on any exit.
work="$(mktemp -d "${TMPDIR:-/tmp}/secruna-rest-bench.XXXXXX")"
chmod 755 "$work"
pg_data="$work/pg"
mkdir "$pg_data"
server_pids=()
as_postgres() {
    if [[ "$(id -u)" -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    local pid
    for pid in "${server_pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${server_pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [[ "$(id -u)" -eq 0 ]]; then
    chown postgres:postgres "$pg_data"
fi

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Polls a URL until it returns 200, or stops after 60 s and prints the end of the server's log.
wait_ready() {
    local url="$1" log_file="$2" header="${3:-}"
    for _ in $(seq 1 600); do
        if python3 - "$url" "$header" <<'PY' 2>/dev/null; then
import sys, urllib.request
request = urllib.request.Request(sys.argv[1])
if sys.argv[2]:
    request.add_header("Authorization", sys.argv[2])
with urllib.request.urlopen(request, timeout=2) as response:
    sys.exit(0 if response.status == 200 else 1)
PY
            return 0
        fi
        sleep 0.1
    done
    echo "error: $url did not return 200 within 60 s; the server log ends with:" >&2
    tail -n 20 "$log_file" >&2
    exit 1
}

# 4. The cluster, the schema and the data.
pg_port="$(free_port)"
as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
# fsync is off to make seeding fast; the measured requests only read.
as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_data -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c random_page_cost=$random_page_cost" >/dev/null
log "postgres $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

admin_url="postgres://postgres@127.0.0.1:$pg_port/secruna_bench"
app_url="postgres://secruna_bench_login@127.0.0.1:$pg_port/secruna_bench"
psql_admin() { psql "$admin_url" -X -q -v ON_ERROR_STOP=1 "$@"; }

psql "postgres://postgres@127.0.0.1:$pg_port/postgres" -X -q -c "CREATE DATABASE secruna_bench"
DATABASE_ADMIN_URL="$admin_url" "$binary" migrate >/dev/null
# The application login: a member of secruna_app and nothing more, as the gateway requires.
psql_admin -c "CREATE ROLE secruna_bench_login LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE secruna_app"

token_file="$work/token"
(umask 077 && DATABASE_URL="$app_url" "$binary" tokens create --tenant bench --scope read \
    --name rest-bench >"$token_file" 2>"$work/token.err")
tenant_path="$(psql_admin -At -c "SELECT path FROM tenants WHERE slug = 'bench'")"

log "seeding tenant '$tenant_path' with $num_systems AI systems"
seed_start=$SECONDS
psql_admin -v tenant_path="$tenant_path" -v systems="$num_systems" -f "$helpers/seed.sql"
log "seeded in $((SECONDS - seed_start)) s: $(psql_admin -At -F ' ' -c \
    "SELECT (SELECT count(*) FROM ai_systems) || ' systems, ' || (SELECT count(*) FROM findings)
         || ' findings, ' || (SELECT count(*) FROM evaluations) || ' verdicts'")"

paths_file="$work/paths.txt"
psql_admin -At -v tenant_path="$tenant_path" -f "$helpers/paths.sql" >"$paths_file"

# 5. Both servers.
gateway_port="$(free_port)"
# The gRPC API gets a free port too, so another server on its default port cannot stop the run.
DATABASE_URL="$app_url" SECRUNA_LISTEN="127.0.0.1:$gateway_port" \
    SECRUNA_GRPC_ADDR="127.0.0.1:$(free_port)" \
    SECRUNA_RATE_PER_SECOND=1000000 SECRUNA_RATE_BURST=1000000 \
    "$binary" serve >"$work/gateway.log" 2>&1 &
server_pids+=("$!")
wait_ready "http://127.0.0.1:$gateway_port/readyz" "$work/gateway.log"

fastapi_port="$(free_port)"
(cd "$helpers" && DATABASE_URL="$app_url" REST_BENCH_POOL_SIZE="$pool_size" \
    exec "$venv/bin/uvicorn" app:app --host 127.0.0.1 --port "$fastapi_port" \
        --workers "$workers" --loop uvloop --http httptools --no-access-log \
        --log-level warning) >"$work/fastapi.log" 2>&1 &
server_pids+=("$!")
wait_ready "http://127.0.0.1:$fastapi_port/api/v1/systems?limit=1" "$work/fastapi.log" \
    "Bearer $(cat "$token_file")"
log "gateway on 127.0.0.1:$gateway_port (pool of 16 connections); fastapi on" \
    "127.0.0.1:$fastapi_port ($workers uvicorn workers, $pool_size connections each)"

# 6. Same pages from both, before anything is measured.
python3 "$helpers/check_same.py" --gateway "http://127.0.0.1:$gateway_port" \
    --fastapi "http://127.0.0.1:$fastapi_port" --token-file "$token_file" --paths "$paths_file"

# 7. Load.
load() {
    local port="$1" seconds="$2" result="$3"
    REST_BENCH_TOKEN="$(cat "$token_file")" REST_BENCH_PATHS="$paths_file" \
        REST_BENCH_RESULT="$result" \
        wrk --threads "$threads" --connections "$connections" --duration "${seconds}s" \
        --timeout 10s --script "$helpers/mix.lua" "http://127.0.0.1:$port" >"$result.out"
}
log "wrk: $threads threads, $connections connections, ${duration} s per run, $rounds rounds," \
    "$(sort -u "$paths_file" | wc -l) distinct paths in a mix of $(wc -l <"$paths_file")"
load "$gateway_port" "$warmup" "$work/gateway-warmup.json"
load "$fastapi_port" "$warmup" "$work/fastapi-warmup.json"
for round in $(seq 1 "$rounds"); do
    # Alternate which server goes first, so neither always runs on a warmer machine.
    if (( round % 2 == 1 )); then order=(gateway fastapi); else order=(fastapi gateway); fi
    for server in "${order[@]}"; do
        port_variable="${server}_port"
        log "round $round of $rounds: $server"
        load "${!port_variable}" "$duration" "$work/$server-$round.json"
    done
done

# 8. The report; its last line is the ratio.
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)," \
    "$(. /etc/os-release && echo "$PRETTY_NAME"), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "secruna: $binary ($("$binary" --version)); postgres $("$pg_bin/postgres" --version | awk '{print $3}')," \
    "random_page_cost $random_page_cost; $(wrk --version 2>&1 | head -n 1 | awk '{print $1, $2}')"
echo "fastapi: $("$venv/bin/python" --version), $("$venv/bin/pip" list 2>/dev/null \
    | awk '$1 ~ /^(fastapi|uvicorn|asyncpg|orjson|uvloop)$/ {printf "%s %s, ", $1, $2}')$workers workers"
echo "load: wrk $threads threads, $connections connections, $duration s per round, $num_systems systems"
python3 "$helpers/report.py" --work "$work" --rounds "$rounds"
