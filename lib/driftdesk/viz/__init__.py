"""Plotly figure builders: ``fn(result) -> go.Figure``. The only package that imports plotly.

Each module draws one kind of result (``timeline.py`` for the Overview, ...). Result objects call these
from their ``to_figure()``, importing the module only then, so the library imports without plotly's cost.
A builder reads the result it is given through its attributes and never imports the analysis modules (not
even for type hints), so imports run one way: analysis -> viz.
"""
