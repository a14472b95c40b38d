"""Reference figures for our Holt-Winters baseline (src/data/exponential-smoothing.ts), from statsmodels.

Run with Debian's python3-statsmodels: /usr/bin/python3 tools/make_holt_winters_fixtures.py
Writes test/fixtures/holt-winters.json (committed; tests never need Python):
- `recursion`: statsmodels' additive-trend, additive-season smoother with fixed smoothing parameters
  and known initial states, its fitted values and 30-step forecast: our filter must match these to
  rounding.
- `fits`: for six monthly series with the last 24 values held out, statsmodels' fitted model
  (initialization "estimated", its default), its in-sample SSE and its 24-step forecast: our fit must
  reach an SSE no worse and a forecast of similar accuracy.
"""
import csv
import json
import os
import warnings

import numpy as np
import statsmodels
from statsmodels.tsa.holtwinters import ExponentialSmoothing

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERIES = ["AirPassengers", "co2", "nottem", "USAccDeaths", "ldeaths", "UKDriverDeaths"]
HOLDOUT = 24
PERIOD = 12


def read(name):
    with open(os.path.join(ROOT, "data", "series", name + ".csv")) as f:
        rows = list(csv.DictReader(f))
    return np.array([float(r["value"]) for r in rows])


def recursion_case():
    y = read("AirPassengers")[:60]
    initial_seasonal = [float(v) for v in (y[:PERIOD] - y[:PERIOD].mean())]
    model = ExponentialSmoothing(
        y, trend="add", seasonal="add", seasonal_periods=PERIOD, initialization_method="known",
        initial_level=float(y[:PERIOD].mean()), initial_trend=1.5, initial_seasonal=initial_seasonal,
    )
    fit = model.fit(smoothing_level=0.3, smoothing_trend=0.05, smoothing_seasonal=0.2, optimized=False)
    return {
        "values": y.tolist(), "period": PERIOD,
        "params": {"alpha": 0.3, "beta": 0.05, "gamma": 0.2, "level": float(y[:PERIOD].mean()), "trend": 1.5,
                   "season": initial_seasonal},
        "fitted": fit.fittedvalues.tolist(), "sse": float(fit.sse), "forecast": fit.forecast(30).tolist(),
    }


def fit_case(name):
    y = read(name)
    train, test = y[:-HOLDOUT], y[-HOLDOUT:]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = ExponentialSmoothing(train, trend="add", seasonal="add", seasonal_periods=PERIOD).fit()
    forecast = fit.forecast(HOLDOUT)
    p = fit.params
    return {
        "name": name, "trainLength": len(train), "holdout": HOLDOUT, "period": PERIOD,
        "params": {"alpha": float(p["smoothing_level"]), "beta": float(p["smoothing_trend"]),
                   "gamma": float(p["smoothing_seasonal"]), "level": float(p["initial_level"]),
                   "trend": float(p["initial_trend"]), "season": [float(v) for v in p["initial_seasons"]]},
        "sse": float(fit.sse), "forecast": forecast.tolist(),
        "rmse": float(np.sqrt(np.mean((forecast - test) ** 2))),
    }


def main():
    out = {
        "source": f"statsmodels {statsmodels.__version__} ExponentialSmoothing(trend='add', seasonal='add')",
        "recursion": recursion_case(),
        "fits": [fit_case(n) for n in SERIES],
    }
    path = os.path.join(ROOT, "test", "fixtures", "holt-winters.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1)
    for c in out["fits"]:
        print(f"{c['name']:>15}: sse {c['sse']:.6g}  holdout rmse {c['rmse']:.4g}  alpha {c['params']['alpha']:.3f} beta {c['params']['beta']:.3f} gamma {c['params']['gamma']:.3f}")
    print("wrote", path)


if __name__ == "__main__":
    main()
