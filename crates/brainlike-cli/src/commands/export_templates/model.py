"""{{IDENTIFIER}}: a brainlike-trained {{MODEL}} for Brain-Score, written by
`brainlike export brainscore`.

The network is defined below in PyTorch ({{DEFINITION}}); its weights are
`weights.safetensors` beside this file, loaded with `load_state_dict(strict=True)`, so a
missing or extra tensor is an error, not a silently random layer. Images are prepared as
the model was trained: RGB, {{RESIZE}} to {{INPUT_SIZE}} x {{INPUT_SIZE}} ({{INTERPOLATION}}),
pixels in [0, 1], then (x - mean) / std per channel.
"""
import functools
import os

import numpy as np
import torch
from torch import nn
from safetensors.torch import load_file
from torchvision import transforms

from brainscore_vision.model_helpers.activations.pytorch import PytorchWrapper, load_images
from brainscore_vision.model_helpers.check_submission import check_models

IDENTIFIER = '{{IDENTIFIER}}'
WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'weights.safetensors')

# Preprocessing recorded in the weights file's metadata (`preprocessing`).
INPUT_SIZE = {{INPUT_SIZE}}
MEAN = {{MEAN}}
STD = {{STD}}
CROP_FRACTION = {{CROP_FRACTION}}
INTERPOLATION = transforms.InterpolationMode.{{INTERPOLATION_ENUM}}
CLASSES = {{CLASSES}}

# Our layer (tap) names and the PyTorch modules that compute them, in depth order; the last
# entry is the read-out layer for behavioural benchmarks.
LAYERS = {{LAYERS}}


{{BUILD}}

def preprocess(image_filepaths, image_size=INPUT_SIZE):
    """Images at `image_filepaths` as a float32 array `N x 3 x size x size`."""
    if CROP_FRACTION < 1.0:
        resize = [transforms.Resize(int(round(image_size / CROP_FRACTION)), interpolation=INTERPOLATION),
                  transforms.CenterCrop(image_size)]
    else:
        resize = [transforms.Resize((image_size, image_size), interpolation=INTERPOLATION)]
    t = transforms.Compose(resize + [transforms.ToTensor(), transforms.Normalize(mean=MEAN, std=STD)])
    return np.stack([t(image.convert('RGB')).numpy() for image in load_images(image_filepaths)])


def load_network():
    """The PyTorch network with the exported weights, in evaluation mode."""
    model = build()
    model.load_state_dict(load_file(WEIGHTS), strict=True)
    return model.eval()


def get_model(name):
    assert name == IDENTIFIER, f'this plugin provides {IDENTIFIER}, not {name}'
    wrapper = PytorchWrapper(identifier=IDENTIFIER, model=load_network(),
                             preprocessing=functools.partial(preprocess, image_size=INPUT_SIZE))
    wrapper.image_size = INPUT_SIZE
    return wrapper


def get_layers(name):
    assert name == IDENTIFIER, f'this plugin provides {IDENTIFIER}, not {name}'
    return [torch_name for _, torch_name in LAYERS]


def get_bibtex(model_identifier):
    return """{{BIBTEX}}"""


if __name__ == '__main__':
    check_models.check_base_models(__name__)
