"""Can anything item-item beat EASE on Online Retail? Dense EASE variants over several validation splits.

Vitrine's model is an item → items table (top-K neighbours per item, summed over a visitor's
history), so whatever it ships must have that shape. This script asks two questions on validation
data only (never the test orders of `evaluate.py`), each variant against dense EASE λ=400 on the
same customers, averaged over several splits so that differences of 0.001 NDCG@10 are visible:

1. Signals EASE ignores (the issue's list: quantities, within-invoice co-purchase, repeat purchases,
   recency of the shopper's own days, popularity), and blends with other item-item models
   (cosine, RP3beta) or with user-kNN. Any of them could be folded into the table.
2. What the table shape costs: EASE's rows cut to the top K positive weights (the engine's
   shape), with negatives clipped, with some negative weights kept, or cut by magnitude.

Splits: random validation (a second order held out from the random test split's training frame,
seeds 101–105; the test split's held-out orders are never seen) and temporal validation with
cutoffs 2011-05-01, 06-01 and 07-01 (targets before the test cutoff 2011-09-01).

    python ease_variants.py [--out ../results/<date>-recsys-online-retail-ease-variants.md]
"""

from __future__ import annotations

import argparse
import datetime
import time
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp

import metrics
import split
from peers import Matrix

HERE = Path(__file__).resolve().parent
T975 = {2: 4.303, 4: 2.776}  # t quantiles by degrees of freedom, for intervals over splits


def ease(g: np.ndarray, lam: float, p: float = 0.0) -> np.ndarray:
    """EASE's B; with p > 0 the EDLAE regularizer λ + p/(1−p)·diag(G) (Steck 2020)."""
    g = g.copy()
    d = np.diag(g).copy()
    g[np.diag_indices_from(g)] += lam + p / (1 - p) * d
    inv = np.linalg.inv(g)
    b = -inv / np.diag(inv)[None, :]
    np.fill_diagonal(b, 0.0)
    return b


def scale(m: np.ndarray) -> float:
    """Mean of each row's 10 largest entries: puts two tables on one scale before blending."""
    return float(np.mean(np.sort(m, axis=1)[:, -10:]))


def blend(a: np.ndarray, b: np.ndarray, w: float) -> np.ndarray:
    return a / scale(a) + w * b / scale(b)


def top_k(b: np.ndarray, k: int, negatives: int = 0, by_magnitude: bool = False) -> np.ndarray:
    """Each row cut to its k largest positive entries (+ its `negatives` most negative ones), or
    to its k largest in magnitude."""
    out = np.zeros_like(b)
    r = np.arange(b.shape[0])[:, None]
    if by_magnitude:
        idx = np.argpartition(-np.abs(b), k, axis=1)[:, :k]
        out[r, idx] = b[r, idx]
        return out
    idx = np.argpartition(-b, k, axis=1)[:, :k]
    out[r, idx] = np.maximum(b[r, idx], 0.0)
    if negatives:
        idx = np.argpartition(b, negatives, axis=1)[:, :negatives]
        out[r, idx] = np.minimum(b[r, idx], 0.0)
    return out


def row_normalized(a: sp.spmatrix) -> sp.csr_matrix:
    s = np.asarray(a.sum(axis=1)).ravel()
    s[s == 0] = 1.0
    return (sp.diags(1.0 / s) @ a).tocsr()


