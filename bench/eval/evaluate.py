"""Held-out evaluation of Vitrine against tuned peers on Online Retail; writes a dated results table.

For each split kind (temporal, random): every peer's grid, and Vitrine's grid of `vitrine train`
flags (`vitrine_cli.GRID`), is searched on the validation split (selection by NDCG@10, ties by
HR@10), the chosen configuration is refitted on the test split's training frame and scored on the
test users. Vitrine with its CLI defaults is scored as well. Nothing about the test split is used
for any choice.

    python evaluate.py --vitrine ../../target/release/vitrine --results ../results
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import platform
import os
import subprocess
import sys
import time
from pathlib import Path

import metrics
import peers
import split
from vitrine_cli import GRID as VITRINE_GRID
from vitrine_cli import VitrineCLI, private_copy

HERE = Path(__file__).resolve().parent
K = 10
METRICS = [f"HR@{K}", f"Recall@{K}", f"NDCG@{K}"]


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def als_available() -> str | None:
    """None if `implicit` imports, else the reason ALS is skipped."""
    try:
        import implicit.cpu.als  # noqa: F401
    except Exception as e:  # any import failure means: no ALS in this run, said loudly
        return f"{type(e).__name__}: {e}"
    return None


def score(method, s: split.Split) -> dict:
    """Fits ``method`` on the split's training frame and measures it on the split's users."""
    method.fit(s.train)
    if isinstance(method, VitrineCLI):
        recs = method.recommend(s.users, s.histories, K)
    else:
        recs = method.recommend(s.users, K)
    per = metrics.per_user(recs, s.targets, K)
    return {
        "method": method.name,
        "params": method.describe(),
        "per_user": per,
        **metrics.summary(per),
        "train_s": method.fit_seconds,
        "recommend_s": method.recommend_seconds,
        "users": len(s.users),
    }


def tune(family: str, grid: list, val: split.Split) -> tuple[object, list[dict]]:
    """Every configuration of ``grid`` on the validation split; returns the best by NDCG@10."""
    rows = []
    for cand in grid:
        rows.append(score(peers.fresh(cand), val) | {"config": cand})
        r = rows[-1]
        log(f"  {val.name}: {family} {r['params']}: NDCG@10 {r['NDCG@10']:.4f} HR@10 {r['HR@10']:.4f} ({r['train_s']:.1f}s)")
    return pick(rows)["config"], rows


def pick(rows: list[dict]) -> dict:
    """The selection rule shared by peers and Vitrine: best NDCG@10, ties broken by HR@10."""
    return max(rows, key=lambda r: (r["NDCG@10"], r["HR@10"]))


def tune_vitrine(binary: Path, workdir: Path, kind: str, val: split.Split) -> tuple[tuple[str, ...], list[dict]]:
    """Every set of flags in Vitrine's grid on the validation split; returns the best, as `tune` does."""
    rows = []
    for flags in VITRINE_GRID:
        rows.append(score(VitrineCLI(binary, workdir, f"{kind}-validation", flags), val) | {"config": flags})
        r = rows[-1]
        log(f"  {val.name}: Vitrine {r['params']}: NDCG@10 {r['NDCG@10']:.4f} HR@10 {r['HR@10']:.4f} ({r['train_s']:.1f}s)")
    return pick(rows)["config"], rows


def fmt_row(r: dict) -> str:
    per_user_us = 1e6 * r["recommend_s"] / max(r["users"], 1)
    return (
        f"| {r['method']} | {r['params']} | {r['HR@10']:.4f} | {r['Recall@10']:.4f} | {r['NDCG@10']:.4f} "
        f"| {r['train_s']:.2f} | {r['recommend_s']:.2f} | {per_user_us:.0f} |"
    )


TABLE_HEAD = (
    "| method | chosen on validation | HR@10 | Recall@10 | NDCG@10 | train s | recommend s (all users) | µs / user |\n"
    "|---|---|---|---|---|---|---|---|"
)


def results_table(rows: list[dict]) -> str:
    best = {m: max(r[m] for r in rows) for m in METRICS}
    lines = [TABLE_HEAD]
    for r in rows:
        line = fmt_row(r)
        # Bold the best value of each metric column.
        for m in METRICS:
            v = f"{r[m]:.4f}"
            if r[m] == best[m]:
                line = line.replace(f"| {v} |", f"| **{v}** |", 1)
        lines.append(line)
    return "\n".join(lines)


