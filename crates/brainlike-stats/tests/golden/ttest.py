"""Golden values for brainlike-stats' t-tests and power note.

Run from this directory: `python3 ttest.py > ttest.json` (needs numpy, scipy).
The Rust tests (tests/golden_ttest.rs) read ttest.json; they need no Python.
"""
import json

import numpy as np
import scipy
from scipy import stats
from scipy.optimize import brentq

rng = np.random.default_rng(20190923)
datasets = []
# Paper-like final test accuracies (10 seeds each), plus assorted shapes.
datasets.append(("paper_like_r0.1_vs_r0", list(rng.normal(0.41, 0.004, 10)), list(rng.normal(0.40, 0.005, 10))))
datasets.append(("tiny_difference", list(rng.normal(0.400, 0.01, 10)), list(rng.normal(0.399, 0.01, 10))))
datasets.append(("unequal_n_var", list(rng.normal(1.0, 2.0, 5)), list(rng.normal(0.0, 0.5, 12))))
datasets.append(("n3", [0.31, 0.35, 0.33], [0.30, 0.29, 0.32]))
datasets.append(("negative_effect", list(rng.normal(0.38, 0.01, 8)), list(rng.normal(0.40, 0.01, 9))))
datasets.append(("huge_effect", list(rng.normal(0.50, 0.001, 10)), list(rng.normal(0.40, 0.001, 10))))

cases = []
for name, a, b in datasets:
    for equal_var in (False, True):
        for alt in ("greater", "less", "two-sided"):
            r = stats.ttest_ind(a, b, equal_var=equal_var, alternative=alt)
            cases.append({
                "name": name,
                "a": [float(x) for x in a],
                "b": [float(x) for x in b],
                "equal_var": equal_var,
                "alternative": alt,
                "t": float(r.statistic),
                "df": float(r.df),
                "p": float(r.pvalue),
            })

power = []


def upper(f):
    """Smallest power of two where the power exceeds 0.8 (scipy's nct is NaN far out)."""
    hi = 0.5
    while not f(hi) > 0:
        hi *= 2
    return hi


for na, nb in [(3, 3), (5, 5), (10, 10), (5, 12), (30, 30)]:
    for alt in ("greater", "two-sided"):
        df = na + nb - 2
        scale = np.sqrt(na * nb / (na + nb))
        a = 0.05 if alt == "greater" else 0.025
        tc = stats.t.ppf(1 - a, df)
        if alt == "greater":
            f = lambda d: stats.nct.sf(tc, df, d * scale) - 0.8
        else:
            f = lambda d: stats.nct.sf(tc, df, d * scale) + stats.nct.cdf(-tc, df, d * scale) - 0.8
        power.append({"n_a": na, "n_b": nb, "alternative": alt, "alpha": 0.05, "power": 0.8,
                      "min_detectable_d": float(brentq(f, 1e-6, upper(f), xtol=1e-12))})

nct_points = []
for t, df, nc in [(1.734, 18, 1.5), (2.0, 4, 3.0), (0.5, 10, -1.0), (3.0, 58, 2.5)]:
    nct_points.append({"t": t, "df": df, "nc": nc, "sf": float(stats.nct.sf(t, df, nc))})

print(json.dumps({"scipy_version": scipy.__version__, "numpy_version": np.__version__,
                  "ttest_ind": cases, "min_detectable_d": power, "nct_sf": nct_points}, indent=1))
