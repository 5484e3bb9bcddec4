"""One display format per kind of number, so a number reads the same in every sentence, table, card and chart.

``format_value(value, unit)``: money with its currency symbol, rates and shares as percentages, percentage-point
differences as "pp", relative changes with a sign, p-values as "< 0.001", counts with thousands separators, and
"–" for a missing or undefined value. ``format_difference(value, unit)`` writes the difference of two values of a
unit (an effect, a change): a signed amount of money, percentage points for a rate. ``axis_format(unit)`` is the
same format as a plotly tick format, so a chart's axis agrees with its labels.

Money is written in the data's currency: a folder declares it once (``currency = "EUR"`` in its driftdesk.toml,
``Dataset.currency``) and each face formats inside ``money_in(dataset.currency)`` (the app for each page run, the
CLI for each command, a notebook in a ``with`` block), so every amount, sentence, axis and export below it reads in
that currency without each function taking it. Like ``decimal.localcontext`` it is a context variable: one
session's currency never leaks into another's thread. An explicit ``currency=`` still wins.

Precision follows the size of the number, never hiding it: at least two significant digits below the usual
decimals (a rate of 0.0004 is 0.04%, a CPA of 0.00042 is $0.00042, an effect of -0.00031 on a rate is
-0.031 pp), a rate that is not exactly 0 or 1 never prints as 0% or 100%, and values beyond ±1e15 switch to three
significant digits. The usual decimals of money are its currency's ISO 4217 minor units (¥1,235 and ¥12 in whole
yen, 5.500 BHD in fils), so a fraction of a yen (an LLM call's cost) still reads ¥0.42, not ¥0.

Chart axes of money other than dollars cannot agree with sentences through a plotly format alone (``axis_format``
says why): they list their ticks where they can go below zero and their range is known, else write the code after
the number (-1.2 EUR) rather than a sign after the symbol.
"""

from __future__ import annotations

import contextlib
import math
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Literal

from driftdesk.errors import DriftdeskError

FormatUnit = Literal["usd", "rate", "ms", "count", "ratio", "score", "tokens", "pp", "change", "p_value"]
MISSING = "–"
HUGE = 1e15  # beyond this a fixed-point number is too long to read: three significant digits instead
_MOST_DECIMALS = 6
# currency code -> symbol written before the amount; any other code is written after it ("1,234 CHF")
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "BRL": "R$"}
# ISO 4217 minor units (decimals of the currency's smallest coin) where they are not two, from the standard's
# current code list (List One, maintained by SIX for ISO): yen and won have no cents, a dinar has 1,000 fils
MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV",
                     "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
# the unit of a difference of two values: a difference of two rates is percentage points, not a rate
DIFFERENCE_UNITS = {"rate": "pp", "pp": "pp", "change": "change"}
DEFAULT_CURRENCY = "USD"
_CURRENCY: ContextVar[str] = ContextVar("driftdesk_currency", default=DEFAULT_CURRENCY)
_CODE = re.compile(r"[A-Za-z]{3}")


def currency_code(value: object, *, where: str = "currency") -> str:
    """An ISO 4217 currency code as written in settings ("eur" -> "EUR"); anything but three letters is refused
    with a message naming ``where`` and the value. Codes without a symbol here print after the amount (1,234 CHF).

    >>> currency_code("eur"), currency_code("CHF")
    ('EUR', 'CHF')
    """
    if not isinstance(value, str) or not _CODE.fullmatch(value.strip()):
        raise DriftdeskError(f"{where}: {value!r} is not a currency code; write the three-letter ISO 4217 code of the "
                             "data's money, e.g. \"USD\", \"EUR\", \"GBP\", \"JPY\" (the default is \"USD\")")
    return value.strip().upper()


def currency_in_effect() -> str:
    """The currency money is written in here: the innermost ``money_in``, else USD."""
    return _CURRENCY.get()