def comparison(rows: list[dict]) -> str:
    """Each Vitrine row minus the best peer of these rows (by NDCG@10), paired over the same users.

    The best peer is picked on the rows being compared (on test, the test rows): the strongest
    opponent there is, so the choice can only make Vitrine look worse, never better.
    """
    vits = [r for r in rows if r["method"].startswith("Vitrine")]
    peer_rows = [r for r in rows if not r["method"].startswith("Vitrine")]
    best = max(peer_rows, key=lambda r: r["NDCG@10"])
    lines = []
    for vit in vits:
        parts = []
        for m in METRICS:
            d, h = metrics.paired_difference(vit["per_user"][m], best["per_user"][m])
            parts.append(f"{m} {d:+.4f} ± {h:.4f}")
        lines.append(f"- {vit['method']} − {best['method']}: " + "; ".join(parts) + ".")
    head = f"Vitrine minus {best['method']} (the best peer by NDCG@10 in this table), paired over the same {len(best['per_user']['NDCG@10']):,} customers, mean ± 95 % normal interval:"
    return "\n".join([head, ""] + lines)


def vitrine_grid_table(rows: list[dict], chosen: tuple[str, ...]) -> str:
    """Vitrine's validation grid, one row per set of flags, the chosen one marked."""
    lines = [
        "| `vitrine train` flags | HR@10 | Recall@10 | NDCG@10 | train s | recommend s |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        mark = " **(chosen)**" if r["config"] == chosen else ""
        lines.append(
            f"| {r['params']}{mark} | {r['HR@10']:.4f} | {r['Recall@10']:.4f} | {r['NDCG@10']:.4f} | {r['train_s']:.2f} | {r['recommend_s']:.2f} |"
        )
    return "\n".join(lines)


def stats_table(pairs: dict[str, tuple[split.Split, split.Split]]) -> str:
    lines = [
        "| split | train window | train lines | train users | train items | distinct user-item pairs | evaluated users | mean target size | target items unknown to train (dropped) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for kind, (val, test) in pairs.items():
        for s in (val, test):
            st = s.stats
            if st["split"] == "temporal":
                window = f"before {st['cutoff']}; next order in [{st['cutoff']}, {st['target_window_end']})"
            else:
                window = f"all but one random order per user (seed {st['seed']})"
            lines.append(
                f"| {s.name} | {window} | {st['train_lines']:,} | {st['train_users']:,} | {st['train_items']:,} | {st['train_pairs']:,} "
                f"| {st['test_users']:,} | {st['mean_target_size']:.1f} | {st['target_items_unknown_to_train']:,} |"
            )
    return "\n".join(lines)


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "-C", str(HERE), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        return rev
    except Exception:
        return "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vitrine", type=Path, required=True, help="the vitrine binary (a copy is used)")
    ap.add_argument("--data", default=split.ONLINE_RETAIL)
    ap.add_argument("--workdir", type=Path, default=HERE / ".work")
    ap.add_argument("--results", type=Path, default=HERE.parent / "results")
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    args = ap.parse_args()

    started = time.perf_counter()
    args.workdir.mkdir(parents=True, exist_ok=True)
    binary = private_copy(args.vitrine, args.workdir)
    version = subprocess.run([str(binary), "--version"], capture_output=True, text=True).stdout.strip()

    grids = dict(peers.GRIDS)
    als_reason = als_available()
    if als_reason:
        log(f"ALS SKIPPED: the `implicit` package does not import here ({als_reason})")
        grids.pop("ALS (implicit)")

    log("loading Online Retail and building splits")
    pairs = split.online_retail_splits(args.data)

    sections = []
    for kind, (val, test) in pairs.items():
        log(f"{kind}: tuning on {val.name} ({len(val.users)} users)")
        test_rows, val_rows, grid_rows = [], [], {}
        for family, grid in grids.items():
            best, rows = tune(family, grid, val)
            grid_rows[family] = rows
            val_rows.append(next(r for r in rows if r["config"] is best))
            log(f"{kind}: {family} chosen {best.describe()}; fitting on {test.name}")
            test_rows.append(score(peers.fresh(best), test))
        log(f"{kind}: Vitrine CLI, {len(VITRINE_GRID)} sets of train flags on {val.name}")
        vit_best, rows = tune_vitrine(binary, args.workdir, kind, val)
        grid_rows["Vitrine"] = rows
        defaults_val = next(r for r in rows if r["config"] == ())
        tuned_val = next(r for r in rows if r["config"] == vit_best)
        val_rows.append(defaults_val | {"method": "Vitrine (defaults)"})
        val_rows.append(tuned_val | {"method": "Vitrine (tuned)"})
        log(f"{kind}: Vitrine chosen {' '.join(vit_best) or 'CLI defaults'}; defaults and chosen on {test.name}")
        test_rows.append(score(VitrineCLI(binary, args.workdir, f"{kind}-test", (), "Vitrine (defaults)"), test))
        test_rows.append(score(VitrineCLI(binary, args.workdir, f"{kind}-test", vit_best, "Vitrine (tuned)"), test))
        for r in test_rows:
            log(f"{kind} test: {r['method']}: HR@10 {r['HR@10']:.4f} Recall@10 {r['Recall@10']:.4f} NDCG@10 {r['NDCG@10']:.4f}")
        sections.append((kind, val, test, test_rows, val_rows, grid_rows))

    # The chosen configurations, for diagnose.py (which reuses EASE's lambda) and for the curious.
    chosen = {kind: {r["method"]: r["params"] for r in test_rows} for kind, _v, _t, test_rows, _vr, _g in sections}
    chosen_lambda = {kind: next(r["config"].params["lam"] for r in val_rows if r["method"] == "EASE") for kind, _v, _t, _tr, val_rows, _g in sections}
    vitrine_flags = {kind: list(next(r["config"] for r in val_rows if r["method"] == "Vitrine (tuned)")) for kind, _v, _t, _tr, val_rows, _g in sections}
    (args.workdir / "chosen.json").write_text(
        json.dumps({"params": chosen, "ease_lambda": chosen_lambda, "vitrine_train_flags": vitrine_flags}, indent=2)
    )

    elapsed = time.perf_counter() - started
    md = render(args, sections, pairs, version, als_reason, elapsed)
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"{args.date}-recsys-online-retail.md"
    out.write_text(md)
    print(md)
    log(f"wrote {out} ({elapsed:.0f} s)")


def render(args, sections, pairs, version, als_reason, elapsed) -> str:
    git = git_revision()
    md = [
        f"# Recommender held-out evaluation on Online Retail, {args.date}",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.machine()}; shared and noisy, so compare rows of one run with each other.",
        f"Data: `{args.data}` (sha256 {sha256(Path(args.data))[:16]}…), UCI Online Retail (id 352, Daqing Chen, CC BY 4.0).",
        f"Vitrine: `{version}` from `{args.vitrine}` (sha256 {sha256(args.workdir / 'vitrine')[:16]}…); repository HEAD {git} when run (the binary may include uncommitted work: its hash identifies it).",
        f"Command: `bash bench/eval/run.sh`; evaluation {elapsed / 60:.1f} min. Protocol: bench/eval/README.md; Vitrine",
        "against EASE in detail (validation only): the `-diagnostics.md` file of the same date (`run.sh --diagnose`).",
        "",
        "Peers and Vitrine are tuned on the validation split of the same kind (selection by NDCG@10, ties by HR@10),",
        "refitted on the test training window and scored once. Vitrine's grid is over its `vitrine train` flags",
        f"({len(VITRINE_GRID)} sets: half-life none/60/120/240 days x λ 200/400/800 x EASE neighbourhood 150/300);",
        "\"Vitrine (tuned)\" is the set chosen on validation, \"Vitrine (defaults)\" the CLI with no flags (also in the grid).",
        "Every method leaves out items already in the customer's history; targets are the held-out order's products",
        "new to the customer and known to the training window. Vitrine runs only through `vitrine train` +",
        "`vitrine recommend --k 10 --exclude-history`; its times are whole processes (file parsing, model JSON,",
        "process start), the peers' are in-process numpy.",
    ]
    if als_reason:
        md += ["", f"**ALS skipped**: the `implicit` package does not import here ({als_reason})."]
    md += ["", "## Data", "", stats_table(pairs)]
    md += ["", "## Chosen on validation", "", "| split | Vitrine `vitrine train` flags | EASE λ |", "|---|---|---|"]
    for kind, _val, _test, test_rows, val_rows, _grid in sections:
        tuned = next(r for r in test_rows if r["method"] == "Vitrine (tuned)")
        ease = next(r for r in test_rows if r["method"] == "EASE")
        md.append(f"| {kind} | `{tuned['params']}` | {ease['params']} |")
    for kind, val, test, test_rows, val_rows, grid_rows in sections:
        md += [
            "",
            f"## {kind.capitalize()} split: test ({len(test.users):,} customers)",
            "",
            results_table(test_rows),
            "",
            comparison(test_rows),
            "",
            f"### {kind.capitalize()} split: validation ({len(val.users):,} customers), chosen configurations",
            "",
            results_table(val_rows),
            "",
            comparison(val_rows),
            "",
            f"EASE λ on {val.name} (NDCG@10 / HR@10): "
            + ", ".join(f"{r['config'].params['lam']}: {r['NDCG@10']:.4f} / {r['HR@10']:.4f}" for r in grid_rows["EASE"])
            + ".",
            "",
            f"Vitrine's grid on {val.name}:",
            "",
            vitrine_grid_table(grid_rows["Vitrine"], next(r["config"] for r in val_rows if r["method"] == "Vitrine (tuned)")),
        ]
    md.append("")
    return "\n".join(md)


if __name__ == "__main__":
    main()
