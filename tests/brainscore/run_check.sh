#!/usr/bin/env bash
# Installs brainscore-vision (in a virtual environment that sees the system's torch) and
# checks a Brain-Score plugin exported by brainlike against `brainlike extract`:
#
#   tests/brainscore/run_check.sh [VENV_DIR]
#
# Builds brainlike, makes a CORnet-Z weights file and a few images (the Rust test
# `export_brainscore` does this too), exports the plugin, extracts with brainlike, and runs
# check_plugin.py. VENV_DIR defaults to target/brainscore-venv.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/target/brainscore-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv --system-site-packages "$venv"
fi
# brainscore-vision pins numpy<2, scikit-learn<1.6 and xarray; torch and torchvision come from
# the system when present (brainscore-vision needs torch>=2.6).
"$venv/bin/python" -m pip install --quiet brainscore-vision safetensors
"$venv/bin/python" -c "import brainscore_vision, torch, safetensors; print('brainscore-vision ready, torch', torch.__version__)"
cd "$root"
BRAINLIKE_PYTHON="$venv/bin/python" cargo test --release -j 1 -p brainlike-cli --test export_brainscore \
  -- --nocapture plugin_activations_match_brainlike_extract
