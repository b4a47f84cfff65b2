"""Reference timings for brainlike-metrics (rsatoolbox 0.3.2, scikit-learn).

Writes the shared inputs (.npy) and reference outputs to --out (default
/tmp/brainlike-bench-metrics) and prints one JSON object with timings (s).
Run directly or let `cargo run --release -p brainlike-metrics --example
bench_metrics` invoke it.
"""
import argparse, importlib.metadata, json, os, time
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="/tmp/brainlike-bench-metrics")
ap.add_argument("--conditions", type=int, default=1000)
ap.add_argument("--channels", type=int, default=10000)
ap.add_argument("--stimuli", type=int, default=2000)
ap.add_argument("--features", type=int, default=1000)
ap.add_argument("--neurons", type=int, default=100)
ap.add_argument("--splits", type=int, default=10)
ap.add_argument("--repeats", type=int, default=3)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
rng = np.random.default_rng(0)

def best_of(f, k):
    ts = []
    for _ in range(k):
        t = time.perf_counter(); r = f(); ts.append(time.perf_counter() - t)
    return min(ts), r

res = {"versions": {p: importlib.metadata.version(p) for p in ["rsatoolbox", "scikit-learn", "numpy", "scipy"]},
       "threads": os.cpu_count()}

# ---- RDMs: conditions x channels, float32 on disk
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import calc_rdm
from scipy.spatial.distance import pdist
X = rng.standard_normal((a.conditions, a.channels)).astype(np.float32)
X[:, : a.channels // 10] += 1.0
np.save(os.path.join(a.out, "rdm_X.npy"), X)
ds = Dataset(X.astype(np.float64))
t, r = best_of(lambda: calc_rdm(ds, method="correlation").get_vectors()[0], a.repeats)
res["rdm_correlation_s"] = t
np.save(os.path.join(a.out, "rdm_correlation.npy"), r)
t, r = best_of(lambda: calc_rdm(ds, method="euclidean").get_vectors()[0], a.repeats)
res["rdm_sq_euclidean_per_channel_s"] = t
np.save(os.path.join(a.out, "rdm_sq_euclidean_per_channel.npy"), r)
# rsatoolbox 0.3.2 has no cosine RDM: scipy's pdist is the reference
t, r = best_of(lambda: pdist(X.astype(np.float64), "cosine"), a.repeats)
res["rdm_cosine_scipy_s"] = t
np.save(os.path.join(a.out, "rdm_cosine.npy"), r)

# ---- PLS(25): stimuli x features -> neurons, 10 shuffle splits 90/10
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import ShuffleSplit
s, p, q = a.stimuli, a.features, a.neurons
L = rng.standard_normal((s, 40))
F = L @ rng.standard_normal((40, p)) + rng.standard_normal((s, p))
Y = L @ rng.standard_normal((40, q)) + 2.0 * rng.standard_normal((s, q))
np.save(os.path.join(a.out, "pls_X.npy"), F)
np.save(os.path.join(a.out, "pls_Y.npy"), Y)
splits = list(ShuffleSplit(n_splits=a.splits, train_size=0.9, random_state=1).split(F))
np.save(os.path.join(a.out, "pls_train_idx.npy"), np.stack([tr for tr, _ in splits]).astype(np.float64))
np.save(os.path.join(a.out, "pls_test_idx.npy"), np.stack([te for _, te in splits]).astype(np.float64))

def run_pls():
    preds, med = [], []
    for tr, te in splits:
        m = PLSRegression(n_components=25, scale=False).fit(F[tr], Y[tr])
        pr = m.predict(F[te])
        preds.append(pr)
        rs = [np.corrcoef(pr[:, j], Y[te, j])[0, 1] for j in range(q)]
        med.append(float(np.median(rs)))
    return np.concatenate(preds), med

t, (preds, med) = best_of(run_pls, 1)
res["pls_10splits_s"] = t
res["pls_median_r_per_split"] = med
np.save(os.path.join(a.out, "pls_pred.npy"), preds)
res["out"] = a.out
print(json.dumps(res))
