"""driftdesk: keep production ML and LLM models honest in performance marketing."""

from driftdesk.contract import TABLES, Dataset, Table, load_dataset, load_table, validate_frame
from driftdesk.errors import ContractError, DriftdeskError, InputFileError, PolicyError, WindowError
from driftdesk.io import scan_table
from driftdesk.windows import Window, day_over_day, week_over_week

__all__ = [
    "TABLES",
    "ContractError",
    "Dataset",
    "DriftdeskError",
    "InputFileError",
    "PolicyError",
    "Table",
    "Window",
    "WindowError",
    "day_over_day",
    "load_dataset",
    "load_table",
    "scan_table",
    "validate_frame",
    "week_over_week",
]
__version__ = "0.1.0"
