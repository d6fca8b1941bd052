#!/usr/bin/env bash
# Ingest benchmark: N concurrent Ingest.StreamFindings streams push generated findings
# into a release build of `secruna serve`, end to end into PostgreSQL; then the same
# rows are loaded with COPY into the same tables, as the ceiling. Both phases run on one
# throwaway cluster started as .ci/run starts its cluster (loopback port, fsync off).
#
# The load generator is agents/examples/ingest_bench.rs, which uses the agent's own
# client (agents::remote::Uploader). After the ingest phase the script saves the rows
# the server wrote to ai_systems, findings, evaluations and reviews, deletes them, and times
# COPY ... FROM of the saved rows into the same tables with their indexes and
# constraints. It prints findings per second of both phases, the p99 acknowledgement
# latency, the server's peak RSS (VmHWM), and as the last line
#   ingest/copy throughput ratio: R
# where R is ingest findings per second divided by COPY findings per second.
#
# Usage: load-tests/ingest-bench.sh [--streams N] [--findings N] [--batch-size N]
#          [--max-unacked N]
#
#   --streams N      concurrent client streams (default 4)
#   --findings N     findings per stream (default 50000)
#   --batch-size N   findings per batch, at most 1000 (default 500)
#   --max-unacked N  batches a stream sends ahead of its acknowledgements (default 2); the
#                    acknowledgement latency includes the time a batch waits behind these
#
# Environment:
#   CARGO_TARGET_DIR      where the release build goes (default: the workspace target/)
#   SECRUNA_BIN           prebuilt release secruna binary; skips building it
#   INGEST_BENCH_CLIENT   prebuilt release ingest_bench example; skips building it
#   CARGO                 cargo command (default cargo)
#
# Needs PostgreSQL server binaries and psql (Debian packages postgresql and
# postgresql-client). Everything listens on 127.0.0.1 only.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

streams=4
per_stream=50000
batch_size=500
max_unacked=2

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --streams) streams="$2"; shift 2 ;;
        --findings) per_stream="$2"; shift 2 ;;
        --batch-size) batch_size="$2"; shift 2 ;;
        --max-unacked) max_unacked="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument '$1'; run with --help for the options" >&2; exit 2 ;;
    esac
done
for option in streams per_stream batch_size max_unacked; do
    if ! [[ "${!option}" =~ ^[1-9][0-9]*$ ]]; then
        echo "error: option ${option//_/-} must be a positive integer, got '${!option}'" >&2
        exit 2
    fi
done

log() { echo "ingest-bench: $*" >&2; }

pg_bin=""
for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x "$candidate/initdb" ]]; then pg_bin="$candidate"; break; fi
done
if [[ -z "$pg_bin" ]] || ! command -v psql >/dev/null; then
    echo "error: PostgreSQL is missing; install it with: sudo apt-get install -y postgresql postgresql-client" >&2
    exit 1
fi

target="${CARGO_TARGET_DIR:-$repo/target}/release"
binary="${SECRUNA_BIN:-}"
client="${INGEST_BENCH_CLIENT:-}"
if [[ -z "$binary" ]]; then
    log "building secruna in release mode"
    (cd "$repo" && "${CARGO:-cargo}" build --release --locked -p secruna --bin secruna)
    binary="$target/secruna"
fi
if [[ -z "$client" ]]; then
    log "building the load generator in release mode"
    (cd "$repo" && "${CARGO:-cargo}" build --release --locked -p agents --example ingest_bench)
    client="$target/examples/ingest_bench"
fi
for program in "$binary" "$client"; do
    if [[ ! -x "$program" ]]; then
        echo "error: '$program' is missing or not executable; build it or unset the variable naming it" >&2
        exit 1
    fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/secruna-ingest-bench.XXXXXX")"
