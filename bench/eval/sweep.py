"""Vitrine-only sweeps on the validation splits (never a test window): each argument is one set of
`vitrine train` flags, quoted, e.g. `python sweep.py "" "--half-life-days 365" "--lambda 200"`.
For trying engine settings in seconds; the results table comes from evaluate.py."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

import metrics
import split
from vitrine_cli import VitrineCLI

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("flags", nargs="*", default=[""], help="quoted `vitrine train` flags, one set per argument")
    ap.add_argument("--vitrine", type=Path, default=HERE.parents[1] / "target" / "release" / "vitrine")
    ap.add_argument("--workdir", type=Path, default=HERE / ".work" / "sweep")
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    pairs = split.online_retail_splits(split.ONLINE_RETAIL)
    for flags in args.flags:
        for kind, (val, _test) in pairs.items():
            m = VitrineCLI(args.vitrine, args.workdir, f"{kind}-validation", tuple(shlex.split(flags)))
            m.fit(val.train)
            s = metrics.summary(metrics.per_user(m.recommend(val.users, val.histories, 10), val.targets, 10))
            print(f"{m.describe():40s} {kind:9s} validation: HR@10 {s['HR@10']:.4f} Recall@10 {s['Recall@10']:.4f} "
                  f"NDCG@10 {s['NDCG@10']:.4f} (train {m.fit_seconds:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
