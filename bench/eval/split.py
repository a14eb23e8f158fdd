"""Held-out splits for recommender evaluation: Online Retail loading, temporal and random splits.

Every split works on one tidy frame with columns ``user, item, timestamp, quantity, order``
(``order`` groups the lines of one basket; a data set without baskets can use ``user`` +
``timestamp``), so the same code serves other data sets later: write a loader that returns that
frame and pass it to :func:`temporal_split` / :func:`random_split`.

A split is a training frame plus, for each evaluated user, their history (distinct items of the
training frame, oldest first, an item placed at its newest purchase) and their target: the items of
one held-out order that are new to that user and known to the training frame (an item nobody bought
before the cutoff cannot be recommended by any method, so it is dropped from every method's target
alike; the count is reported).

Run ``python split.py`` to print the statistics of the splits ``evaluate.py`` uses.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

ONLINE_RETAIL = "/work/shared/data/online-retail.csv.gz"

# The test cutoff leaves three months and a bit (to 2011-12-09) of "next orders": about 1,900
# customers who bought before it come back after it. The validation split mirrors it one quarter
# earlier and its targets must fall before the test cutoff, so tuning never sees the test window.
TEST_CUTOFF = "2011-09-01"
VALIDATION_CUTOFF = "2011-06-01"
RANDOM_SEED = 20111209


@dataclass
class Split:
    """A training frame and the held-out users with their histories and targets."""

    name: str
    train: pd.DataFrame
    users: list[str]
    histories: list[list[str]]
    targets: list[set[str]]
    stats: dict = field(default_factory=dict)


def load_online_retail(path: str = ONLINE_RETAIL) -> pd.DataFrame:
    """Valid purchase lines of Online Retail as ``user, item, timestamp, quantity, order``.

    Drops cancellations (invoice starting with C), non-positive quantity or price, guest lines
    (no CustomerID) and non-product codes (a product code starts with a digit) — the same rules as
    ``vitrine interactions``. Row order is the file's order, which keeps lines of an invoice in
    their original sequence.
    """
    raw = pd.read_csv(
        path,
        dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str, "Description": str, "Country": str},
    )
    keep = (
        ~raw["InvoiceNo"].str.startswith("C")
        & (raw["Quantity"] > 0)
        & (raw["UnitPrice"] > 0)
        & raw["CustomerID"].notna()
        & raw["StockCode"].str.match(r"^\d")
    )
    raw = raw[keep]
    df = pd.DataFrame(
        {
            # "17850.0" -> "17850".
            "user": raw["CustomerID"].str.replace(r"\.0$", "", regex=True),
            "item": raw["StockCode"],
            "timestamp": pd.to_datetime(raw["InvoiceDate"], format="%Y-%m-%d %H:%M:%S"),
            "quantity": raw["Quantity"].astype(np.int64),
            "order": raw["InvoiceNo"],
        }
    )
    return df.reset_index(drop=True)


def _with_order(df: pd.DataFrame) -> pd.DataFrame:
    if "order" in df.columns:
        return df
    df = df.copy()
    df["order"] = df["user"].astype(str) + "@" + df["timestamp"].astype(str)
    return df


def histories(train: pd.DataFrame, users: list[str]) -> list[list[str]]:
    """Each user's distinct training items, oldest first, an item placed at its newest purchase.

    Ties (lines of one order share a timestamp) keep the frame's row order.
    """
    t = train[train["user"].isin(set(users))]
    t = t.assign(_row=np.arange(len(t))).sort_values(["user", "timestamp", "_row"], kind="stable")
    # Keep the last occurrence of each (user, item): its position is the item's newest purchase.
    t = t.drop_duplicates(["user", "item"], keep="last")
    by_user = t.groupby("user", sort=False)["item"].agg(list)
    return [by_user.get(u, []) for u in users]


def _finish(name: str, train: pd.DataFrame, held: pd.DataFrame, stats: dict) -> Split:
    """Targets from held-out lines ``held`` (one order per user): new to the user, known to train."""
    known = set(train["item"].unique())
    seen = train.groupby("user")["item"].agg(set)
    users, targets = [], []
    dropped_unknown = dropped_empty = 0
    for user, items in held.groupby("user", sort=True)["item"]:
        new = set(items) - seen.get(user, set())
        target = new & known
        dropped_unknown += len(new - known)
        if target:
            users.append(user)
            targets.append(target)
        else:
            dropped_empty += 1
    stats = dict(stats)
    stats.update(
        train_lines=len(train),
        train_users=train["user"].nunique(),
        train_items=len(known),
        train_pairs=len(train.drop_duplicates(["user", "item"])),
        test_users=len(users),
        users_without_new_known_items=dropped_empty,
        target_items_unknown_to_train=dropped_unknown,
        mean_target_size=float(np.mean([len(t) for t in targets])) if targets else 0.0,
    )
    return Split(name, train, users, histories(train, users), targets, stats)


def temporal_split(df: pd.DataFrame, cutoff: str, end: str | None = None, name: str | None = None) -> Split:
    """Train on lines before ``cutoff``; test each returning user's next order at/after it.

    The next order is the user's first order with a timestamp in ``[cutoff, end)`` (``end`` open
    means to the end of the data). Users without lines before ``cutoff`` are not evaluated.
    """
    df = _with_order(df)
    cut = pd.Timestamp(cutoff)
    train = df[df["timestamp"] < cut]
    after = df[df["timestamp"] >= cut]
    if end is not None:
        after = after[after["timestamp"] < pd.Timestamp(end)]
    after = after[after["user"].isin(set(train["user"].unique()))]
    first = after.sort_values(["timestamp", "order"], kind="stable").drop_duplicates("user")[["user", "order"]]
    held = after.merge(first, on=["user", "order"])
    stats = {"split": "temporal", "cutoff": cutoff, "target_window_end": end or "end of data", "returning_users": len(first)}
    return _finish(name or f"temporal {cutoff}", train, held, stats)


def random_split(df: pd.DataFrame, seed: int = RANDOM_SEED, name: str | None = None) -> Split:
    """Hold out one order per user, chosen uniformly at random among users with two or more orders.

    Training keeps everything else, including orders after the held-out one: this is the
    "random" protocol, which ignores time on purpose as a contrast to the temporal split.
    """
    df = _with_order(df)
    orders = df[["user", "order"]].drop_duplicates().sort_values(["user", "order"], kind="stable")
    counts = orders.groupby("user")["order"].transform("size")
    eligible = orders[counts >= 2]
    rng = np.random.default_rng(seed)
    # One uniform draw per eligible user: shuffle, then keep each user's first row.
    pick = eligible.iloc[rng.permutation(len(eligible))].drop_duplicates("user")
    key = pd.MultiIndex.from_frame(pick[["user", "order"]])
    is_held = pd.MultiIndex.from_frame(df[["user", "order"]]).isin(key)
    train, held = df[~is_held], df[is_held]
    stats = {"split": "random", "seed": seed, "users_with_2plus_orders": len(pick)}
    return _finish(name or f"random seed {seed}", train, held, stats)


def online_retail_splits(path: str = ONLINE_RETAIL) -> dict[str, tuple[Split, Split]]:
    """The (validation, test) pairs ``evaluate.py`` runs: temporal and random."""
    df = load_online_retail(path)
    temporal = (
        temporal_split(df, VALIDATION_CUTOFF, end=TEST_CUTOFF, name="temporal validation"),
        temporal_split(df, TEST_CUTOFF, name="temporal test"),
    )
    rand_test = random_split(df, seed=RANDOM_SEED, name="random test")
    # Validation for the random split holds out a second order from the test split's training
    # frame, so the held-out test orders are never seen while tuning.
    rand_val = random_split(rand_test.train, seed=RANDOM_SEED + 1, name="random validation")
    return {"temporal": temporal, "random": (rand_val, rand_test)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=ONLINE_RETAIL)
    args = ap.parse_args()
    for kind, pair in online_retail_splits(args.data).items():
        for s in pair:
            print(f"{s.name}:")
            for k, v in s.stats.items():
                print(f"  {k}: {v}")


if __name__ == "__main__":
    main()
