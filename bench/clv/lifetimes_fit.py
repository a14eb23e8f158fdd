"""The CLV benchmark's Python side: fits `lifetimes` 0.11.3 (BG/NBD + Gamma-Gamma) on the same
calibration period as `vitrine clv`, checks that both tools summarize the customers the same way,
and scores both tools' predictions against what each customer did in the holdout period.

    python lifetimes_fit.py ORDERS CALIBRATION_END HOLDOUT_END [PENALIZER VITRINE_JSONL VITRINE_STDERR]...

One triple per `vitrine clv` run: the --penalizer it ran with, its output, and what it printed to
stderr (its fit time and parameters are read from there). lifetimes is fitted with each penalizer too.

Lines count as `vitrine clv` counts them with Online Retail's columns: a customer, not a
cancellation (`C` invoices), a stock code starting with a digit, quantity and price > 0; a day's
value is the sum of its lines' quantity x price. Purchases are purchase days (daily periods).
Prints the results as Markdown.
"""
import contextlib
import io
import json
import re
import sys
import time

import numpy as np
import pandas as pd
from scipy.stats import spearmanr
from lifetimes import BetaGeoFitter, GammaGammaFitter
from lifetimes.utils import ConvergenceError, summary_data_from_transaction_data

orders, cal_end, holdout_end = sys.argv[1:4]
runs = sys.argv[4:]
cal_end = pd.Timestamp(cal_end)
holdout_end = pd.Timestamp(holdout_end)
horizon = (holdout_end - cal_end).days

df = pd.read_csv(orders, dtype={"InvoiceNo": str, "StockCode": str, "CustomerID": str})
df = df[df["CustomerID"].notna() & (df["CustomerID"].str.strip() != "")]
df = df[~df["InvoiceNo"].str.upper().str.startswith("C")]
df = df[df["StockCode"].str.match(r"^\d")]
df = df[(df["Quantity"] > 0) & (df["UnitPrice"] > 0)]
df["customer"] = "c-" + df["CustomerID"].str.strip().str.replace(r"\.0$", "", regex=True)
df["time"] = pd.to_datetime(df["InvoiceDate"])
df["value"] = df["Quantity"] * df["UnitPrice"]
cal = df[df["time"] < cal_end]
hold = df[(df["time"] >= cal_end) & (df["time"] < holdout_end)]

# lifetimes' own summary of the calibration period: the last day observed is the day before the end.
summary = summary_data_from_transaction_data(
    cal, "customer", "time", monetary_value_col="value", observation_period_end=cal_end - pd.Timedelta(days=1), freq="D"
)

# Vitrine's summary and predictions, from its output lines.
vit = pd.DataFrame([json.loads(l) for l in open(runs[1])]).set_index("customer").sort_index()
summary = summary.sort_index()
same_ids = list(vit.index) == list(summary.index)
agree = same_ids and all(
    np.array_equal(vit[a].to_numpy(), summary[b].to_numpy()) for a, b in [("frequency", "frequency"), ("recency", "recency"), ("T", "T")]
) and np.allclose(vit["monetary_value"], summary["monetary_value"], rtol=1e-9, atol=1e-9)

# What each calibration customer did in the holdout: purchase days and revenue.
hold = hold[hold["customer"].isin(summary.index)]
actual_orders = hold.groupby("customer")["time"].apply(lambda t: t.dt.floor("D").nunique()).reindex(summary.index, fill_value=0)
actual_value = hold.groupby("customer")["value"].sum().reindex(summary.index, fill_value=0.0)


def scores(pred_orders, pred_value, only=None):
    """MAE and Spearman's rho of purchases and revenue, over the customers with finite predictions
    (lifetimes returns NaN for some at some parameters), and how many those are."""
    pred_orders, pred_value = np.asarray(pred_orders, dtype=float), np.asarray(pred_value, dtype=float)
    ok = np.isfinite(pred_orders) & np.isfinite(pred_value)
    if only is not None:
        ok &= only
    o, v = actual_orders.to_numpy()[ok], actual_value.to_numpy()[ok]
    return (
        float(np.mean(np.abs(pred_orders[ok] - o))),
        float(spearmanr(pred_orders[ok], o).correlation),
        float(np.mean(np.abs(pred_value[ok] - v))),
        float(spearmanr(pred_value[ok], v).correlation),
        int(ok.sum()),
    )


def nll_bg(params, penalizer):
    # lifetimes' own objective (time scaled as its fit scales it, penalty included), at a tool's parameters.
    scale = 10.0 / summary["T"].max()
    r, alpha, a, b = params
    lp = np.log([r, alpha * scale, max(a, 1e-300), b])
    w = np.ones(len(summary))
    return float(BetaGeoFitter._negative_log_likelihood(lp, summary["frequency"].to_numpy(), summary["recency"].to_numpy() * scale, summary["T"].to_numpy() * scale, w, penalizer))


