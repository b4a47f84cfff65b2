"""Golden values for multinomial logistic regression (scikit-learn lbfgs).

Run: python3 gen_logistic.py  (writes logistic.json next to this file)
"""
import json, os, warnings
import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(3)
n, n_test, d, k = 90, 20, 6, 3
centers = rng.normal(0, 1.0, (k, d))
y = rng.integers(0, k, n + n_test)
X = centers[y] + rng.normal(0, 1.2, (n + n_test, d)) * rng.uniform(0.5, 3, d) + 5
out = {"sklearn_version": sklearn.__version__, "X_train": X[:n].tolist(), "y_train": y[:n].tolist(),
       "X_test": X[n:].tolist(), "cases": []}
sc = StandardScaler().fit(X[:n])
out["scaled_test"] = sc.transform(X[n:]).tolist()
for C in [1.0, 0.05, 1e-3]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kw = dict(C=C, solver="lbfgs", tol=1e-12, max_iter=100000)
        if tuple(int(v) for v in sklearn.__version__.split(".")[:2]) < (1, 5):
            kw["multi_class"] = "multinomial"
        m = LogisticRegression(**kw).fit(sc.transform(X[:n]), y[:n])
    out["cases"].append({"C": C, "proba": m.predict_proba(sc.transform(X[n:])).tolist()})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "logistic.json"), "w") as f:
    json.dump(out, f)
