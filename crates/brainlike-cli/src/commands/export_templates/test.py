"""Checks of the {{IDENTIFIER}} plugin, run by Brain-Score's CI (pytest) and locally."""
import pytest

import brainscore_vision


@pytest.mark.travis_slow
def test_has_identifier():
    model = brainscore_vision.load_model('{{IDENTIFIER}}')
    assert model.identifier == '{{IDENTIFIER}}'


def test_weights_load_strictly():
    from .model import load_network
    load_network()  # load_state_dict(strict=True) raises on any missing or extra tensor


def test_region_layer_map_names_model_layers():
    from . import REGION_LAYER_MAP
    from .model import IDENTIFIER, get_layers
    assert set(REGION_LAYER_MAP) == {'V1', 'V2', 'V4', 'IT'}
    assert set(REGION_LAYER_MAP.values()) <= set(get_layers(IDENTIFIER))
