"""Golden values for PLS regression (scikit-learn PLSRegression, scale=False).

Run: python3 gen_pls.py  (writes pls.json next to this file)
"""
import json, os
import numpy as np
import sklearn
from sklearn.cross_decomposition import PLSRegression

rng = np.random.default_rng(7)
n, n_test, p, q = 60, 12, 40, 6
X = rng.standard_normal((n + n_test, p))
B = rng.standard_normal((p, q)) * (rng.uniform(size=(p, 1)) < 0.3)
Y = X @ B + 0.5 * rng.standard_normal((n + n_test, q)) + 3.0
Xtr, Xte, Ytr = X[:n], X[n:], Y[:n]
out = {"sklearn_version": sklearn.__version__, "X_train": Xtr.tolist(), "Y_train": Ytr.tolist(),
       "X_test": Xte.tolist(), "cases": []}
for k, cols in [(5, q), (25, q), (3, 1), (40, q)]:
    m = PLSRegression(n_components=k, scale=False).fit(Xtr, Ytr[:, :cols])
    pred = m.predict(Xte).reshape(n_test, -1)
    out["cases"].append({"n_components": k, "n_targets": cols,
                         "pred": pred.tolist(), "coef": m.coef_.T.tolist(),
                         "x_weights": m.x_weights_.tolist(), "n_iter": [int(i) for i in m.n_iter_]})
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "pls.json"), "w") as f:
    json.dump(out, f)