@contextlib.contextmanager
def money_in(currency: str) -> Iterator[str]:
    """Write every amount of money formatted inside the block in ``currency`` (a checked ISO 4217 code).

    >>> with money_in("EUR"):
    ...     format_value(1234.5, "usd"), axis_format("usd")["tickprefix"]
    ('€1,234', '€')
    """
    token = _CURRENCY.set(currency_code(currency))
    try:
        yield _CURRENCY.get()
    finally:
        _CURRENCY.reset(token)


def format_value(value: float | int | None, unit: FormatUnit | str, *, signed: bool = False,
                 currency: str | None = None) -> str:
    """A value as a reader expects it in a sentence: $0.0031, 2.9%, +1.2 pp, +14%, < 0.001, 1,234, 812 ms.

    Units: ``usd`` (money, in ``currency``, by default the one in effect: ``money_in``); ``rate`` (a share, 0.029 -> 2.9%); ``pp`` (a difference
    of two shares, 0.012 -> +1.2 pp); ``change`` (a relative change, 0.14 -> +14%, 0.004 -> +0.4%); ``p_value``;
    ``count``; ``ms``; ``tokens``; ``ratio`` (ROAS 3.45); ``score``. An unknown unit prints the plain number.
    ``signed`` writes a + before a positive amount (pp and change always carry their sign).

    >>> format_value(0.0004, "rate"), format_value(0.99996, "rate"), format_value(1, "rate")
    ('0.040%', '99.996%', '100.0%')
    >>> format_value(-0.00031, "pp"), format_value(1.2, "usd", signed=True), format_value(4_000_000, "usd")
    ('-0.031 pp', '+$1.20', '$4,000,000')
    """
    if value is None or isinstance(value, bool):
        return MISSING if value is None else str(value)
    v = float(value)
    if math.isnan(v):
        return MISSING
    sign = "+" if (signed or unit in ("pp", "change")) and v > 0 else ""
    if math.isinf(v):
        return (sign or ("-" if v < 0 else "")) + "∞"
    if unit == "usd":
        return _signed(_money(v, currency or currency_in_effect()), sign)
    if unit == "rate":
        return _signed(_percent(v), sign)
    if unit == "pp":
        return _signed(_percent(v, suffix=" pp", least=1), sign)
    if unit == "change":
        return _signed(_percent(v, least=0 if abs(v) >= 0.1 else 1), sign)
    if unit == "p_value":
        return "< 0.001" if v < 0.001 else _number(v, 3)
    if unit == "count":
        return sign + _number(v, 0 if v == int(v) or abs(v) >= 100 else 1)
    if unit == "ms":
        return sign + _number(v, _decimals(v, 0 if abs(v) >= 10 else 1)) + " ms"
    if unit == "tokens":
        return sign + _number(v, 0 if abs(v) >= 100 else 1) + " tokens"
    if unit == "score":
        return sign + _number(v, _decimals(v, 4))
    return sign + _number(v, _decimals(v, 2))


def format_difference(value: float | int | None, unit: FormatUnit | str, *, currency: str | None = None) -> str:
    """The difference of two values of ``unit``, signed: a rate's in percentage points, money as +$1.20.

    >>> format_difference(-0.0008, "rate"), format_difference(1.5, "usd"), format_difference(-0.25, "ratio")
    ('-0.080 pp', '+$1.50', '-0.25')
    """
    return format_value(value, DIFFERENCE_UNITS.get(unit, unit), signed=True, currency=currency)


def difference_unit(unit: str) -> str:
    """The unit a difference of two values of ``unit`` is written in (``rate`` -> ``pp``, the others unchanged)."""
    return DIFFERENCE_UNITS.get(unit, unit)


UNIT_WORDS = {"rate": "percent", "pp": "percentage points", "change": "percent change",
              "ms": "milliseconds", "tokens": "tokens", "count": "count", "ratio": "ratio", "score": "score",
              "p_value": "p-value"}


MONEY_WORDS = {"USD": "dollars", "EUR": "euros", "GBP": "pounds", "JPY": "yen", "INR": "rupees", "BRL": "reais"}


