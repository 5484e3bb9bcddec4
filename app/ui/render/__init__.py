"""One render function per result type: pages read controls, call one loader, and hand its result to one of these.

Numbers are formatted by the library (``driftdesk.format.format_value``, a metric's ``.format()``, the result's own
sentences); values from data are escaped before they reach markdown and never rendered as HTML (``text.md``).
"""

from ui.render.calibration import render_calibration
from ui.render.data import render_calendar, render_contract, render_files
from ui.render.drift import render_drift
from ui.render.gates import render_backtest, render_sweep
from ui.render.impact import render_impact
from ui.render.incidents import render_incident
from ui.render.llm import render_llm
from ui.render.overview import render_overview, render_summary
from ui.render.rollout import render_rollout
from ui.render.seasonality import render_seasonality, render_segment_verdicts
from ui.render.text import describe_windows, md, show_error, table

__all__ = [
    "describe_windows",
    "md",
    "render_backtest",
    "render_calendar",
    "render_calibration",
    "render_contract",
    "render_drift",
    "render_files",
    "render_impact",
    "render_incident",
    "render_llm",
    "render_overview",
    "render_rollout",
    "render_seasonality",
    "render_segment_verdicts",
    "render_summary",
    "render_sweep",
    "show_error",
    "table",
]
