"""Top-K ranking metrics with binary relevance: HR@K, Recall@K, NDCG@K, per user and averaged.

- HR@K: 1 if any of the first K recommendations is in the target, else 0.
- Recall@K: hits in the first K / |target|.
- NDCG@K: DCG = sum over hits at rank r (1-based) of 1/log2(r + 1), divided by the ideal DCG of
  min(|target|, K) hits at the top.

Users with an empty target are never passed in (the splits drop them). A recommendation list
shorter than K simply has fewer chances to hit.
"""

from __future__ import annotations

import numpy as np

DISCOUNT = 1.0 / np.log2(np.arange(2, 102))


def per_user(recs: list[list[str]], targets: list[set[str]], k: int = 10) -> dict[str, np.ndarray]:
    """Arrays of HR, recall and NDCG, one entry per user."""
    if len(recs) != len(targets):
        raise ValueError(f"{len(recs)} recommendation lists for {len(targets)} targets")
    hr = np.zeros(len(targets))
    recall = np.zeros(len(targets))
    ndcg = np.zeros(len(targets))
    for u, (r, t) in enumerate(zip(recs, targets)):
        hits = np.array([item in t for item in r[:k]], dtype=bool)
        n = int(hits.sum())
        hr[u] = 1.0 if n else 0.0
        recall[u] = n / len(t)
        ideal = DISCOUNT[: min(len(t), k)].sum()
        ndcg[u] = DISCOUNT[: len(hits)][hits].sum() / ideal
    return {f"HR@{k}": hr, f"Recall@{k}": recall, f"NDCG@{k}": ndcg}


def summary(per: dict[str, np.ndarray]) -> dict[str, float]:
    return {name: float(v.mean()) for name, v in per.items()}


def paired_difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """Mean of a - b over the same users and the half-width of its normal 95 % interval."""
    d = a - b
    return float(d.mean()), float(1.96 * d.std(ddof=1) / np.sqrt(len(d)))
