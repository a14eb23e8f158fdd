"""Vitrine against EASE over many test splits: a tighter estimate than one split's paired interval.

One random split (or one cutoff) measures the Vitrine − EASE difference with an interval of about
±0.002 NDCG@10: about the size of the difference itself. This script keeps the configurations
`evaluate.py` chose on validation (read from `.work/chosen.json`: EASE's λ and Vitrine's train flags
per split kind, never re-tuned here) and scores them on further test splits of the same kind:

- random: the random protocol with other seeds (the held-out order per customer changes);
- temporal: rolling cutoffs from the test cutoff on (2011-09-01 and later, so no test window
  overlaps the validation window the configurations were chosen on).

Each split gives one paired mean difference per metric; the splits' differences are averaged and
given a t interval over splits (they share customers and training lines, so the interval is a
rough guide, not an exact one). Writes `bench/results/<date>-recsys-online-retail-seeds.md`.

    python seeds.py --vitrine ../../target/release/vitrine [--random 10] [--date D]
"""

from __future__ import annotations

import argparse
import datetime
import json
import time
from pathlib import Path

import numpy as np

import metrics
import split
from evaluate import METRICS, log, score, sha256
from peers import EASE
from vitrine_cli import VitrineCLI, private_copy

HERE = Path(__file__).resolve().parent
# t quantiles (0.975) by degrees of freedom, for the interval over splits.
T975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228, 11: 2.201, 12: 2.179, 14: 2.145, 19: 2.093}
TEMPORAL_CUTOFFS = ["2011-09-01", "2011-09-15", "2011-10-01", "2011-10-15", "2011-11-01"]


def t975(df: int) -> float:
    return T975.get(df) or T975[max(k for k in T975 if k <= df)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vitrine", type=Path, required=True)
    ap.add_argument("--data", default=split.ONLINE_RETAIL)
    ap.add_argument("--workdir", type=Path, default=HERE / ".work")
    ap.add_argument("--random", type=int, default=10, help="number of random seeds")
    ap.add_argument("--results", type=Path, default=HERE.parent / "results")
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    args = ap.parse_args()

    chosen_file = args.workdir / "chosen.json"
    if not chosen_file.exists():
        raise SystemExit(f"seeds.py: {chosen_file} is missing; run evaluate.py (bash run.sh) first")
    chosen = json.loads(chosen_file.read_text())
    started = time.perf_counter()
    binary = private_copy(args.vitrine, args.workdir)
    df = split.load_online_retail(args.data)

    plans = {
        "random": [(f"seed {s}", lambda s=s: split.random_split(df, seed=s, name=f"random seed {s}")) for s in range(1, args.random + 1)],
        "temporal": [(f"cutoff {c}", lambda c=c: split.temporal_split(df, c, name=f"temporal {c}")) for c in TEMPORAL_CUTOFFS],
    }
    sections = []
    for kind, plan in plans.items():
        lam = chosen["ease_lambda"][kind]
        flags = tuple(chosen["vitrine_train_flags"][kind])
        rows = []
        for label, make in plan:
            s = make()
            ease = score(EASE(lam=lam), s)
            tuned = score(VitrineCLI(binary, args.workdir, f"seeds-{kind}", flags, "Vitrine (tuned)"), s)
            defaults = score(VitrineCLI(binary, args.workdir, f"seeds-{kind}", (), "Vitrine (defaults)"), s)
            row = {"label": label, "users": len(s.users), "ease": ease, "tuned": tuned, "defaults": defaults}
            for who in ("tuned", "defaults"):
                for m in METRICS:
                    row[(who, m)] = metrics.paired_difference(row[who]["per_user"][m], ease["per_user"][m])
            rows.append(row)
            log(f"{kind} {label}: EASE NDCG {ease['NDCG@10']:.4f} HR {ease['HR@10']:.4f}; tuned NDCG {tuned['NDCG@10']:.4f} HR {tuned['HR@10']:.4f}")
        sections.append((kind, lam, flags, rows))

    elapsed = time.perf_counter() - started
    out = args.results / f"{args.date}-recsys-online-retail-seeds.md"
    text = render(args, binary, sections, elapsed)
    out.write_text(text)
    print(text)
    log(f"wrote {out} ({elapsed:.0f} s)")


def render(args, binary: Path, sections, elapsed: float) -> str:
    lines = [
        f"# Vitrine vs EASE over many test splits, Online Retail, {args.date}",
        "",
        "Written by `bench/eval/seeds.py` (`bash bench/eval/run.sh --seeds`). Configurations are the ones",
        "`evaluate.py` chose on validation (`.work/chosen.json`); nothing is tuned here. Protocol as in",
        "bench/eval/README.md. Random: one held-out order per customer with the named seed. Temporal: train",
        "before the cutoff, target the next order at or after it (cutoffs from the test cutoff on, so no",
        "test window overlaps validation).",
        "",
        f"Vitrine binary sha256 {sha256(binary)[:16]}…; {elapsed / 60:.1f} min.",
        "",
    ]
    for kind, lam, flags, rows in sections:
        lines += [
            f"## {kind}: EASE λ={lam} vs Vitrine `{' '.join(flags) or 'CLI defaults'}` (tuned) and CLI defaults",
            "",
            "| split | customers | EASE HR@10 | EASE NDCG@10 | tuned HR@10 | tuned NDCG@10 | tuned − EASE NDCG@10 | defaults NDCG@10 |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            d, h = r[("tuned", "NDCG@10")]
            lines.append(
                f"| {r['label']} | {r['users']:,} | {r['ease']['HR@10']:.4f} | {r['ease']['NDCG@10']:.4f} | {r['tuned']['HR@10']:.4f} "
                f"| {r['tuned']['NDCG@10']:.4f} | {d:+.4f} ± {h:.4f} | {r['defaults']['NDCG@10']:.4f} |"
            )
        lines += ["", f"Mean over the {len(rows)} splits of the per-split paired difference, ± t interval over splits (95 %):", ""]
        for who in ("tuned", "defaults"):
            parts = []
            for m in METRICS:
                diffs = np.array([r[(who, m)][0] for r in rows])
                half = t975(len(diffs) - 1) * diffs.std(ddof=1) / np.sqrt(len(diffs)) if len(diffs) > 1 else float("nan")
                wins = int((diffs > 0).sum())
                parts.append(f"{m} {diffs.mean():+.4f} ± {half:.4f} (ahead on {wins} of {len(diffs)})")
            lines.append(f"- Vitrine ({who}) − EASE: " + "; ".join(parts) + ".")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