def unit_words(unit: str) -> str:
    """What a unit is, in words, for an axis title or a column's help ('percentage points'; money in the currency
    in effect: 'dollars', 'euros', or its code)."""
    if unit == "usd":
        code = currency_in_effect()
        return MONEY_WORDS.get(code, code)
    return UNIT_WORDS.get(unit, unit)


def axis_format(unit: str, *, signed: bool = False, span: float | None = None, currency: str | None = None,
                extent: tuple[float, float] | None = None) -> dict:
    """Plotly axis settings that print ticks as ``format_value`` prints the unit (percent for a rate, the currency
    for money, ' pp' for percentage points). ``span`` (the axis range, in the values' own scale) sets
    enough decimals for neighbouring ticks to differ; ``extent`` (low, high) is the range a chart fixes (a colour
    bar's, a padded axis'), from which ``span`` follows when not given.

    Money other than dollars cannot be a plotly format: plotly's ``$`` writes its locale's currency (set per chart
    in its config, not in the figure), and a tick prefix goes before the sign ("€-1.2" where sentences write
    "-€1.20"). So an axis of euros that stays at or above zero has the prefix (€20); one that can go below zero
    or carries signs lists its ticks (``tickvals``/``ticktext``, written sign first: -€1.20, +€0.50) when
    ``extent`` says its range, else writes the code after the number (-1.2 EUR), as for codes without a symbol
    (CHF) -- never the symbol after a sign."""
    plus = "+" if signed or unit in ("pp", "change") else ""
    percent = unit in ("rate", "change")
    if span is None and extent is not None:
        span = extent[1] - extent[0]
    if span is not None and span > 0 and math.isfinite(span):
        step = span / 5 * (100 if percent else 1)
        digits = min(_MOST_DECIMALS, max(0, math.ceil(-math.log10(step)) + 1))
    else:
        digits = 2 if percent or unit == "pp" else 4
    if percent:
        return {"tickformat": f"{plus}.{digits}~%"}
    if unit == "pp":
        return {"tickformat": f"{plus}.{digits}~f", "ticksuffix": " pp"}
    if unit == "usd":
        code = (currency or currency_in_effect()).upper()
        if code == "USD":
            return {"tickformat": f"{plus}$,.{digits}~f"}
        symbol = CURRENCY_SYMBOLS.get(code)
        if symbol and not signed and (extent is None or min(extent) >= 0):
            return {"tickformat": f",.{digits}~f", "tickprefix": symbol}
        if symbol and extent is not None and all(map(math.isfinite, extent)) and extent[1] > extent[0]:
            return _money_ticks(extent, code, signed=signed)
        return {"tickformat": f"{plus},.{digits}~f", "ticksuffix": f" {code}"}
    if unit in ("ms", "tokens"):
        return {"tickformat": f",.{digits}~f", "ticksuffix": f" {unit}"}
    return {"tickformat": f"{plus},.{digits}~f"}


def _money_ticks(extent: tuple[float, float], currency: str, *, signed: bool = False, count: int = 5) -> dict:
    """About ``count`` round ticks over ``extent`` (steps of 1, 2, 2.5 or 5 times a power of ten), each written as
    a sentence writes the amount: sign, symbol, the currency's decimals below 1,000 (-€1.50, +€0.50 when
    ``signed``, €0.00, ¥1,000), more where the step is finer (€0.0002)."""
    code = currency.upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    low, high = sorted(extent)
    raw = (high - low) / count
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) + (1 if round(step / power, 6) == 2.5 else 0)
    if max(abs(low), abs(high)) < 1000:
        decimals = max(decimals, minor_units(code))
    first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
    values = [round(i * step, decimals + 2) + 0.0 for i in range(first, last + 1)]
    texts = []
    for v in values:
        amount = f"{abs(v):,.{decimals}f}"
        sign = "-" if v < 0 else "+" if signed and v > 0 else ""
        texts.append(sign + (f"{symbol}{amount}" if symbol else f"{amount} {code}"))
    return {"tickmode": "array", "tickvals": values, "ticktext": texts}


