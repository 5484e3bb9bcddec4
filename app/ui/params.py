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

# LLM page
LLM_BY = "llm_by"  # group column: model, prompt_version, index_version, feature
LLM_END = "llm_end"  # last day of the current window, YYYY-MM-DD
LLM_DAYS = "llm_days"  # window length in days; the baseline is the same length right before
LLM_METRIC = "llm_metric"  # metric of the trend chart
LLM_BUDGET = "llm_budget"  # daily budget in USD for the burn chart (0 = none)

# Gates page
POLICY = "policy"  # the proposed policy, compact (deflated JSON, base64url): a proposal shared as a link
GATE = "gate"  # the gate being edited and swept, by name
