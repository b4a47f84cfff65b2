"""Checks a plugin written by `brainlike export brainscore` with brainscore-vision's own
machinery: the plugin registers its model in `brainscore_vision.model_registry`, building
the `ModelCommitment` loads the weights strictly, and the activations that Brain-Score's
`PytorchWrapper` extracts (its preprocessing, hooks and flattening) at every committed layer
equal `brainlike extract`'s `.npy` files for the same images.

    python tests/brainscore/check_plugin.py --plugin DIR --images DIR --extract DIR [--tol 1e-4]

--extract is the output folder of `brainlike extract --images DIR --layers <taps>[,penultimate]`
on the same weights (penultimate.npy, when there, is compared with the plugin's read-out
layer). Exits 0 when every layer agrees within --tol (max |difference| / max |value|),
1 otherwise, 2 on bad input. Needs brainscore-vision 2.x, torch, torchvision, safetensors.
"""
import argparse
import importlib.util
import json
import os
import sys

import numpy as np

# Brain-Score caches activations by identifier on disk; a check must compute them afresh.
os.environ.setdefault('RESULTCACHING_DISABLE', '1')


def load_plugin(plugin_dir):
    """Imports the plugin folder as a package (as brainscore_vision/models/<name> would be)."""
    name = 'brainlike_plugin_' + os.path.basename(os.path.abspath(plugin_dir)).replace('-', '_')
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(plugin_dir, '__init__.py'), submodule_search_locations=[plugin_dir])
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--plugin', required=True)
    p.add_argument('--images', required=True)
    p.add_argument('--extract', required=True)
    p.add_argument('--tol', type=float, default=1e-4)
    a = p.parse_args()

    with open(os.path.join(a.plugin, 'brainlike_export.json')) as f:
        export = json.load(f)
    identifier = export['identifier']
    plugin = load_plugin(a.plugin)
    from brainscore_vision import model_registry
    if identifier not in model_registry:
        print(f'error: the plugin did not register {identifier!r}', file=sys.stderr)
        return 1
    commitment = model_registry[identifier]()
    print(f'{identifier}: ModelCommitment built ({type(commitment).__name__}), '
          f'identifier {commitment.identifier!r}')
    with open(os.path.join(a.plugin, 'region_layer_map', f'{identifier}.json')) as f:
        on_disk = json.load(f)
    if on_disk != plugin.REGION_LAYER_MAP:
        print(f'error: region_layer_map json {on_disk} != __init__.py {plugin.REGION_LAYER_MAP}')
        return 1
    layers = commitment.layers
    missing = [m for m in on_disk.values() if m not in layers]
    if missing:
        print(f'error: committed layers {missing} are not among the layers {layers}')
        return 1

    images = sorted(os.path.join(a.images, f) for f in os.listdir(a.images)
                    if f.lower().endswith(('.png', '.jpg', '.jpeg')))
    with open(os.path.join(a.extract, 'stimuli.txt')) as f:
        ids = [line.strip() for line in f if line.strip()]
    stems = [os.path.splitext(os.path.basename(x))[0] for x in images]
    if stems != ids:
        print(f'error: {a.images} has {stems}, the extraction {ids}', file=sys.stderr)
        return 2

    entries = list(export['layers'])
    if os.path.exists(os.path.join(a.extract, 'penultimate.npy')):
        # The read-out layer for behaviour is brainlike's penultimate representation.
        entries.append({'tap': 'penultimate', 'module': export['readout_layer']})
    modules = [entry['module'] for entry in entries]
    acts = commitment.activations_model(stimuli=images, layers=modules)
    paths = list(acts['stimulus_path'].values)
    order = [paths.index(x) for x in images]
    layer_of = acts['layer'].values
    worst = 0.0
    for entry in entries:
        tap, module = entry['tap'], entry['module']
        theirs = np.asarray(acts.values[:, layer_of == module])[order]
        ours = np.load(os.path.join(a.extract, f'{tap}.npy'))
        if theirs.shape != ours.shape:
            print(f'{tap} ({module}): shape {theirs.shape} in Brain-Score, {ours.shape} in brainlike')
            return 1
        err = float(np.abs(theirs - ours).max() / max(np.abs(theirs).max(), 1e-12))
        worst = max(worst, err)
        print(f'{tap:>10} = {module:<12} {theirs.shape[1]:>7} features: '
              f'max |Brain-Score - brainlike| / max |Brain-Score| = {err:.2e}')
    ok = worst <= a.tol
    print(f'{"OK" if ok else "FAIL"}: worst relative difference {worst:.2e} (tolerance {a.tol:.0e}) '
          f'over {len(images)} images')
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