def axis_scale(unit: str) -> float:
    """What a value is multiplied by before it is drawn on an axis of ``axis_format(unit)``: percentage points are
    drawn as 100 x the difference of two shares."""
    return 100.0 if unit == "pp" else 1.0


def _signed(text: str, sign: str) -> str:
    """The sign before the amount, inside a bound ("< +0.000001 pp")."""
    return f"< {sign}{text[2:]}" if text.startswith("< ") else sign + text


def _decimals(v: float, usual: int) -> int:
    """``usual`` decimals, or as many as two significant digits need for a small number (at most six)."""
    a = abs(v)
    if a == 0 or a >= 10.0 ** -usual * 10 or not math.isfinite(a):
        return usual
    return min(_MOST_DECIMALS, max(usual, 1 - math.floor(math.log10(a))))


def minor_units(currency: str) -> int:
    """How many decimals an amount of ``currency`` is written with (ISO 4217): 2 for most, 0 for yen and won, 3 for
    the dinars of Bahrain, Kuwait, ..."""
    return MINOR_UNITS.get(currency.upper(), 2)


def _money(v: float, currency: str) -> str:
    """Whole from 1,000; in the currency's minor unit (cents, or whole yen) from ten of them ($0.10, ¥10, 0.010 BHD);
    below, two decimals more, and two significant digits when smaller still (LLM calls cost fractions of a cent,
    and of a yen: ¥0.42, $0.0031)."""
    sign, a = ("-" if v < 0 else ""), abs(v)
    code = currency.upper()
    symbol = CURRENCY_SYMBOLS.get(code)
    if 0 < a < 10.0 ** -_MOST_DECIMALS:
        tiny = f"{10.0 ** -_MOST_DECIMALS:.{_MOST_DECIMALS}f}"
        amount = f"{symbol}{tiny}" if symbol else f"{tiny} {code}"
        return f"{'> -' if v < 0 else '< '}{amount}"
    minor = minor_units(code)
    digits = _number(a, 0 if a >= 1000 else minor if a >= 10.0 ** (1 - minor) or a == 0 else _decimals(a, minor + 2))
    return sign + (f"{symbol}{digits}" if symbol else f"{digits} {code}")


def _number(v: float, decimals: int) -> str:
    return f"{v:,.{decimals}f}" if abs(v) < HUGE else f"{v:.3g}"


def _percent(v: float, *, suffix: str = "%", least: int | None = None) -> str:
    """100 x v with a precision that shows the number: one decimal from 10% (``least`` decimals if given), else two
    significant digits; a share that is not exactly 0 or 1 keeps enough decimals not to read as 0% or 100%."""
    if abs(v) >= HUGE:
        return f"{_hundredfold(v)}{suffix}"
    p = 100 * v + 0.0  # + 0.0 turns -0.0 into 0.0
    decimals = _decimals(p, least if least is not None else (1 if abs(v) >= 0.1 or v == 0 else 2))
    text = f"{p:.{decimals}f}"
    while decimals < _MOST_DECIMALS and p not in (0.0, 100.0, -100.0) and float(text) in (0.0, 100.0, -100.0):
        decimals += 1
        text = f"{p:.{decimals}f}"
    if float(text) == 0 and p != 0:  # beyond six decimals: say how small rather than print a zero
        return f"{'> -' if p < 0 else '< '}{10.0 ** -_MOST_DECIMALS:.{_MOST_DECIMALS}f}{suffix}"
    return text + suffix


def _hundredfold(v: float, sign: str = "") -> str:
    """100 * v to three significant digits, without overflowing to inf near 1.8e308."""
    if abs(v) < 1e300:
        return f"{100 * v:{sign}.3g}"
    mantissa, exponent = f"{v:{sign}.2e}".split("e")
    return f"{float(mantissa):{sign}.3g}e+{int(exponent) + 2}"
