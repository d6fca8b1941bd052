"""Print the REST benchmark's figures from the JSON files the wrk script wrote.

Usage: report.py --work DIR --rounds N

Reads DIR/gateway-N.json and DIR/fastapi-N.json for rounds 1..N. For each server it
prints every round's requests per second and latency percentiles, then the median over
the rounds. The last line is `gateway/fastapi throughput ratio: R`, where R is the
gateway's median requests per second divided by the FastAPI reference's. A round with
socket errors, timeouts or non-2xx responses makes the report fail, because its
figures would not measure served pages.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

SERVERS = ("gateway", "fastapi")


def load_round(work: Path, server: str, round_number: int) -> dict:
    path = work / f"{server}-{round_number}.json"
    result = json.loads(path.read_text(encoding="utf-8"))
    errors = {name: count for name, count in result["errors"].items() if count}
    if errors:
        raise SystemExit(f"error: {server} round {round_number} had errors {errors}; "
                         f"its figures are not valid (see {path})")
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def milliseconds(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", required=True, type=Path, help="folder with the wrk results")
    parser.add_argument("--rounds", required=True, type=int, help="number of measured rounds")
    args = parser.parse_args()

    medians = {}
    print(f"{'server':<8} {'round':>5} {'requests':>9} {'req/s':>8} {'p50':>9} {'p90':>9} "
          f"{'p99':>9} {'max':>9}")
    for server in SERVERS:
        rounds = [load_round(args.work, server, number) for number in range(1, args.rounds + 1)]
        for number, result in enumerate(rounds, start=1):
            latency = result["latency_us"]
            print(f"{server:<8} {number:>5} {result['requests']:>9} {result['rps']:>8.0f} "
                  f"{milliseconds(latency['p50']):>9} {milliseconds(latency['p90']):>9} "
                  f"{milliseconds(latency['p99']):>9} {milliseconds(latency['max']):>9}")
        medians[server] = {
            "rps": statistics.median(result["rps"] for result in rounds),
            "p99": statistics.median(result["latency_us"]["p99"] for result in rounds),
            "kb_per_response": statistics.median(
                result["bytes"] / result["requests"] / 1000 for result in rounds),
        }

    print()
    for server in SERVERS:
        figures = medians[server]
        print(f"{server}: {figures['rps']:.0f} requests/s, p99 {milliseconds(figures['p99'])} "
              f"(median of {args.rounds} rounds; {figures['kb_per_response']:.1f} kB "
              "per response)")
    p99_ok = medians["gateway"]["p99"] <= medians["fastapi"]["p99"]
    print(f"gateway p99 {'<=' if p99_ok else '>'} fastapi p99")
    ratio = medians["gateway"]["rps"] / medians["fastapi"]["rps"]
    print(f"gateway/fastapi throughput ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