rows = []
for penalizer, vitrine_jsonl, vitrine_stderr in zip(runs[0::3], runs[1::3], runs[2::3]):
    penalizer = float(penalizer)
    vit = pd.DataFrame([json.loads(l) for l in open(vitrine_jsonl)]).set_index("customer").sort_index()
    assert list(vit.index) == list(summary.index), "the two tools' customers differ"
    text = open(vitrine_stderr).read()
    number = r"([-+0-9.eE]+)"
    vitrine_seconds = float(np.median([float(t) for t in re.findall(rf"in {number} s", text)]))
    vitrine_bg = [float(re.search(rf" {k}={number}", text).group(1)) for k in ("r", "alpha", "a", "b")]
    vitrine_gg = [float(re.search(rf" {k}={number}", text).group(1)) for k in ("p", "q", "v")]
    rows.append((f"Vitrine (Rust), penalizer {penalizer:g}", vitrine_seconds,
                 scores(vit["expected_orders"].to_numpy(), vit["expected_value"].to_numpy()), vitrine_bg, vitrine_gg, nll_bg(vitrine_bg, penalizer)))
    # lifetimes on its own summary.
    # lifetimes on its own summary: with its default tolerance, then, if BFGS gives up (it does when
    # the optimum lies on the boundary, a -> 0), with a looser one so that it returns parameters.
    # Gamma-Gamma unpenalized, as Vitrine fits it.
    bg = None
    for tol in (1e-7, 1e-4):
        name = f"lifetimes 0.11.3 (Python), penalizer {penalizer:g}, tol {tol:g}"
        try:
            times = []
            for _ in range(3):
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    bg = BetaGeoFitter(penalizer_coef=penalizer).fit(summary["frequency"], summary["recency"], summary["T"], tol=tol)
                times.append(time.perf_counter() - started)
            bg_seconds = float(np.median(times))
            break
        except ConvergenceError:
            bg = None
            rows.append((name, None, None, None, None, None))
    if bg is None:
        continue
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    times = []
    for _ in range(3):
        started = time.perf_counter()
        gg = GammaGammaFitter(penalizer_coef=0.0).fit(repeat["frequency"], repeat["monetary_value"])
        times.append(time.perf_counter() - started)
    gg_seconds = float(np.median(times))
    lt_orders = bg.conditional_expected_number_of_purchases_up_to_time(horizon, summary["frequency"], summary["recency"], summary["T"])
    lt_value = lt_orders * gg.conditional_expected_average_profit(summary["frequency"], summary["monetary_value"])
    lt_bg = [bg.params_[k] for k in ("r", "alpha", "a", "b")]
    rows.append((name, bg_seconds + gg_seconds, scores(lt_orders.to_numpy(), lt_value.to_numpy()), lt_bg,
                 [gg.params_[k] for k in ("p", "q", "v")], nll_bg(lt_bg, penalizer)))
    finite = np.isfinite(lt_orders.to_numpy()) & np.isfinite(lt_value.to_numpy())
    if not finite.all():
        # Like for like: Vitrine scored on the customers lifetimes could predict.
        rows.append((f"Vitrine (Rust), penalizer {penalizer:g}, on lifetimes' finite predictions", vitrine_seconds,
                     scores(vit["expected_orders"].to_numpy(), vit["expected_value"].to_numpy(), finite), vitrine_bg, vitrine_gg, nll_bg(vitrine_bg, penalizer)))

naive = summary["frequency"] / summary["T"].clip(lower=1) * horizon
rows_naive = scores(naive.to_numpy(), (naive * summary["monetary_value"]).to_numpy())

print(f"Calibration: lines before {cal_end.date()}; holdout: {cal_end.date()} to {holdout_end.date()} (exclusive), "
      f"{horizon} days. {len(summary)} calibration customers, {int((summary['frequency'] > 0).sum())} with a repeat purchase day; "
      f"{int((actual_orders > 0).sum())} bought in the holdout ({int(actual_orders.sum())} purchase days, revenue {actual_value.sum():,.2f}).")
print()
print(f"Summaries (frequency, recency, T, monetary value per customer): Vitrine's and lifetimes' "
      f"`summary_data_from_transaction_data` {'agree exactly for every customer' if agree else 'DIFFER'}.")
print()
print("| tool | fit time | purchases MAE | purchases Spearman | revenue MAE | revenue Spearman | customers scored | BG/NBD r, alpha, a, b | Gamma-Gamma p, q, v | BG/NBD objective |")
print("|---|---|---|---|---|---|---|---|---|---|")
for name, seconds, sc, bgp, ggp, nll in rows:
    if sc is None:
        print(f"| {name} | did not converge (ConvergenceError) | - | - | - | - | - | - | - | - |")
        continue
    omae, orho, vmae, vrho, n = sc
    print(f"| {name} | {seconds:.3f} s | {omae:.4f} | {orho:.4f} | {vmae:.2f} | {vrho:.4f} | {n} | "
          f"{', '.join(f'{x:.4g}' for x in bgp)} | {', '.join(f'{x:.4g}' for x in ggp)} | {nll:.6f} |")
omae, orho, vmae, vrho, n = rows_naive
print(f"| naive: calibration rate x horizon (reference) | - | {omae:.4f} | {orho:.4f} | {vmae:.2f} | {vrho:.4f} | {n} | - | - | - |")
