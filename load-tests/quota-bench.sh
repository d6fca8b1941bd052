#!/usr/bin/env bash
# Quota benchmark: crawls 1,000 scopes concurrently, with paging, against a fake provider
# on 127.0.0.1 that enforces an exact sliding-window quota per scope and responds with 429 above
# it. The engine is the connectors' network layer (agents::net: HttpClient, RateLimits,
# with_retries, PageGuard). The last line of output is
#   quota utilisation: U%, throttled: T
# where U is the calls served over the calls the quota allowed (calls * duration / window
# per scope, summed) and T is the number of 429 responses the provider sent.
#
# Usage: load-tests/quota-bench.sh [--scopes N] [--calls N] [--window-ms N]
#          [--listings N] [--pages N] [--items-per-page N]
#
#   --scopes N          scopes crawled at once, each with its own quota (default 1000)
#   --calls N           calls allowed per scope in any window (default 4)
#   --window-ms N       length of the sliding window in milliseconds (default 1000)
#   --listings N        listings per scope, paged concurrently (default 3)
#   --pages N           pages per listing (default 40, so a run lasts about 30 s)
#   --items-per-page N  items on each page (default 5)
#
# Environment:
#   CARGO   cargo command for the release build (default cargo)
set -euo pipefail

cd "$(dirname "$0")/.."
"${CARGO:-cargo}" build --release --quiet -p agents --example quota_bench
exec target/release/examples/quota_bench "$@"
