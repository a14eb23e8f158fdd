"""Vitrine evaluated only through its CLI contract: `vitrine train` then `vitrine recommend`.

    train:     vitrine train --interactions FILE --out MODEL
               FILE: CSV `user,item,timestamp,event,quantity`, one row per training line,
               event=purchase, timestamp `YYYY-MM-DD HH:MM:SS`.
    recommend: vitrine recommend --model MODEL --histories FILE --k K --exclude-history
               FILE: JSON lines {"user": ..., "items": [...]}, distinct items oldest first;
               stdout: one JSON line {"user", "items"} per input line, in order.

Timings are wall-clock times of the two processes (so they include reading and writing the
files and process start), not of the Python that writes the inputs.

`GRID` is Vitrine's validation grid over `vitrine train` flags, searched by evaluate.py exactly as
the peers' grids are; the first entry is the CLI defaults.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import time
from pathlib import Path

import pandas as pd


def _grid() -> list[tuple[str, ...]]:
    """Half-life x λ x EASE neighbourhood; the defaults (no half-life, λ 400, neighbourhood 150) come first.

    Neighbourhood 300 costs four to eight times the training time of 150 (each local solve grows with
    the cube of its size), which is what keeps the grid this small: 24 configurations per split.
    """
    out = [()]
    for half_life, lam, hood in itertools.product((None, 60, 120, 240), (200, 400, 800), (150, 300)):
        flags = ("--lambda", str(lam), "--neighborhood", str(hood))
        if half_life is not None:
            flags = ("--half-life-days", str(half_life)) + flags
        if (half_life, lam, hood) != (None, 400, 150):
            out.append(flags)
    return out


GRID: list[tuple[str, ...]] = _grid()


class VitrineCLI:
    # Interaction files already written in this process, by path, with the frame they hold: a grid
    # search trains many times on one frame and need not rewrite 300,000 CSV lines each time.
    _written: dict[Path, pd.DataFrame] = {}

    def __init__(self, binary: Path, workdir: Path, tag: str, train_args: tuple[str, ...] = (), name: str = "Vitrine (CLI)"):
        self.binary = binary
        self.workdir = workdir
        self.tag = tag
        self.name = name
        # Extra `vitrine train` flags (none = the CLI defaults).
        self.train_args = tuple(train_args)
        self.params = {"flags": self.describe()}
        self.fit_seconds = 0.0
        self.recommend_seconds = 0.0
        self.model = workdir / f"{tag_safe(tag)}.model.json"

    def describe(self) -> str:
        return " ".join(self.train_args) or "CLI defaults"

    def fit(self, train: pd.DataFrame) -> "VitrineCLI":
        path = self.workdir / f"{tag_safe(self.tag)}.interactions.csv"
        if VitrineCLI._written.get(path) is not train:
            self._write_interactions(train, path)
            VitrineCLI._written[path] = train
        t0 = time.perf_counter()
        run([str(self.binary), "train", "--interactions", str(path), "--out", str(self.model)] + list(self.train_args))
        self.fit_seconds = time.perf_counter() - t0
        return self

    @staticmethod
    def _write_interactions(train: pd.DataFrame, path: Path) -> None:
        out = pd.DataFrame(
            {
                "user": train["user"].astype(str),
                "item": train["item"].astype(str),
                "timestamp": train["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                "event": "purchase",
                "quantity": train["quantity"],
            }
        )
        out.to_csv(path, index=False)

    def recommend(self, users: list[str], histories: list[list[str]], k: int = 10) -> list[list[str]]:
        path = self.workdir / f"{tag_safe(self.tag)}.histories.jsonl"
        with open(path, "w") as f:
            for u, h in zip(users, histories):
                f.write(json.dumps({"user": u, "items": h}) + "\n")
        t0 = time.perf_counter()
        stdout = run([str(self.binary), "recommend", "--model", str(self.model), "--histories", str(path), "--k", str(k), "--exclude-history"])
        self.recommend_seconds = time.perf_counter() - t0
        lines = stdout.splitlines()
        if len(lines) != len(users):
            raise RuntimeError(f"vitrine recommend printed {len(lines)} lines for {len(users)} histories")
        recs = []
        for u, line in zip(users, lines):
            doc = json.loads(line)
            if doc["user"] != u:
                raise RuntimeError(f"vitrine recommend answered {doc['user']!r} where {u!r} was expected")
            recs.append(doc["items"])
        return recs


def private_copy(binary: Path, workdir: Path) -> Path:
    """Copies ``binary`` into ``workdir``: others may rebuild target/release/vitrine mid-run."""
    copy = workdir / "vitrine"
    tmp = workdir / "vitrine.tmp"
    tmp.write_bytes(binary.read_bytes())
    tmp.chmod(0o755)
    tmp.replace(copy)
    return copy


def tag_safe(tag: str) -> str:
    return tag.replace(" ", "-")


def run(cmd: list[str]) -> str:
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode}: {p.stderr.strip()}")
    return p.stdout
