#!/usr/bin/env bash
# Property-based API test: schemathesis (PyPI) generates requests from the OpenAPI document
# at /api/v1/openapi.json and sends them to a private `secruna serve`. It fails when any
# response is a 5xx (the `not_a_server_error` check) or breaks the documented schema.
#
# The script builds the debug binary and starts the gateway on the embedded PostgreSQL,
# with a throwaway data folder, on 127.0.0.1. It creates an admin API token with
# `secruna tokens create` and subscribes the tenant to the EU AI Act pack. Schemathesis
# then runs the stateless phases (examples, coverage, fuzzing) with that token. The
# script ends with a summary line and exits non-zero when schemathesis found a failure.
#
# Usage: load-tests/schemathesis.sh [--binary PATH] [--max-examples N] [--checks LIST]
#
#   --binary PATH       secruna binary (default: build it with cargo build -p secruna)
#   --max-examples N    generated requests per operation and phase (default 50)
#   --checks LIST       schemathesis checks (default not_a_server_error,
#                       response_schema_conformance, status_code_conformance,
#                       content_type_conformance)
#
# Environment:
#   SECRUNA_SCHEMATHESIS_VENV  virtualenv holding schemathesis (default
#                              /var/tmp/secruna-schemathesis); created and filled from
#                              PyPI when missing
#   CARGO                      cargo command for the build (default cargo)
#
# Needs PostgreSQL server binaries for the embedded cluster, curl, and python3 with venv.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

binary="${SECRUNA_BIN:-}"
max_examples=50
checks="not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance"
venv="${SECRUNA_SCHEMATHESIS_VENV:-/var/tmp/secruna-schemathesis}"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --max-examples) max_examples="$2"; shift 2 ;;
        --checks) checks="$2"; shift 2 ;;
        *) echo "unknown option $1; see the usage at the top of $0" >&2; exit 2 ;;
    esac
done

# Install schemathesis into its own virtualenv, so its pins do not move other tools' packages.
if [[ ! -x "$venv/bin/schemathesis" ]]; then
    echo "installing schemathesis into $venv" >&2
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet schemathesis
fi
echo "schemathesis $("$venv/bin/pip" show schemathesis | awk '/^Version:/ {print $2}')" >&2

if [[ -z "$binary" ]]; then
    (cd "$repo" && "${CARGO:-cargo}" build --quiet -p secruna)
    binary="$repo/target/debug/secruna"
fi

workdir="$(mktemp -d /tmp/secruna-schemathesis.XXXXXX)"
# The embedded cluster runs as an unprivileged user when the script runs as root, and that
# user must reach the data folder.
chmod 755 "$workdir"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$workdir"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
export SECRUNA_DATA_DIR="$workdir/data"
SECRUNA_SECRET_KEY="$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')"
export SECRUNA_SECRET_KEY
unset DATABASE_URL DATABASE_ADMIN_URL

# The token is created before the server starts, because both open the same embedded cluster.
token="$("$binary" tokens create --tenant schemathesis --scope admin --name schemathesis \
    2> "$workdir/tokens.log")" || { cat "$workdir/tokens.log" >&2; exit 1; }

# A high rate limit keeps generated requests from being rejected with 429 before they are tested.
"$binary" serve --listen "127.0.0.1:$port" --rate-per-second 100000 --rate-burst 100000 \
    > "$workdir/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 120); do
    if curl -fsS "$base/readyz" > /dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "secruna serve exited; its log follows" >&2
        cat "$workdir/serve.log" >&2
        exit 1
    fi
    sleep 0.5
done
curl -fsS "$base/readyz" > /dev/null

curl -fsS -X PUT "$base/api/v1/subscriptions" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d '{"frameworks": ["eu-ai-act"]}' > /dev/null

status=0
"$venv/bin/schemathesis" run "$base/api/v1/openapi.json" \
    --header "Authorization: Bearer $token" \
    --phases examples,coverage,fuzzing \
    --checks "$checks" \
    --max-examples "$max_examples" \
    --no-color \
    2>&1 | tee "$workdir/schemathesis.log" || status=$?

num_5xx="$(grep -cE '^\[5[0-9][0-9]\]|Server error' "$workdir/schemathesis.log" || true)"
if grep -qE 'status 5[0-9][0-9]|panicked' "$workdir/serve.log"; then
    echo "the server log names 5xx responses or panics:" >&2
    grep -E 'status 5[0-9][0-9]|panicked' "$workdir/serve.log" | head -20 >&2
    status=1
fi
echo "schemathesis summary: exit status $status, server-error findings $num_5xx, checks $checks, max examples $max_examples"
exit "$status"
