"""Reference timing of rsatoolbox 0.3.2's stimulus bootstrap of an RDM comparison.

Makes two correlation RDMs over --stimuli stimuli (features and features + noise),
writes them as square .npy to --out, then runs --resamples bootstrap resamples the way
rsatoolbox's `eval_bootstrap_pattern` does (`bootstrap_sample_pattern` on the first RDM,
`subsample_pattern` of the second with the same draw, `compare`), single process, and
prints one JSON object: seconds, value, percentile 95 % interval, versions.

`cargo run --release -p brainlike-metrics --example bench_bootstrap` runs this and times
brainlike-metrics on the same two RDMs.
"""
import argparse, importlib.metadata, json, os, time
import numpy as np
from rsatoolbox.data import Dataset
from rsatoolbox.rdm import calc_rdm, compare, RDMs
from rsatoolbox.inference import bootstrap_sample_pattern

ap = argparse.ArgumentParser()
ap.add_argument("--out", default="/tmp/brainlike-bench-bootstrap")
ap.add_argument("--stimuli", type=int, default=1000)
ap.add_argument("--units", type=int, default=100)
ap.add_argument("--resamples", type=int, default=1000)
ap.add_argument("--method", default="spearman", help="rsatoolbox name (corr, spearman, ...)")
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
os.makedirs(a.out, exist_ok=True)
rng = np.random.default_rng(a.seed)
X = rng.standard_normal((a.stimuli, a.units))
Y = X + 1.5 * rng.standard_normal(X.shape)
ra = calc_rdm(Dataset(X), method="correlation")
rb = calc_rdm(Dataset(Y), method="correlation")
np.save(os.path.join(a.out, "rdm_a.npy"), ra.get_matrices()[0])
np.save(os.path.join(a.out, "rdm_b.npy"), rb.get_matrices()[0])
ra, rb = RDMs(ra.get_vectors()), RDMs(rb.get_vectors())  # with the 'index' descriptor

np.random.seed(a.seed)
t = time.perf_counter()
point = float(compare(ra, rb, method=a.method)[0, 0])
vals = []
for _ in range(a.resamples):
    sa, idx = bootstrap_sample_pattern(ra)
    sb = rb.subsample_pattern("index", idx)
    vals.append(float(compare(sa, sb, method=a.method)[0, 0]))
secs = time.perf_counter() - t
vals = np.array(vals)
vals = vals[np.isfinite(vals)]
print(json.dumps({
    "versions": {p: importlib.metadata.version(p) for p in ["rsatoolbox", "numpy", "scipy"]},
    "stimuli": a.stimuli, "resamples": a.resamples, "method": a.method,
    "bootstrap_s": secs, "value": point,
    "ci_low": float(np.percentile(vals, 2.5)), "ci_high": float(np.percentile(vals, 97.5)),
    "out": a.out,
}))
