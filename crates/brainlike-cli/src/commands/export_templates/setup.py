"""Installs the {{IDENTIFIER}} plugin's requirements (`pip install .` in this folder)."""
from setuptools import setup

setup(
    name='{{IDENTIFIER}}',
    version='0.1.0',
    description='Brain-Score vision plugin for {{IDENTIFIER}} (exported by brainlike)',
    install_requires=[{{REQUIREMENTS_PY}}],
    py_modules=[],
)
