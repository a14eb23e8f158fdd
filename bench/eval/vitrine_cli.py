"""Vitrine evaluated only through its CLI contract: `vitrine train` then `vitrine recommend`.

    train:     vitrine train --interactions FILE --out MODEL
               FILE: CSV `user,item,timestamp,event,quantity`, one row per training line,
               event=purchase, timestamp `YYYY-MM-DD HH:MM:SS`.
    recommend: vitrine recommend --model MODEL --histories FILE --k K --exclude-history
               FILE: JSON lines {"user": ..., "items": [...]}, distinct items oldest first;
               stdout: one JSON line {"user", "items"} per input line, in order.

Timings are wall-clock times of the two processes (so they include reading and writing the
files and process start), not of the Python that writes the inputs.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pandas as pd


class VitrineCLI:
    name = "Vitrine (CLI)"

    def __init__(self, binary: Path, workdir: Path, tag: str, train_args: tuple[str, ...] = ()):
        self.binary = binary
        self.workdir = workdir
        self.tag = tag
        # Extra `vitrine train` flags, for validation-only experiments; the results table uses none.
        self.train_args = tuple(train_args)
        self.params = {"model": "CLI defaults"}
        self.fit_seconds = 0.0
        self.recommend_seconds = 0.0
        self.model = workdir / f"{tag_safe(tag)}.model.json"

    def describe(self) -> str:
        return " ".join(self.train_args) or "CLI defaults"

    def fit(self, train: pd.DataFrame) -> "VitrineCLI":
        path = self.workdir / f"{tag_safe(self.tag)}.interactions.csv"
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
        t0 = time.perf_counter()
        run([str(self.binary), "train", "--interactions", str(path), "--out", str(self.model)] + list(self.train_args))
        self.fit_seconds = time.perf_counter() - t0
        return self

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
