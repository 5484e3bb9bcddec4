"""Every URL parameter the app reads, in one place (the URL is the app's public interface: keep names stable).

Widgets bound with ``bind="query-params"`` use their ``key`` as the parameter name, so the key constants
below are also the widget keys. Add a line here for each parameter a new page introduces.
"""

from __future__ import annotations

DATA = "data"  # which data: "sample", a folder on the server, or "upload:<hash>"; carried across pages

# Overview
DATE = "date"  # the day shown as "latest", YYYY-MM-DD
SPAN = "span"  # timeline span in days
NUMBERS = "numbers"  # which layer's numbers are open below the cards
EVENTS = "events"  # the releases-and-incidents table is expanded

# Data page
SOURCE = "source"  # which way of choosing data is open: Sample / Folder / Upload
TABLE = "table"  # the table whose columns are being mapped

# Calibration and Segments & impact: the window controls (ui/pickers.py) and each page's own controls
END = "end"  # last day of the current window, YYYY-MM-DD
DAYS = "days"  # current window length in days
VS = "vs"  # baseline: previous week | previous period | previous day
BY = "by"  # segment column (Calibration: one, or "(none)"; Segments & impact: one or more)
SEGMENT = "segment"  # Calibration: the value of `by` whose reliability diagram is shown
BINS = "bins"  # Calibration: number of score bins
STRATEGY = "strategy"  # Calibration: bin edges, uniform | quantile
DELAY = "delay"  # Calibration: label delay in days
METRIC = "metric"  # Segments & impact: CPA | ROAS | CR
MIN_CONV = "min_conv"  # Segments & impact: conversions below which a segment is flagged

# LLM page (its window controls keep their own llm_ names: links shared before the pickers existed still open)
LLM_BY = "llm_by"  # group column: model, prompt_version, index_version, feature
LLM_END = "llm_end"  # last day of the current window, YYYY-MM-DD
LLM_DAYS = "llm_days"  # window length in days; the baseline is the same length right before
LLM_METRIC = "llm_metric"  # metric of the trend chart
LLM_BUDGET = "llm_budget"  # daily budget in USD for the burn chart (0 = none)

# Gates page
POLICY = "policy"  # the proposed policy, compact (deflated JSON, base64url): a proposal shared as a link
GATE = "gate"  # the gate being edited and swept, by name
