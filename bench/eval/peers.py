"""The peer recommenders Vitrine is compared with, implemented here on numpy/scipy (ALS from `implicit`).

Each peer is fitted on a training frame with columns ``user, item, timestamp, quantity`` (extra
columns are ignored) and recommends for users of that frame, always leaving out items already in
the user's training history (held-out targets are items new to the user). Items are those of the
training frame; nothing else can be recommended.

The user x item matrix every peer starts from holds, per (user, item), the number of training lines
(for Online Retail: the number of invoices with that product, i.e. repeat purchases). Each peer
chooses its own transform of it (binary, log, BM25), named in its ``params``.

    peer = EASE(lam=200).fit(train)
    recs = peer.recommend(users, k=10)    # list of item-id lists, best first
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp


@dataclass
class Matrix:
    """Training interactions as a CSR user x item count matrix with id <-> index maps."""

    counts: sp.csr_matrix
    users: pd.Index
    items: pd.Index

    @staticmethod
    def from_frame(df: pd.DataFrame) -> "Matrix":
        users = pd.Index(np.sort(df["user"].unique()))
        items = pd.Index(np.sort(df["item"].unique()))
        r = users.get_indexer(df["user"])
        c = items.get_indexer(df["item"])
        m = sp.csr_matrix((np.ones(len(df), dtype=np.float32), (r, c)), shape=(len(users), len(items)))
        m.sum_duplicates()
        return Matrix(m, users, items)

    def rows(self, users: list[str]) -> sp.csr_matrix:
        idx = self.users.get_indexer(users)
        if (idx < 0).any():
            raise KeyError("every evaluated user must have training interactions")
        return self.counts[idx]


def transform(m: sp.csr_matrix, how: str) -> sp.csr_matrix:
    """Per-entry weighting of a count matrix: ``count``, ``binary`` or ``log`` (log(1 + count))."""
    out = m.copy().astype(np.float64)
    if how == "binary":
        out.data[:] = 1.0
    elif how == "log":
        out.data = np.log1p(out.data)
    elif how != "count":
        raise ValueError(how)
    return out


def bm25_weight(x: sp.spmatrix, k1: float = 100.0, b: float = 0.8) -> sp.csr_matrix:
    """BM25 weighting of the rows of ``x``, as `implicit.nearest_neighbours.bm25_weight`.

    Rows are documents and columns terms: applied to an item x user matrix, a user who bought
    many items (a long "document" column count) weighs less, and long item rows are length-normalised.
    """
    x = sp.coo_matrix(x, dtype=np.float64)
    n = float(x.shape[0])
    idf = np.log(n) - np.log1p(np.bincount(x.col, minlength=x.shape[1]))
    row_sums = np.ravel(x.sum(axis=1))
    length_norm = (1.0 - b) + b * row_sums / row_sums.mean()
    data = x.data * (k1 + 1.0) / (k1 * length_norm[x.row] + x.data) * idf[x.col]
    return sp.csr_matrix((data, (x.row, x.col)), shape=x.shape)


def top_k(scores: np.ndarray, exclude: sp.csr_matrix, k: int) -> np.ndarray:
    """Indices of the ``k`` best scores per row, best first, never an item present in ``exclude``.

    Ties break towards the lower item index, so results are deterministic.
    """
    scores = np.array(scores, dtype=np.float64, copy=True)
    ex = exclude.tocoo()
    scores[ex.row, ex.col] = -np.inf
    # argsort of a stable sort on the negated scores: lower index first among equals.
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < scores.shape[1] else np.tile(np.arange(scores.shape[1]), (scores.shape[0], 1))
    out = np.empty((scores.shape[0], k), dtype=np.int64)
    for r in range(scores.shape[0]):
        cand = part[r]
        # Ties at the partition boundary: take all items scoring at least the k-th score.
        kth = scores[r, cand].min()
        cand = np.flatnonzero(scores[r] >= kth)
        order = np.lexsort((cand, -scores[r, cand]))
        out[r] = cand[order[:k]]
    return out


def prune_top_k(sim: np.ndarray, k: int) -> sp.csr_matrix:
    """Keeps the ``k`` largest off-diagonal entries of each row of a dense similarity matrix."""
    sim = sim.copy()
    np.fill_diagonal(sim, 0.0)
    n = sim.shape[0]
    if k >= n - 1:
        return sp.csr_matrix(sim)
    idx = np.argpartition(-sim, k - 1, axis=1)[:, :k]
    rows = np.repeat(np.arange(n), k)
    vals = sim[rows, idx.ravel()]
    out = sp.csr_matrix((vals, (rows, idx.ravel())), shape=sim.shape)
    out.eliminate_zeros()
    return out


class Peer:
    """Base: ``fit(frame)`` then ``recommend(users, k)``; subclasses implement ``_fit``/``_scores``."""

    name = "peer"

    def __init__(self, **params):
        self.params = params
        self.fit_seconds = 0.0
        self.recommend_seconds = 0.0

    def fit(self, df: pd.DataFrame) -> "Peer":
        t0 = time.perf_counter()
        self.m = Matrix.from_frame(df)
        self._fit()
        self.fit_seconds = time.perf_counter() - t0
        return self

    def recommend(self, users: list[str], k: int = 10) -> list[list[str]]:
        t0 = time.perf_counter()
        rows = self.m.rows(users)
        out: list[list[str]] = []
        # Chunks bound the dense score block (chunk x items) to a few tens of MB.
        for s in range(0, len(users), 1024):
            chunk = rows[s : s + 1024]
            idx = top_k(self._scores(self.m.users.get_indexer(users[s : s + 1024]), chunk), chunk, k)
            out.extend([list(self.m.items[r]) for r in idx])
        self.recommend_seconds = time.perf_counter() - t0
        return out

    def describe(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items()) or "-"

    def _fit(self) -> None:
        raise NotImplementedError

    def _scores(self, user_idx: np.ndarray, rows: sp.csr_matrix) -> np.ndarray:
        raise NotImplementedError


class Popularity(Peer):
    """Items by number of distinct training users."""

    name = "popularity"

    def _fit(self) -> None:
        self.pop = np.asarray((self.m.counts > 0).sum(axis=0), dtype=np.float64).ravel()

    def _scores(self, user_idx, rows):
        return np.broadcast_to(self.pop, (rows.shape[0], len(self.pop)))


class ItemKNN(Peer):
    """Item-item cosine (as `implicit`'s CosineRecommender), top-``K`` neighbours per item.

    Item vectors over users are L2-normalised columns of the weighted matrix; a user's score for
    item j is the sum over their history items i of weight(u, i) x sim(i, j), with sim pruned to
    i's K best neighbours. ``weight`` chooses the transform of the count matrix. Unlike
    `implicit`, an item's own entry is not counted among its K neighbours (it would be filtered
    out as already bought anyway).
    """

    name = "item-kNN cosine"

    def __init__(self, K: int = 20, weight: str = "count"):
        super().__init__(K=K, weight=weight)

    def _fit(self) -> None:
        w = transform(self.m.counts, self.params["weight"])
        norms = np.sqrt(np.asarray(w.multiply(w).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        wn = w @ sp.diags(1.0 / norms)
        sim = (wn.T @ wn).toarray()
        self.sim = prune_top_k(sim, self.params["K"])
        self.user_w = w

    def _scores(self, user_idx, rows):
        return (self.user_w[user_idx] @ self.sim).toarray()


class BM25KNN(Peer):
    """BM25-weighted item-item (as `implicit`'s BM25Recommender), top-``K`` neighbours per item.

    The item x user count matrix is BM25-weighted (``K1``, ``B``); similarity is the plain dot
    product of those weighted rows; scoring multiplies the user's raw count row by it.
    """

    name = "item-kNN BM25"

    def __init__(self, K: int = 20, K1: float = 1.2, B: float = 0.75):
        super().__init__(K=K, K1=K1, B=B)

    def _fit(self) -> None:
        w = bm25_weight(self.m.counts.T, self.params["K1"], self.params["B"])  # items x users
        sim = (w @ w.T).toarray()
        self.sim = prune_top_k(sim, self.params["K"])

    def _scores(self, user_idx, rows):
        return (rows.astype(np.float64) @ self.sim).toarray()


class ALS(Peer):
    """Implicit-feedback ALS (Hu, Koren, Volinsky 2008) from the `implicit` package, CPU.

    The confidence matrix is the BM25-weighted count matrix (the weighting `implicit`'s own
    examples use), scaled by ``alpha``. Users are scored with their learned factors.
    """

    name = "ALS (implicit)"

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 1.0, iterations: int = 15, seed: int = 0):
        super().__init__(factors=factors, regularization=regularization, alpha=alpha, iterations=iterations)
        self.seed = seed

    def _fit(self) -> None:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        weighted = bm25_weight(self.m.counts.T, 100.0, 0.8).T.tocsr().astype(np.float32)
        # implicit parallelises itself; a second BLAS thread pool underneath only contends (and
        # implicit warns about it when the model is created).
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.params["factors"],
                regularization=self.params["regularization"],
                alpha=self.params["alpha"],
                iterations=self.params["iterations"],
                random_state=self.seed,
                num_threads=2,
            )
            model.fit(weighted, show_progress=False)
        self.user_factors = np.asarray(model.user_factors)
        self.item_factors = np.asarray(model.item_factors)

    def _scores(self, user_idx, rows):
        return self.user_factors[user_idx] @ self.item_factors.T


class EASE(Peer):
    """EASE (Steck 2019): B = I - P diagMat(1/diag(P)), P = (X^T X + lambda I)^-1, X binary.

    Scores are X_u B (the zero diagonal of B means an item never scores itself). A dense
    items x items inverse: fine for a few thousand items, not for 100,000 (see the README).
    """

    name = "EASE"

    def __init__(self, lam: float = 100.0):
        super().__init__(lam=lam)

    def _fit(self) -> None:
        x = transform(self.m.counts, "binary")
        g = (x.T @ x).toarray()
        g[np.diag_indices_from(g)] += self.params["lam"]
        p = np.linalg.inv(g)
        b = -p / np.diag(p)[None, :]
        np.fill_diagonal(b, 0.0)
        self.b = b
        self.x = x

    def _scores(self, user_idx, rows):
        return np.asarray(self.x[user_idx] @ self.b)


# Validation grids, searched by NDCG@10 on the validation split. Small on purpose: a full run,
# both splits, stays within minutes on two cores.
GRIDS: dict[str, list[Peer]] = {
    "popularity": [Popularity()],
    "item-kNN cosine": [ItemKNN(K=k, weight=w) for w in ("binary", "log") for k in (5, 10, 20, 50, 100, 400)],
    "item-kNN BM25": [
        BM25KNN(K=k, K1=k1, B=b) for (k1, b) in ((1.2, 0.75), (100.0, 0.8)) for k in (10, 20, 50, 100, 400, 4000)
    ],
    # ALS needs a regularization on the scale of its confidences (alpha x BM25 weights); 512
    # factors overfit on this data and take longest, so the grid stops at 256.
    "ALS (implicit)": [
        ALS(factors=f, regularization=r, alpha=a) for f in (128, 256) for r in (1.0, 10.0, 50.0, 200.0) for a in (10.0, 40.0)
    ],
    "EASE": [EASE(lam=l) for l in (10, 25, 50, 100, 200, 400, 800, 1600, 3200)],
}


def fresh(peer: Peer) -> Peer:
    """An unfitted copy of ``peer`` with the same parameters."""
    return type(peer)(**peer.params)
