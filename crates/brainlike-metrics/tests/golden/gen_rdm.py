"""Golden values for RDMs and RDM comparisons (rsatoolbox 0.3.2, scipy).

Run: python3 gen_rdm.py  (writes rdm.json next to this file)
"""
import importlib.metadata, json, os
import numpy as np
import rsatoolbox
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import calc_rdm, compare, RDMs
from scipy.spatial.distance import pdist

rng = np.random.default_rng(20240601)
X = rng.standard_normal((12, 30))
X[:, :5] += 2.0  # non-zero mean patterns
X32 = X.astype(np.float32)

ds = Dataset(X)
out = {"rsatoolbox_version": importlib.metadata.version("rsatoolbox"), "X": X.tolist()}
out["correlation"] = calc_rdm(ds, method="correlation").get_vectors()[0].tolist()
out["sq_euclidean_per_channel"] = calc_rdm(ds, method="euclidean").get_vectors()[0].tolist()
out["cosine"] = pdist(X, "cosine").tolist()
out["euclidean"] = pdist(X, "euclidean").tolist()
# f32 input, computed by rsatoolbox on the f64-cast data
ds32 = Dataset(X32.astype(np.float64))
out["X32_correlation"] = calc_rdm(ds32, method="correlation").get_vectors()[0].tolist()

# comparisons: two 10-condition RDMs (45 entries) with ties
n = 10
m = n * (n - 1) // 2
a = np.round(rng.uniform(0, 1, m), 1)  # heavy ties
b = np.round(a + rng.normal(0, 0.3, m), 1)
b = np.abs(b)
c = rng.uniform(0, 1, m)  # continuous
ra, rb, rc = (RDMs(v.reshape(1, -1)) for v in (a, b, c))
methods = ["cosine", "corr", "spearman", "rho-a", "tau-a", "kendall"]
out["cmp_a"], out["cmp_b"], out["cmp_c"] = a.tolist(), b.tolist(), c.tolist()
out["cmp_ab"] = {mth: float(compare(ra, rb, method=mth)[0, 0]) for mth in methods}
out["cmp_ac"] = {mth: float(compare(ra, rc, method=mth)[0, 0]) for mth in methods}

# bootstrap subsample semantics: fixed draw with duplicates
idx = np.array([0, 0, 1, 3, 3, 3, 5, 7, 8, 8])
sa = ra.subsample_pattern("index", idx)
sb = rb.subsample_pattern("index", idx)
out["boot_idx"] = idx.tolist()
out["boot_ab"] = {mth: float(compare(sa, sb, method=mth)[0, 0]) for mth in methods}

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "rdm.json"), "w") as f:
    json.dump(out, f)
