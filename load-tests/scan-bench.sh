#!/usr/bin/env bash
# Scan benchmark: times `secruna scan` against ripgrep on the same generated tree.
#
# The script generates (or reuses) a seeded tree of at least 100,000 files and about
# 1.1 GB, and builds secruna in release mode unless a binary is given. It then alternates
# timed runs of these two commands and reports the median wall time of each:
#   secruna scan TREE --format json        (embedded Postgres in a temporary data folder)
#   rg -F --count-matches -f PATTERNS TREE (the keywords `secruna catalogue patterns` prints)
# The last line of output is
#   scan/rg wall-time ratio: X
#
# Usage: load-tests/scan-bench.sh [--binary PATH] [--runs N] [--files N] [--size-mb MB] [--seed N]
#
# Environment:
#   SECRUNA_SCAN_BENCH_DIR  cache folder for generated trees (default /var/tmp/secruna-scan-bench);
#                           it must be outside the repository
#   SECRUNA_BIN             secruna binary to benchmark, same as --binary
#   CARGO                   cargo command used for the release build (default cargo)
set -euo pipefail

export PYTHONDONTWRITEBYTECODE=1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
helpers="$here/scan-bench"

binary="${SECRUNA_BIN:-}"
runs=3
files=100000
size_mb=1100
seed=2026
cache_dir="${SECRUNA_SCAN_BENCH_DIR:-/var/tmp/secruna-scan-bench}"

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --runs) runs="$2"; shift 2 ;;
        --files) files="$2"; shift 2 ;;
        --size-mb) size_mb="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown argument '$1'; run with --help for the options" >&2; exit 2 ;;
    esac
done
if ! [[ "$runs" =~ ^[1-9][0-9]*$ ]]; then
    echo "error: --runs must be a positive integer, got '$runs'" >&2
    exit 2
fi

log() { echo "scan-bench: $*" >&2; }

# Installs a missing Debian package when running as root, or stops with the install command.
require_tool() {
    local tool="$1" package="$2"
    command -v "$tool" >/dev/null 2>&1 && return 0
    if [[ "$(id -u)" -ne 0 ]]; then
        echo "error: '$tool' not found; install it with: sudo apt-get install -y $package" >&2
        exit 1
    fi
    log "installing $package"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
}

require_tool python3 python3
require_tool rg ripgrep

# 1. The tree.
tree="$(python3 "$helpers/gen_tree.py" --out "$cache_dir" --files "$files" --size-mb "$size_mb" --seed "$seed" | tail -n 1)"
summary="$tree.json"

# 2. The binary.
if [[ -z "$binary" ]]; then
    log "building secruna in release mode"
    (cd "$repo" && "${CARGO:-cargo}" build --release --locked --bin secruna)
    binary="${CARGO_TARGET_DIR:-$repo/target}/release/secruna"
fi
if [[ ! -x "$binary" ]]; then
    echo "error: secruna binary '$binary' is missing or not executable; build it or pass --binary" >&2
    exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/secruna-scan-bench.XXXXXX")"
# As root, secruna runs the embedded Postgres as the `postgres` OS user, which must be able to
# enter this folder to reach the data folder inside it.
chmod 755 "$work"
data_dir="$work/data"
keep_work=0
cleanup() {
    # A scan stops the cluster it started; stop a postmaster left behind by a killed run.
    local pid_file
    pid_file="$(find "$data_dir" -name postmaster.pid 2>/dev/null | head -n 1 || true)"
    if [[ -n "$pid_file" ]]; then
        kill "$(head -n 1 "$pid_file")" 2>/dev/null || true
        sleep 1
    fi
    if [[ "$keep_work" -eq 1 ]]; then
        log "run files kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# 3. The patterns ripgrep searches for. `secruna catalogue patterns` prints the literal
# keywords of the scanner's prefilters, so rg takes them as fixed strings (-F). The stand-in
# for older binaries prints regular expressions.
patterns="$work/patterns.txt"
pattern_source="secruna catalogue patterns, as fixed strings"
rg_pattern_mode=(--fixed-strings)
if ! "$binary" catalogue patterns >"$patterns" 2>"$work/patterns.err" || [[ ! -s "$patterns" ]]; then
    pattern_source="load-tests/scan-bench/extract_patterns.py, as regexes (the binary has no 'catalogue patterns')"
    rg_pattern_mode=()
    python3 "$helpers/extract_patterns.py" "$repo/agents/catalogue/detectors.yaml" >"$patterns"
fi
log "patterns: $(wc -l <"$patterns") from $pattern_source"

# 4. Timed runs, alternating so that both tools see the same machine load.
scan() {
    env -u DATABASE_URL -u DATABASE_ADMIN_URL SECRUNA_DATA_DIR="$data_dir" \
        python3 "$helpers/measure.py" --result "$work/$1.json" --stdout "$work/$1.out" \
        --stderr "$work/$1.err" --postgres-marker "$data_dir" -- \
        "$binary" scan "$tree" --format json
    check_exit "$1"
}
ripgrep() {
    # --hidden and --no-require-git make rg walk what secruna walks: hidden files such as
    # .github/ and .env are read, and .gitignore applies outside a git repository too.
    python3 "$helpers/measure.py" --result "$work/$1.json" --stdout "$work/$1.out" \
        --stderr "$work/$1.err" -- \
        rg "${rg_pattern_mode[@]}" --hidden --no-require-git --count-matches -f "$patterns" "$tree"
    check_exit "$1" 1
}
# Stops unless the run's exit code is 0 or the extra accepted code (rg exits 1 on no match).
check_exit() {
    local code
    code="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["exit_code"])' "$work/$1.json")"
    if [[ "$code" != 0 && "$code" != "${2:-0}" ]]; then
        echo "error: run '$1' exited with code $code; its stderr ends with:" >&2
        tail -n 20 "$work/$1.err" >&2
        keep_work=1
        exit 1
    fi
}

log "tree $tree"
log "warm-up: first scan (creates the embedded cluster) and one rg run to fill the page cache"
scan scan-warmup
ripgrep rg-warmup
for run in $(seq 1 "$runs"); do
    log "run $run of $runs"
    scan "scan-$run"
    ripgrep "rg-$run"
done

# 5. The report; its last line is the ratio.
python3 "$helpers/report.py" --summary "$summary" --work "$work" --runs "$runs" \
    --patterns "$patterns" --pattern-source "$pattern_source" --binary "$binary"