chmod 755 "$work"
pg_data="$work/pg"
mkdir "$pg_data"
server_pid=""
as_postgres() {
    if [[ "$(id -u)" -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
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

pg_port="$(free_port)"
as_postgres "$pg_bin/initdb" -D "$pg_data" -U postgres --auth=trust -E UTF8 --no-sync >/dev/null
as_postgres "$pg_bin/pg_ctl" -D "$pg_data" -l "$pg_data/server.log" -w start -o \
    "-c listen_addresses=127.0.0.1 -p $pg_port -k $pg_data -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=300" >/dev/null
log "postgres $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port"

admin_url="postgres://postgres@127.0.0.1:$pg_port/secruna_bench"
app_url="postgres://secruna_bench_login@127.0.0.1:$pg_port/secruna_bench"
psql_admin() { psql "$admin_url" -X -q -v ON_ERROR_STOP=1 "$@"; }

psql "postgres://postgres@127.0.0.1:$pg_port/postgres" -X -q -c "CREATE DATABASE secruna_bench"
DATABASE_ADMIN_URL="$admin_url" "$binary" migrate >/dev/null
psql_admin -c "CREATE ROLE secruna_bench_login LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE IN ROLE secruna_app"
token="$(DATABASE_URL="$app_url" "$binary" tokens create --tenant bench --scope write --name ingest-bench)"

grpc_port="$(free_port)"
http_port="$(free_port)"
DATABASE_URL="$app_url" RUST_LOG=info NO_COLOR=1 "$binary" serve \
    --listen "127.0.0.1:$http_port" --grpc-addr "127.0.0.1:$grpc_port" >"$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
    grep -q "gRPC server listening" "$work/serve.log" && break
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "error: secruna serve exited; its log ends with:" >&2
        tail -n 20 "$work/serve.log" >&2
        exit 1
    fi
    sleep 0.1
done

log "ingest: $streams streams x $per_stream findings, batches of $batch_size"
SECRUNA_TOKEN="$token" "$client" "http://127.0.0.1:$grpc_port" "$streams" "$per_stream" \
    "$batch_size" "$max_unacked" | tee "$work/client.out"
peak_rss_kib="$(awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status")"
kill "$server_pid"
wait "$server_pid" || true
server_pid=""

value() { awk -F': ' -v key="$1" '$1 == key {print $2}' "$work/client.out"; }
acknowledged="$(value "findings acknowledged")"
ingest_rate="$(value "ingest findings/s")"
stored="$(psql_admin -At -c "SELECT count(*) FROM findings WHERE source = 'bench'")"
if [[ "$stored" != "$acknowledged" ]]; then
    echo "error: the server acknowledged $acknowledged findings but stored $stored" >&2
    exit 1
fi

log "ceiling: COPY of the same $stored findings with their systems, evaluations and reviews"
tables=(ai_systems findings evaluations reviews)
for table in "${tables[@]}"; do
    psql_admin -c "\\copy (SELECT * FROM $table) TO '$work/$table.copy' WITH (FORMAT binary)"
done
psql_admin -c "DELETE FROM ai_systems"
psql_admin -c "VACUUM (ANALYZE) ai_systems, findings, evaluations, reviews"
copy_script="$work/copy.sql"
{
    echo "\\timing on"
    echo "BEGIN;"
    for table in "${tables[@]}"; do
        echo "\\copy $table FROM '$work/$table.copy' WITH (FORMAT binary)"
    done
    echo "COMMIT;"
} >"$copy_script"
copy_started="$(date +%s.%N)"
psql_admin -f "$copy_script" >"$work/copy.out"
copy_finished="$(date +%s.%N)"
copied="$(psql_admin -At -c "SELECT count(*) FROM findings WHERE source = 'bench'")"
copy_seconds="$(echo "$copy_finished - $copy_started" | bc -l)"
copy_rate="$(echo "$copied / $copy_seconds" | bc -l)"

printf 'copy findings: %s\n' "$copied"
for table in "${tables[@]}"; do
    printf 'copy rows of %s: %s\n' "$table" "$(psql_admin -At -c "SELECT count(*) FROM $table")"
done
grep '^Time:' "$work/copy.out" | sed 's/^Time:/copy statement time:/'
printf 'copy elapsed s: %.3f\n' "$copy_seconds"
printf 'copy findings/s: %.0f\n' "$copy_rate"
printf 'server peak RSS MiB: %.1f\n' "$(echo "$peak_rss_kib / 1024" | bc -l)"
printf 'ingest/copy throughput ratio: %.3f\n' "$(echo "$ingest_rate / $copy_rate" | bc -l)"
