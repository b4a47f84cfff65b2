"""Fixtures for scoring features from .npy files: `brainlike rdm`, `brainlike compare`,
`brainlike predict` (rsatoolbox 0.3.2, scikit-learn 1.9.1, scipy, numpy).

Run: python3 gen_npy.py
Writes the inputs as .npy and every reference value into npy/ next to this file
(npy/expected.json). The Rust tests (tests/npy_golden.rs here and
crates/brainlike-cli/tests/metrics_cli.rs) only read these committed outputs.
"""
import importlib.metadata, json, os
import numpy as np
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import calc_rdm, compare, RDMs
from scipy.spatial.distance import pdist, squareform
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "npy")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(20251203)
exp = {"versions": {p: importlib.metadata.version(p)
                    for p in ["rsatoolbox", "scikit-learn", "numpy", "scipy"]}}


def save(name, a):
    np.save(os.path.join(OUT, name), a)


# ---- rdm: 12 stimuli x (3 x 5) units; more dims are flattened after the first
F = rng.standard_normal((12, 3, 5))
F[:, 0, :] += 1.5  # non-zero mean patterns
save("features.npy", F)
save("features_f32.npy", F.astype(np.float32))
X = F.reshape(12, -1)
X32 = F.astype(np.float32).astype(np.float64).reshape(12, -1)
rdms = {}
for name, x in [("", X), ("f32_", X32)]:
    ds = Dataset(x)
    rdms[name + "correlation"] = calc_rdm(ds, method="correlation").get_matrices()[0]
    # rsatoolbox's "euclidean" is the squared distance / number of channels (issue #179)
    rdms[name + "mean-sqeuclidean"] = calc_rdm(ds, method="euclidean").get_matrices()[0]
    # rsatoolbox 0.3.2 has no cosine / plain distances: scipy
    rdms[name + "cosine"] = squareform(pdist(x, "cosine"))
    rdms[name + "euclidean"] = squareform(pdist(x, "euclidean"))
    rdms[name + "sqeuclidean"] = squareform(pdist(x, "sqeuclidean"))
for k, v in rdms.items():
    save(f"rdm_{k}.npy", v)

# ---- compare: three 10-stimulus RDMs, a and b with heavy ties, c continuous
n = 10
m = n * (n - 1) // 2
a = np.round(rng.uniform(0, 1, m), 1)
b = np.abs(np.round(a + rng.normal(0, 0.3, m), 1))
c = rng.uniform(0, 1, m)
for nm, v in [("a", a), ("b", b), ("c", c)]:
    save(f"cmp_{nm}.npy", squareform(v))
methods = {"spearman": "spearman", "rho-a": "rho-a", "tau-a": "tau-a", "kendall": "kendall",
           "pearson": "corr", "cosine": "cosine", "corr-cov": "corr_cov",
           "cosine-cov": "cosine_cov"}
ra, rb, rc = (RDMs(v.reshape(1, -1)) for v in (a, b, c))
exp["compare_ab"] = {ours: float(compare(ra, rb, method=theirs)[0, 0])
                     for ours, theirs in methods.items()}
exp["compare_ac"] = {ours: float(compare(ra, rc, method=theirs)[0, 0])
                     for ours, theirs in methods.items()}
# one bootstrap draw with repeated stimuli: rsatoolbox's bootstrap_sample_pattern
# calls subsample_pattern, which sets the diagonal to NaN before indexing, so pairs of
# a repeated stimulus with itself are NaN and compare() drops them
idx = np.array([0, 0, 1, 3, 3, 3, 5, 7, 8, 8])
sa, sb = ra.subsample_pattern("index", idx), rb.subsample_pattern("index", idx)
exp["boot_idx"] = idx.tolist()
exp["boot_ab"] = {ours: float(compare(sa, sb, method=theirs)[0, 0])
                  for ours, theirs in methods.items()}

# cov-weighted comparisons on a larger RDM (rsatoolbox uses sparse indicators from 100
# conditions on) and on a bootstrap draw of it
n2 = 120
Y = rng.standard_normal((n2, 8))
d1 = RDMs(calc_rdm(Dataset(Y), method="euclidean").get_vectors())
d2 = RDMs(calc_rdm(Dataset(Y + 0.7 * rng.standard_normal((n2, 8))),
                   method="correlation").get_vectors())
