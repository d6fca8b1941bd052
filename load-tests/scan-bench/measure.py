#!/usr/bin/env python3
"""Run one command and write its wall time, exit code and memory figures as JSON.

Memory figures:

- ``max_rss_kb``: ``ru_maxrss`` from ``wait4``, the figure GNU ``time -v`` prints. It is
  the peak resident set of the command or of the largest descendant it waited for.
- ``vm_hwm_kb``: the command's own ``VmHWM`` from ``/proc/PID/status``, sampled every
  0.1 s, so it misses a peak reached in the last 0.1 s before exit.
- ``postgres_rss_kb``: with ``--postgres-marker``, the peak sum of ``VmRSS`` over
  processes named ``postgres`` whose command line contains the marker (the embedded
  cluster's data folder). Shared buffers are counted once per process, so the sum
  overstates the cluster's real use.
"""

import argparse
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

SAMPLE_SECONDS = 0.1
POSTGRES_EVERY = 5  # scan /proc for postgres processes on every fifth sample


def status_kb(pid: int, field: str) -> int:
    """Return a ``kB`` field of ``/proc/PID/status``, or 0 once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError, ValueError):
        pass
    return 0


def postgres_rss_kb(marker: str) -> int:
    """Sum ``VmRSS`` over the postgres processes whose command line contains ``marker``."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            if Path(f"/proc/{entry.name}/comm").read_text().strip() != "postgres":
                continue
            if marker not in Path(f"/proc/{entry.name}/cmdline").read_bytes().decode(errors="replace"):
                continue
        except OSError:
            continue
        total += status_kb(int(entry.name), "VmRSS")
    return total


class Sampler(threading.Thread):
    """Samples memory figures of a running command until ``done`` is set."""

    def __init__(self, pid: int, postgres_marker: str | None):
        super().__init__(daemon=True)
        self.pid = pid
        self.postgres_marker = postgres_marker
        self.done = threading.Event()
        self.hwm_kb = 0
        self.postgres_kb = 0

    def run(self) -> None:
        samples = 0
        while not self.done.is_set():
            self.hwm_kb = max(self.hwm_kb, status_kb(self.pid, "VmHWM"))
            if self.postgres_marker and samples % POSTGRES_EVERY == 0:
                self.postgres_kb = max(self.postgres_kb, postgres_rss_kb(self.postgres_marker))
            samples += 1
            self.done.wait(SAMPLE_SECONDS)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--result", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--stdout", type=Path, required=True, help="file for the command's stdout")
    parser.add_argument("--stderr", type=Path, required=True, help="file for the command's stderr")
    parser.add_argument("--postgres-marker", help="text in the embedded postgres command line")
    parser.add_argument("command", nargs="+", help="command and arguments, after --")
    args = parser.parse_args(argv)

    with args.stdout.open("wb") as out, args.stderr.open("wb") as err:
        started = time.monotonic()
        child = subprocess.Popen(args.command, stdout=out, stderr=err)
        sampler = Sampler(child.pid, args.postgres_marker)
        sampler.start()
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.monotonic() - started
        sampler.done.set()
        sampler.join()

    result = {
        "command": args.command,
        "wall_s": round(wall, 3),
        "exit_code": os.waitstatus_to_exitcode(status),
        "max_rss_kb": usage.ru_maxrss,
        "vm_hwm_kb": sampler.hwm_kb,
        "postgres_rss_kb": sampler.postgres_kb,
        "user_s": round(usage.ru_utime, 2),
        "system_s": round(usage.ru_stime, 2),
    }
    args.result.write_text(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
