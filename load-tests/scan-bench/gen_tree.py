#!/usr/bin/env python3
"""Generate the scan benchmark's tree of project roots, or reuse a cached one.

The tree depends only on the command-line parameters and on the generator's own source,
so two runs with the same parameters produce byte-identical trees. A finished tree is kept
under ``OUT/tree-...`` with a JSON summary beside it (``OUT/tree-....json``) and is reused
by later runs. Prints the tree's path as the last line of stdout.
"""

import argparse
import hashlib
import json
import math
import os
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import artefacts  # noqa: E402
import projects  # noqa: E402
import sources  # noqa: E402

GENERATOR_FILES = ("gen_tree.py", "projects.py", "sources.py", "ai_usage.py", "manifests.py", "artefacts.py")
TEAMS = (
    "payments", "billing", "identity", "search", "platform", "data-science", "logistics",
    "support", "marketing", "mobile-backend", "risk", "analytics", "catalog", "checkout",
)
# Share of the total bytes that goes to model artefacts; the rest is text.
ARTEFACT_SHARE = 0.3
ARTEFACT_MIN_BYTES = 2 * 1024 * 1024
ARTEFACT_MAX_BYTES = 30 * 1024 * 1024
BLOCK_POOL_SIZE = 800


class Writer:
    """Writes files below ``base`` and counts what it wrote.

    ``files`` and ``bytes`` count only the files a scanner reads. Files in git-ignored or
    vendored folders are counted apart as ``ignored_*``.
    """

    def __init__(self, rng: random.Random, base: Path, target_files: int, target_text_bytes: int):
        self.rng = rng
        self.base = base
        self.target_files = target_files
        self.target_text_bytes = target_text_bytes
        self.files = 0
        self.bytes = 0
        self.text_bytes = 0
        self.artefact_files = 0
        self.artefact_bytes = 0
        self.ignored_files = 0
        self.ignored_bytes = 0
        self.planted = Counter()
        self.folders = set()

    def _write(self, relative: str, data: bytes) -> None:
        path = self.base / relative
        folder = path.parent
        if folder not in self.folders:
            folder.mkdir(parents=True, exist_ok=True)
            self.folders.add(folder)
        path.write_bytes(data)

    def write_text(self, relative: str, text: str, ignored: bool = False) -> None:
        data = text.encode()
        self._write(relative, data)
        if ignored:
            self.ignored_files += 1
            self.ignored_bytes += len(data)
            return
        self.files += 1
        self.bytes += len(data)
        self.text_bytes += len(data)

    def write_artefact(self, relative: str, data: bytes) -> None:
        self._write(relative, data)
        self.files += 1
        self.bytes += len(data)
        self.artefact_files += 1
        self.artefact_bytes += len(data)
        self.planted["artefact"] += 1

    def next_source_size(self) -> int:
        """Draw a source file size whose running mean steers the text total to its target."""
        remaining_files = max(self.target_files - self.files, 1)
        remaining_bytes = max(self.target_text_bytes - self.text_bytes, 0)
        mean = min(max(remaining_bytes / remaining_files, 1500), 60_000)
        # A log-normal with mu = -sigma^2 / 2 has mean 1, so `mean` stays the expected size.
        size = mean * self.rng.lognormvariate(-0.245, 0.7)
        return int(min(max(size, 300), 400_000))


def plan_artefacts(rng: random.Random, budget: int) -> list[tuple[str, int]]:
    """Draw (extension, size) pairs until their sizes add up to ``budget`` bytes."""
    planned = []
    total = 0
    while total < budget:
        size = rng.randint(ARTEFACT_MIN_BYTES, ARTEFACT_MAX_BYTES)
        planned.append((rng.choice(artefacts.FORMATS), size))
        total += size
    return planned


def project_name(rng: random.Random, used_names: set) -> str:
    while True:
        suffix = rng.choice(("service", "api", "worker", "jobs", "web", "gateway", "sync"))
        name = f"{rng.choice(sources.ADJECTIVES)}-{rng.choice(sources.NOUNS)}-{suffix}"
        if name not in used_names:
            used_names.add(name)
            return name


def source_count(rng: random.Random) -> int:
    return int(min(max(rng.lognormvariate(math.log(55), 0.9), 5), 1500))