def variants(s: split.Split) -> tuple[Matrix, dict[str, np.ndarray]]:
    """Each variant's users × items score matrix for the split's users (history not yet excluded)."""
    m = Matrix.from_frame(s.train)
    x = m.counts.astype(np.float64)
    xb = x.copy()
    xb.data[:] = 1.0
    xl = x.copy()
    xl.data = np.log1p(xl.data)
    users = m.users.get_indexer(s.users)
    hb = xb[users]
    g = (xb.T @ xb).toarray()
    b = ease(g, 400)
    out: dict[str, np.ndarray] = {}
    table = lambda w, h=hb: np.asarray(h @ w)  # noqa: E731
    out["EASE λ=400 (dense)"] = table(b)

    # 1. Signals and blends.
    t = s.train
    orders = pd.Index(t["order"].unique())
    xi = sp.csr_matrix((np.ones(len(t)), (orders.get_indexer(t["order"]), m.items.get_indexer(t["item"]))), shape=(len(orders), len(m.items)))
    xi.data[:] = 1.0
    gi = (xi.T @ xi).toarray()
    out["+ 0.25 × invoice-level EASE (λ=50)"] = table(blend(b, ease(gi, 50), 0.25))
    out["+ 0.5 × invoice-level EASE (λ=200)"] = table(blend(b, ease(gi, 200), 0.5))
    out["Gram + 0.5 × invoice Gram"] = table(ease(g + 0.5 * gi, 600))
    gl = (xl.T @ xl).toarray()
    out["Gram of log(1 + repeat purchases)"] = table(ease(gl, 400 * np.mean(np.diag(gl)) / np.mean(np.diag(g))))
    out["history weighted log(1 + repeats)"] = table(b, xl[users])
    pop = np.asarray(xb.sum(axis=0)).ravel() + 1.0
    out["× popularity^0.1"] = table(b * (pop**0.1)[None, :])
    out["× popularity^−0.1"] = table(b * (pop**-0.1)[None, :])
    out["EDLAE λ=400, p=0.1"] = table(ease(g, 400, 0.1))
    out["EDLAE λ=200, p=0.5"] = table(ease(g, 200, 0.5))
    d = np.sqrt(np.diag(g))
    cos = g / (d[:, None] * d[None, :] + 10.0)
    np.fill_diagonal(cos, 0.0)
    out["+ 0.1 × cosine kNN"] = table(blend(b, cos, 0.1))
    p_ui, p_iu = row_normalized(xb).power(0.8), row_normalized(xb.T).power(0.8)
    rp3 = (p_iu @ p_ui).toarray() / (pop**0.5)[None, :]
    np.fill_diagonal(rp3, 0.0)
    out["+ 0.5 × RP3beta (α=0.8, β=0.5)"] = table(blend(b, rp3, 0.5))
    n = np.sqrt(np.asarray(xb.sum(axis=1)).ravel())
    sim = (hb @ xb.T).toarray() / (n[users][:, None] * n[None, :] + 1.0)
    sim[np.arange(len(users)), users] = 0.0
    sim[sim < -np.partition(-sim, 50, axis=1)[:, 50][:, None]] = 0.0
    uknn = sim @ xb.toarray()
    e = out["EASE λ=400 (dense)"]
    out["+ 0.25 × user-kNN (50)"] = e / scale(e) + 0.25 * uknn / scale(uknn)
    # The shopper's own days: popularity around the days of their orders (τ = 90 days).
    day = ((t["timestamp"] - t["timestamp"].min()).dt.total_seconds() // 86400).astype(int).to_numpy()
    nd = day.max() + 1
    h = sp.csr_matrix((np.ones(len(t)), (m.items.get_indexer(t["item"]), day)), shape=(len(m.items), nd)).toarray()
    k = np.exp(-np.abs(np.arange(nd)[:, None] - np.arange(nd)[None, :]) / 90.0)
    hs = h @ k
    hs /= hs.sum(axis=0, keepdims=True)
    ud = pd.DataFrame({"u": m.users.get_indexer(t["user"]), "d": day}).drop_duplicates()
    q = sp.csr_matrix((np.ones(len(ud)), (ud["u"], ud["d"])), shape=(len(m.users), nd)).toarray()[users]
    q /= q.sum(axis=1, keepdims=True)
    season = q @ hs.T
    out["+ 0.05 × popularity on the shopper's days"] = e / scale(e) + 0.05 * season / scale(season)

    # 2. The table's shape.
    out["negatives clipped (all positives)"] = table(np.maximum(b, 0.0))
    for kk in (30, 100, 200):
        out[f"top {kk} positive (the engine's shape)"] = table(top_k(b, kk))
    out["top 30 positive + 30 negative"] = table(top_k(b, 30, 30))
    out["top 50 positive + 50 negative"] = table(top_k(b, 50, 50))
    out["top 100 by magnitude"] = table(top_k(b, 100, by_magnitude=True))
    return m, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=split.ONLINE_RETAIL)
    ap.add_argument("--date", default=datetime.date.today().isoformat())
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    out = args.out or HERE.parent / "results" / f"{args.date}-recsys-online-retail-ease-variants.md"
    started = time.perf_counter()
    df = split.load_online_retail(args.data)
    random_test_train = split.random_split(df, seed=split.RANDOM_SEED).train
    plans = [("random", f"seed {s}", lambda s=s: split.random_split(random_test_train, seed=s)) for s in range(101, 106)]
    plans += [("temporal", c, lambda c=c: split.temporal_split(df, c, end=split.TEST_CUTOFF)) for c in ("2011-05-01", "2011-06-01", "2011-07-01")]
    diffs: dict[tuple[str, str], dict[str, list[float]]] = {}
    base_scores: dict[str, list[tuple[float, float]]] = {}
    for kind, label, make in plans:
        s = make()
        m, scores = variants(s)
        seen = m.counts[m.users.get_indexer(s.users)].toarray() > 0
        base = None
        for name, sc in scores.items():
            sc = np.where(seen, -np.inf, sc)
            top = np.argsort(-sc, axis=1, kind="stable")[:, :10]
            per = metrics.per_user([[m.items[j] for j in row] for row in top], s.targets, 10)
            if base is None:
                base = per
                base_scores.setdefault(kind, []).append((per["NDCG@10"].mean(), per["HR@10"].mean()))
            d = diffs.setdefault((kind, name), {"NDCG@10": [], "HR@10": []})
            for metric in d:
                d[metric].append(float(per[metric].mean() - base[metric].mean()))
        print(f"{kind} {label}: {len(s.users)} customers, {time.perf_counter() - started:.0f} s", flush=True)
    lines = [
        f"# Dense EASE variants on Online Retail validation splits, {args.date}",
        "",
        "Written by `bench/eval/ease_variants.py` (its docstring has the protocol). Validation data only.",
        "Each row: the variant minus dense EASE λ=400 on the same customers, mean over splits ± 95 % t",
        "interval over splits, and on how many splits the variant was ahead.",
        "",
    ]
    for kind in ("random", "temporal"):
        n = len(base_scores[kind])
        ndcg = np.mean([b[0] for b in base_scores[kind]])
        hr = np.mean([b[1] for b in base_scores[kind]])
        lines += [f"## {kind} ({n} splits; EASE mean NDCG@10 {ndcg:.4f}, HR@10 {hr:.4f})", "", "| variant | NDCG@10 − EASE | ahead | HR@10 − EASE | ahead |", "|---|---|---|---|---|"]
        for (k, name), d in diffs.items():
            if k != kind or name.startswith("EASE λ=400"):
                continue
            cells = []
            for metric in ("NDCG@10", "HR@10"):
                a = np.array(d[metric])
                half = T975[len(a) - 1] * a.std(ddof=1) / np.sqrt(len(a))
                cells += [f"{a.mean():+.4f} ± {half:.4f}", f"{int((a > 0).sum())}/{len(a)}"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    lines.append(f"({(time.perf_counter() - started) / 60:.1f} min)")
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