save("cmp_big1.npy", d1.get_matrices()[0])
save("cmp_big2.npy", d2.get_matrices()[0])
exp["compare_big"] = {ours: float(compare(d1, d2, method=theirs)[0, 0])
                      for ours, theirs in methods.items()}
idx2 = np.sort(rng.integers(0, n2, n2))
exp["boot_big_idx"] = idx2.tolist()
s1, s2 = d1.subsample_pattern("index", idx2), d2.subsample_pattern("index", idx2)
# rsatoolbox 0.3.2 crashes on corr_cov/cosine_cov with NaNs from 100 conditions on
# (`sumI[n_dist:, :] /= 2` on its int8 sparse indicator matrix): for this case we run
# the same code with the dense indicators it uses below 100 conditions
import sys
rc_mod = sys.modules["rsatoolbox.rdm.compare"]  # the module, not the function
from rsatoolbox.util.matrix import row_col_indicator_g
rc_mod.row_col_indicator_g_sparse = row_col_indicator_g
exp["boot_big"] = {ours: float(compare(s1, s2, method=theirs)[0, 0])
                   for ours, theirs in methods.items()}

# ---- predict: PLS (scikit-learn, scale=False), KFold(5, shuffle=False), held-out
# Pearson r per neuron, median over neurons per split, mean over splits; split-half
# ceiling (first half of the repetitions vs the second, Spearman-Brown)
ns, nf, nn, nr, k_comp, k_fold = 43, 30, 6, 4, 3, 5
Xp = rng.standard_normal((ns, nf))
W = rng.standard_normal((nf, nn)) * (rng.uniform(size=(nf, 1)) < 0.4)
signal = Xp @ W + 2.0
R = signal[:, :, None] + 1.5 * rng.standard_normal((ns, nn, nr))
save("pls_features.npy", Xp)
save("neural.npy", R)
save("neural_2d.npy", R.mean(axis=2))
Ym = R.mean(axis=2)


def pearson_cols(p, t):
    p = p - p.mean(0)
    t = t - t.mean(0)
    return (p * t).sum(0) / np.sqrt((p * p).sum(0) * (t * t).sum(0))


per_split, folds = [], []
for train, test in KFold(k_fold, shuffle=False).split(Xp):
    pls = PLSRegression(n_components=k_comp, scale=False).fit(Xp[train], Ym[train])
    pred = pls.predict(Xp[test]).reshape(len(test), -1)
    per_split.append(pearson_cols(pred, Ym[test]).tolist())
    folds.append(test.tolist())
per_split_median = [float(np.median(r)) for r in per_split]
median_r = float(np.mean(per_split_median))
h1, h2 = R[:, :, : nr // 2].mean(2), R[:, :, nr // 2:].mean(2)
rh = pearson_cols(h1, h2)
ceil = 2 * rh / (1 + rh)
r_mean = np.mean(np.array(per_split), axis=0)
exp["predict"] = {
    "components": k_comp, "kfold": k_fold, "folds": folds,
    "per_neuron_r": per_split, "per_split_median_r": per_split_median,
    "median_r": median_r, "per_neuron_ceiling": ceil.tolist(),
    "median_ceiling": float(np.median(ceil)),
    "ceiled": median_r / float(np.median(ceil)),
    "median_of_ratios": float(np.median(r_mean / ceil)),
}
# an explicit split file: one line per split, held-out stimulus indices
lines = [list(range(0, 40, 4)), list(range(1, 43, 3))]
with open(os.path.join(OUT, "splits.txt"), "w") as f:
    f.write("# held-out stimulus indices, one split per line\n")
    for l in lines:
        f.write(" ".join(map(str, l)) + "\n")
per_split = []
for test in lines:
    train = np.setdiff1d(np.arange(ns), test)
    pls = PLSRegression(n_components=k_comp, scale=False).fit(Xp[train], Ym[train])
    pred = pls.predict(Xp[test]).reshape(len(test), -1)
    per_split.append(pearson_cols(pred, Ym[np.array(test)]).tolist())
exp["predict_splits"] = {"per_neuron_r": per_split,
                         "median_r": float(np.mean([np.median(r) for r in per_split]))}

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(exp, f, indent=1)
print("wrote", OUT)
