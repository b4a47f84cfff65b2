"""A brainlike CORnet-Z in PyTorch: loads a run's weights.safetensors into CORnet-Z written
with the official CORnet module names (load_state_dict(strict=True)), applies the recorded
preprocessing, and compares PyTorch's logits with `brainlike extract` on the same inputs.

    python bench/cornet_torch_roundtrip.py RUN_DIR [--brainlike target/release/brainlike]

Needs torch and safetensors. Prints the largest logit difference; exits 1 above 1e-4
relative.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "crates", "brainlike-core",
                                "tests", "fixtures", "cornet"))
os.chdir(os.path.dirname(os.path.abspath(__file__)))  # make_fixture writes beside itself
from make_fixture import cornet_z  # noqa: E402  (official CORnet-Z module names)

p = argparse.ArgumentParser()
p.add_argument("run")
p.add_argument("--brainlike", default=os.path.join("..", "target", "release", "brainlike"))
a = p.parse_args()
w = os.path.join(a.run, "weights.safetensors")
with safe_open(w, "pt") as f:
    meta = f.metadata()
pre = json.loads(meta["preprocessing"])
state = load_file(w)
classes = state["decoder.linear.weight"].shape[0]
model = cornet_z(classes).eval()
model.load_state_dict(state, strict=True)
print(f"loaded {w} with strict=True: {len(state)} tensors, {classes} classes, "
      f"preprocessing {pre}")

rng = np.random.default_rng(0)
s = pre["input_size"]
pixels = rng.random((8, 3, s, s), dtype=np.float32)
mean = np.array(pre["mean"], np.float32)[None, :, None, None]
std = np.array(pre["std"], np.float32)[None, :, None, None]
x = ((pixels - mean) / std).astype(np.float32)
with torch.no_grad():
    theirs = model(torch.from_numpy(x)).numpy()
with tempfile.TemporaryDirectory() as d:
    np.save(os.path.join(d, "x.npy"), x)
    subprocess.run([a.brainlike, "extract", "--run", a.run, "--inputs", os.path.join(d, "x.npy"),
                    "--layers", "logits", "--out", d], check=True)
    ours = np.load(os.path.join(d, "logits.npy"))
err = np.abs(ours - theirs).max() / np.abs(theirs).max()
print(f"max |brainlike - PyTorch| / max |PyTorch| = {err:.2e} over {x.shape[0]} inputs; "
      f"argmax equal: {(ours.argmax(1) == theirs.argmax(1)).all()}")
sys.exit(0 if err < 1e-4 else 1)
