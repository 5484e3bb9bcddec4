"""The memory budget of a reduction, and the polars streaming collect: what both engines and the readers share."""

from __future__ import annotations

import os
import re
from typing import Literal

import polars as pl

from driftdesk.errors import DriftdeskError

Engine = Literal["polars", "spark"]
Path_ = Literal["exact", "sketch"]
ENGINES: tuple[str, ...] = ("polars", "spark")
BUDGET_ENV = "DRIFTDESK_MEMORY_BUDGET"
EXACT_BYTES_PER_VALUE = 24  # a column read (8 bytes a value), its float64 copy (8) and room to sort it (8)
GROUPED_BYTES_PER_VALUE = 80  # exact quantiles in a streaming group-by: each group's values in lists (measured ~70)
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class MemoryBudgetError(DriftdeskError):
    """An input needs more memory than the budget allows on the chosen path."""


def parse_size(text: str) -> int:
    """Bytes from '3G', '512M', '2.5g', '1073741824' (binary units)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)i?b?\s*", str(text).lower())
    if not m:
        raise DriftdeskError(f"{BUDGET_ENV}={text!r}: write a size such as 3G, 512M or a number of bytes")
    return int(float(m.group(1)) * _UNITS[m.group(2)])


def memory_budget() -> int:
    """The bytes a reduction may hold in memory: ``DRIFTDESK_MEMORY_BUDGET``, else a quarter of physical memory."""
    text = os.environ.get(BUDGET_ENV)
    if text:
        return parse_size(text)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 4
    except (ValueError, OSError, AttributeError):
        return 2**31


def human(nbytes: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:.1f} {unit}" if unit != "B" else f"{int(nbytes)} B"
        nbytes /= 1024
    return f"{nbytes:.1f} TB"


def exact_fits(n_rows: int, n_columns: int = 1) -> bool:
    """Whether sorting ``n_columns`` numeric columns of ``n_rows`` rows at once fits in the budget."""
    return n_rows * n_columns * EXACT_BYTES_PER_VALUE <= memory_budget()


def require_fits(nbytes: float, *, what: str, hint: str) -> None:
    """Refuse, with a message naming the cause, to load ``what`` when it needs more than the budget."""
    budget = memory_budget()
    if nbytes > budget:
        raise MemoryBudgetError(f"{what} needs about {human(nbytes)} in memory, above the memory budget of "
                                f"{human(budget)} ({BUDGET_ENV}); {hint}")


def check_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise DriftdeskError(f"engine must be one of {list(ENGINES)}, got {name!r}")
    return name  # type: ignore[return-value]


def collect(lf: pl.LazyFrame) -> pl.DataFrame:
    """Run a lazy reduction: with polars' streaming engine when it reads files (a scan larger than memory flows
    through in batches), in memory when its rows are already in memory (same numbers on every run: streaming
    sums in an order that can change the last bits)."""
    reads_files = " SCAN " in f" {lf.explain(optimized=False)} "
    return lf.collect(engine="streaming" if reads_files else "auto")
