"""Reference values for engine/src/analytics/clv.rs's tests, computed with Python `lifetimes` 0.11.3
(bench/clv/requirements.txt). Prints the Rust literals the tests hard-code:

    python bench/clv/reference_values.py

Parameters are the published CDNOW estimates (BG/NBD: Fader, Hardie & Lee 2005, in weeks;
Gamma-Gamma: Fader & Hardie 2013); the (x, t_x, T) triples and the small data set are made up.
"""
import numpy as np
import pandas as pd
from lifetimes import BetaGeoFitter, GammaGammaFitter

bg = BetaGeoFitter()
bg.params_ = pd.Series({"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
gg = GammaGammaFitter()
gg.params_ = pd.Series({"p": 6.25, "q": 3.74, "v": 15.44})

triples = [(0, 0.0, 38.86), (1, 30.43, 38.86), (2, 10.0, 38.86), (7, 35.0, 38.86), (7, 5.0, 38.86), (30, 38.0, 39.0), (200, 300.0, 301.0)]
print("// (x, t_x, T, t, expected purchases, p_alive)")
for x, tx, T in triples:
    for t in (39.0, 100.0):
        e = float(bg.conditional_expected_number_of_purchases_up_to_time(t, x, tx, T))
        pa = float(bg.conditional_probability_alive(x, tx, T))
        print(f"({x}.0, {tx!r}, {T!r}, {t!r}, {e!r}, {pa!r}),")

# Mean negative log-likelihood of a small data set at the published parameters.
freq = np.array([0, 1, 2, 7, 7, 30, 0, 3])
rec = np.array([0.0, 30.43, 10.0, 35.0, 5.0, 38.0, 0.0, 20.5])
T = np.array([38.86, 38.86, 38.86, 38.86, 38.86, 39.0, 12.0, 25.0])
w = np.ones_like(freq)
lp = np.log([0.243, 4.414, 0.793, 2.426])
print("// BG/NBD mean negative log-likelihood:", repr(float(BetaGeoFitter._negative_log_likelihood(lp, freq, rec, T, w, 0.0))))

print("// (x, m, expected average spend)")
xs = np.array([1.0, 2.0, 5.0, 20.0])
ms = np.array([10.0, 35.5, 120.0, 7.25])
for x, m in zip(xs, ms):
    print(f"({x!r}, {m!r}, {float(gg.conditional_expected_average_profit(x, m))!r}),")
lp = np.log([6.25, 3.74, 15.44])
print("// Gamma-Gamma mean negative log-likelihood:", repr(float(GammaGammaFitter._negative_log_likelihood(lp, xs, ms, np.ones_like(xs), 0.0))))