def generate(base: Path, seed: int, target_files: int, target_bytes: int) -> Writer:
    """Write the whole tree below ``base``."""
    rng = random.Random(seed)
    pending = plan_artefacts(rng, int(target_bytes * ARTEFACT_SHARE))
    text_target = target_bytes - sum(size for _, size in pending)
    writer = Writer(rng, base, target_files, text_target)
    pools = {language: sources.block_pool(rng, language, BLOCK_POOL_SIZE) for language in sources.BLOCKS}
    layout = projects.Layout(rng, writer, pools)
    used_names = set()

    while writer.files < target_files:
        team = rng.choice(TEAMS)
        name = project_name(rng, used_names)
        roll = rng.random()
        if roll < 0.07:
            monorepo(rng, layout, f"{team}/{name}", name)
        elif roll < 0.12:
            profile = layout.profile("python")
            profile.ai_files = rng.randint(3, 8)
            profile.notebooks = rng.randint(2, 8)
            profile.artefacts = [pending.pop() for _ in range(min(rng.randint(1, 3), len(pending)))]
            layout.project(f"{team}/{name}", name, profile, source_count(rng))
        else:
            layout.project(f"{team}/{name}", name, layout.profile(), source_count(rng))
        writer.planted["project_root"] += 1

    if pending:
        profile = layout.profile("python")
        profile.artefacts = pending
        layout.project("ml-platform/model-registry", "model-registry", profile, 5)
        writer.planted["project_root"] += 1
    return writer


def monorepo(rng: random.Random, layout: projects.Layout, root: str, name: str) -> None:
    """Write a JavaScript workspace root whose ``services/*`` folders are project roots too."""
    services = [f"svc-{rng.choice(sources.NOUNS)}-{index}" for index in range(rng.randint(2, 6))]
    layout.writer.write_text(f"{root}/README.md", f"# {name}\n\nWorkspace with {len(services)} services.\n")
    layout.writer.write_text(f"{root}/.gitignore", projects.GITIGNORE)
    layout.writer.write_text(
        f"{root}/package.json",
        projects.manifests.package_json(rng, name, False, workspaces=["services/*"]),
    )
    for service in services:
        layout.project(f"{root}/services/{service}", service, layout.profile(), source_count(rng))
        layout.writer.planted["project_root"] += 1


def generator_digest() -> str:
    digest = hashlib.sha256()
    for name in GENERATOR_FILES:
        digest.update((HERE / name).read_bytes())
    return digest.hexdigest()[:12]


def remove_stale_trees(out: Path, name: str) -> None:
    """Delete trees with the same parameters made by an older version of the generator."""
    prefix = name.rsplit("-", 1)[0] + "-"
    for path in out.glob(prefix + "*"):
        if path.name in (name, f"{name}.json"):
            continue
        print(f"removing stale tree {path}", file=sys.stderr)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="cache folder for generated trees")
    parser.add_argument("--files", type=int, default=100_000, help="minimum number of scanned files")
    parser.add_argument("--size-mb", type=int, default=1100, help="approximate total size in MB (10^6 bytes)")
    parser.add_argument("--seed", type=int, default=2026, help="random seed")
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out = args.out.resolve()
    repository = HERE.parent.parent
    if out == repository or repository in out.parents:
        print(f"error: cache folder {out} is inside the repository; choose a folder outside it", file=sys.stderr)
        return 2
    name = f"tree-seed{args.seed}-files{args.files}-mb{args.size_mb}-{generator_digest()}"
    tree = out / name
    summary_path = out / f"{name}.json"
    if tree.is_dir() and summary_path.is_file():
        print(f"reusing cached tree {tree}", file=sys.stderr)
        print(tree)
        return 0

    partial = out / f"{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    started = time.monotonic()
    print(f"generating {tree} (seed {args.seed}, {args.files} files, {args.size_mb} MB)", file=sys.stderr)
    writer = generate(partial, args.seed, args.files, args.size_mb * 1_000_000)
    shutil.rmtree(tree, ignore_errors=True)
    os.rename(partial, tree)
    summary = {
        "seed": args.seed,
        "files": writer.files,
        "bytes": writer.bytes,
        "text_bytes": writer.text_bytes,
        "artefact_files": writer.artefact_files,
        "artefact_bytes": writer.artefact_bytes,
        "ignored_files": writer.ignored_files,
        "ignored_bytes": writer.ignored_bytes,
        "planted": dict(sorted(writer.planted.items())),
        "generation_seconds": round(time.monotonic() - started, 1),
    }
    summary_path.write_text(json.dumps(summary, indent=2) + "\n")
    remove_stale_trees(out, name)
    print(json.dumps(summary), file=sys.stderr)
    print(tree)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
