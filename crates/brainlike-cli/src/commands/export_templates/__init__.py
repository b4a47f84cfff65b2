"""Brain-Score vision plugin for {{IDENTIFIER}}, written by `brainlike export brainscore`.

Registers the model with Brain-Score: its PyTorch activations (model.py) and its commitment
of one layer per ventral-stream region (also in region_layer_map/{{IDENTIFIER}}.json).
"""
from brainscore_vision import model_registry
from brainscore_vision.model_helpers.brain_transformation import ModelCommitment

from .model import get_layers, get_model

# The layer committed to each region ({{REGION_SOURCE}}).
REGION_LAYER_MAP = {{REGION_LAYER_MAP}}

model_registry['{{IDENTIFIER}}'] = lambda: ModelCommitment(
    identifier='{{IDENTIFIER}}',
    activations_model=get_model('{{IDENTIFIER}}'),
    layers=get_layers('{{IDENTIFIER}}'),
    region_layer_map=dict(REGION_LAYER_MAP),
)
