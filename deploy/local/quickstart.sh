#!/usr/bin/env bash
# Sets up this machine and runs a first scan on the embedded default: one process
# and a private Postgres cluster that secruna creates under its data folder.
#
#   deploy/local/quickstart.sh [PATH...]     (default: examples/loan-screening)
#
# Needs a Rust toolchain (cargo) and PostgreSQL's server binaries; on Debian or
# Ubuntu the script installs the `postgresql` package when they are missing.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo_root"

if ! command -v cargo >/dev/null; then
    echo "error: cargo not found: install Rust 1.95 or later (https://rustup.rs), then rerun" >&2
    exit 1
fi

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing PostgreSQL server binaries" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "error: PostgreSQL server binaries (initdb, pg_ctl) not found: install the" \
             "postgresql package (sudo apt-get install postgresql), then rerun" >&2
        exit 1
    fi
fi

if [ "$#" -eq 0 ]; then
    set -- examples/loan-screening
fi
exec cargo run --locked --quiet --bin secruna -- scan "$@"
