#!/usr/bin/env python3
"""Print the scan benchmark's figures; the last line is ``scan/rg wall-time ratio: X``.

Reads the tree summary written by gen_tree.py and the per-run files written by
measure.py (``scan-warmup``, ``scan-1`` ... and ``rg-warmup``, ``rg-1`` ...). Wall times are
the median of the timed runs, so the warm-up runs never count toward them. Peak memory is
the maximum over all scan runs, the warm-up included, because the first scan inserts every
finding and may use the most memory.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

RSS_TARGET_MB = 300
RATIO_TARGET = 1.5


def load(work: Path, name: str) -> dict:
    return json.loads((work / f"{name}.json").read_text())


def megabytes(kib: int) -> float:
    """Convert the KiB that /proc and getrusage report into MB of 10^6 bytes."""
    return kib * 1024 / 1e6


def findings(output: Path) -> tuple[int, int]:
    """Return (systems, findings) counted in one `secruna scan --format json` document."""
    document = json.loads(output.read_text())
    systems = document.get("systems", [])
    return len(systems), sum(len(system.get("findings", [])) for system in systems)


def rg_matches(output: Path) -> tuple[int, int]:
    """Return (files with a match, matches) from `rg --count-matches` output."""
    files = matches = 0
    for line in output.read_text(errors="replace").splitlines():
        _, _, count = line.rpartition(":")
        if count.isdigit():
            files += 1
            matches += int(count)
    return files, matches


def machine() -> str:
    """Describe the machine: cores, CPU model, memory, rustc version, UTC time, load average."""
    model = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    memory_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory_kib = int(line.split()[1])
    try:
        rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rustc = "rustc not found"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return (
        f"{os.cpu_count()} cores, {model}, {memory_kib / 2**20:.1f} GiB RAM; {rustc}; {now}; "
        f"load average {load}"
    )


def version(binary: str) -> str:
    try:
        output = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return "version unknown"
    return output.strip() or "version unknown"


def seconds(runs: list[dict]) -> str:
    return ", ".join(f"{run['wall_s']:.2f}" for run in runs)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--summary", type=Path, required=True, help="tree summary JSON")
    parser.add_argument("--work", type=Path, required=True, help="folder with the run files")
    parser.add_argument("--runs", type=int, required=True, help="number of timed runs per tool")
    parser.add_argument("--patterns", type=Path, required=True, help="pattern file given to rg")
    parser.add_argument("--pattern-source", required=True, help="where the patterns came from")
    parser.add_argument("--binary", required=True, help="secruna binary that was timed")
    args = parser.parse_args(argv)

    tree = json.loads(args.summary.read_text())
    scan_warmup = load(args.work, "scan-warmup")
    scans = [load(args.work, f"scan-{run}") for run in range(1, args.runs + 1)]
    rg_warmup = load(args.work, "rg-warmup")
    rgs = [load(args.work, f"rg-{run}") for run in range(1, args.runs + 1)]

    scan_wall = statistics.median(run["wall_s"] for run in scans)
    rg_wall = statistics.median(run["wall_s"] for run in rgs)
    all_scans = [scan_warmup] + scans
    scan_hwm = megabytes(max(run["vm_hwm_kb"] for run in all_scans))
    scan_rusage = megabytes(max(run["max_rss_kb"] for run in all_scans))
    postgres = megabytes(max(run["postgres_rss_kb"] for run in all_scans))
    rg_rss = megabytes(max(run["max_rss_kb"] for run in [rg_warmup] + rgs))
    systems, found = findings(args.work / f"scan-{args.runs}.out")
    warm_systems, warm_found = findings(args.work / "scan-warmup.out")
    match_files, matches = rg_matches(args.work / f"rg-{args.runs}.out")
    pattern_count = sum(1 for line in args.patterns.read_text().splitlines() if line)
    ratio = scan_wall / rg_wall

    print(f"machine              {machine()}")
    print(f"binary               {args.binary} ({version(args.binary)})")
    print(f"tree                 {args.summary.with_suffix('')}")
    print(f"files                {tree['files']} scanned, {tree['ignored_files']} more in git-ignored and node_modules folders")
    print(f"size                 {tree['bytes'] / 1e9:.2f} GB, of which {tree['artefact_bytes'] / 1e9:.2f} GB in {tree['artefact_files']} model artefacts")
    print(f"planted signals      {json.dumps(tree['planted'], sort_keys=True)}")
    print(f"patterns             {pattern_count} from {args.pattern_source}")
    print(f"secruna scan wall    {scan_wall:.2f} s (median of {args.runs}: {seconds(scans)}; warm-up {scan_warmup['wall_s']:.2f} s)")
    print(f"secruna scan CPU     {statistics.median(run['user_s'] for run in scans):.2f} s user, {statistics.median(run['system_s'] for run in scans):.2f} s system (medians)")
    print(f"secruna peak RSS     {scan_hwm:.0f} MB (VmHWM of the secruna process; rusage maximum {scan_rusage:.0f} MB)")
    print(f"embedded postgres    {postgres:.0f} MB peak RSS summed over its processes (an upper bound)")
    print(f"secruna findings     {found} in {systems} systems (warm-up scan: {warm_found} in {warm_systems})")
    print(f"rg wall              {rg_wall:.2f} s (median of {args.runs}: {seconds(rgs)}; warm-up {rg_warmup['wall_s']:.2f} s)")
    print(f"rg CPU               {statistics.median(run['user_s'] for run in rgs):.2f} s user, {statistics.median(run['system_s'] for run in rgs):.2f} s system (medians)")
    print(f"rg peak RSS          {rg_rss:.0f} MB")
    print(f"rg matches           {matches} in {match_files} files")
    print(f"target ratio <= {RATIO_TARGET}  {'met' if ratio <= RATIO_TARGET else 'missed'}")
    print(f"target RSS < {RSS_TARGET_MB} MB  {'met' if scan_hwm < RSS_TARGET_MB and scan_rusage < RSS_TARGET_MB else 'missed'}")
    print(f"scan/rg wall-time ratio: {ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
