"""One display format per unit, so a number reads the same in every sentence the library writes.

``format_value(value, unit)``: money with its currency symbol, rates and shares as percentages, percentage-point
changes as "pp", relative changes with a sign, p-values as "< 0.001", counts with thousands separators, and
"–" for a missing or undefined value. Values beyond ±1e15 switch to three significant digits.
"""

from __future__ import annotations

import math
from typing import Literal

FormatUnit = Literal["usd", "rate", "ms", "count", "ratio", "score", "tokens", "pp", "change", "p_value"]
MISSING = "–"
_HUGE = 1e15


def format_value(value: float | int | None, unit: FormatUnit | str) -> str:
    """A value as a reader expects it in a sentence: $0.0031, 2.9%, +1.2 pp, +14%, < 0.001, 1,234, 812 ms.

    Units: ``usd``; ``rate`` (a share, 0.029 -> 2.9%); ``pp`` (a difference of two shares, 0.012 -> +1.2 pp);
    ``change`` (a relative change, 0.14 -> +14%); ``p_value``; ``count``; ``ms``; ``tokens``; ``ratio``
    (ROAS 3.45); ``score``. An unknown unit prints the plain number.
    """
    if value is None or isinstance(value, bool):
        return MISSING if value is None else str(value)
    v = float(value)
    if math.isnan(v):
        return MISSING
    if math.isinf(v):
        return ("+" if unit in ("pp", "change") and v > 0 else "-" if v < 0 else "") + "∞"
    if unit == "usd":
        return _money(v)
    if unit == "rate":
        return _percent(v, 1 if abs(v) >= 0.1 or v == 0 else 2)
    if unit == "pp":
        return f"{100 * v:+.1f} pp" if abs(v) < _HUGE else f"{_hundredfold(v, '+')} pp"
    if unit == "change":
        return f"{v:+.0%}" if abs(v) < _HUGE else f"{_hundredfold(v, '+')}%"
    if unit == "p_value":
        return "< 0.001" if v < 0.001 else _number(v, 3)
    if unit == "count":
        return _number(v, 0 if v == int(v) or abs(v) >= 100 else 1)
    if unit == "ms":
        return _number(v, 0 if abs(v) >= 10 else 1) + " ms"
    if unit == "tokens":
        return _number(v, 0 if abs(v) >= 100 else 1) + " tokens"
    if unit == "score":
        return _number(v, 4)
    return _number(v, 2)


def _money(v: float) -> str:
    """Dollars: whole above $1,000, cents above $0.10, four decimals below (LLM calls cost fractions of a cent)."""
    sign, a = ("-" if v < 0 else ""), abs(v)
    if 0 < a < 0.0001:
        return f"{'> -' if v < 0 else '< '}$0.0001"
    return sign + "$" + _number(a, 0 if a >= 1000 else 2 if a >= 0.1 or a == 0 else 4)


def _number(v: float, decimals: int) -> str:
    return f"{v:,.{decimals}f}" if abs(v) < _HUGE else f"{v:.3g}"


def _percent(v: float, decimals: int) -> str:
    return f"{v:.{decimals}%}" if abs(v) < _HUGE else f"{_hundredfold(v)}%"


def _hundredfold(v: float, sign: str = "") -> str:
    """100 * v to three significant digits, without overflowing to inf near 1.8e308."""
    if abs(v) < 1e300:
        return f"{100 * v:{sign}.3g}"
    mantissa, exponent = f"{v:{sign}.2e}".split("e")
    return f"{float(mantissa):{sign}.3g}e+{int(exponent) + 2}"
