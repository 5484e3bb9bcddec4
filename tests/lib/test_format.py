"""One display format per unit: hand cases, and any value of any size and sign prints without error, keeps its sign
and shows its size (the number read back from the text is the value, to the precision shown)."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.format import MISSING, axis_format, difference_unit, format_difference, format_value

UNITS = ("usd", "rate", "ms", "count", "ratio", "score", "tokens", "pp", "change", "p_value")


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.0031, "usd", "$0.0031"), (22.8, "usd", "$22.80"), (12345.6, "usd", "$12,346"), (-5, "usd", "-$5.00"),
    (0, "usd", "$0.00"), (1e-7, "usd", "< $0.000001"), (1, "usd", "$1.00"), (0.0004, "usd", "$0.00040"),
    (4_000_000, "usd", "$4,000,000"), (0.00042, "usd", "$0.00042"),
    (0.029, "rate", "2.90%"), (0.5, "rate", "50.0%"), (1, "rate", "100.0%"), (0, "rate", "0.0%"),
    (0.0004, "rate", "0.040%"), (0.99996, "rate", "99.996%"), (0.000004, "rate", "0.00040%"),
    (0.012, "pp", "+1.2 pp"), (-0.004, "pp", "-0.40 pp"), (-0.00031, "pp", "-0.031 pp"), (0, "pp", "0.0 pp"),
    (0.14, "change", "+14%"), (-0.5, "change", "-50%"), (math.inf, "change", "+∞"), (0.019, "change", "+1.9%"),
    (-0.004, "change", "-0.40%"),
    (0.0004, "p_value", "< 0.001"), (0.2, "p_value", "0.200"), (1, "p_value", "1.000"),
    (12345, "count", "12,345"), (12.5, "count", "12.5"), (0, "count", "0"),
    (812.4, "ms", "812 ms"), (2.25, "ms", "2.2 ms"), (287.5, "tokens", "288 tokens"),
    (3.456, "ratio", "3.46"), (0.01234, "score", "0.0123"), (0.0004, "ratio", "0.00040"),
    (None, "usd", MISSING), (math.nan, "rate", MISSING), (-math.inf, "count", "-∞"),
    (1e20, "usd", "$1e+20"), (-1e300, "count", "-1e+300"), (2e16, "rate", "2e+18%"),
])
def test_hand_cases(value, unit, text):
    assert format_value(value, unit) == text


def test_money_in_another_currency_and_signed_amounts():
    assert format_value(1234.5, "usd", currency="EUR") == "€1,234"
    assert format_value(12.5, "usd", currency="CHF") == "12.50 CHF"
    assert format_value(1.2, "usd", signed=True) == "+$1.20"
    assert format_value(-1.2, "usd", signed=True) == "-$1.20"


def test_a_difference_of_rates_is_in_percentage_points():
    assert difference_unit("rate") == "pp" and difference_unit("usd") == "usd"
    assert format_difference(-0.0008, "rate") == "-0.080 pp"
    assert format_difference(1.5, "usd") == "+$1.50"
    assert format_difference(-0.25, "ratio") == "-0.25"
    assert format_difference(None, "rate") == MISSING


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.none(), st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30)),
       st.sampled_from(UNITS))
def test_any_value_prints_short_and_never_as_nan(value, unit):
    text = format_value(value, unit)
    assert isinstance(text, str) and text
    assert "nan" not in text.lower() and "inf" not in text.lower()
    assert len(text) <= 30
    if value is None or (isinstance(value, float) and math.isnan(value)):
        assert text == MISSING


@given(st.floats(min_value=1, max_value=1e300), st.booleans(), st.sampled_from(("usd", "count", "ratio", "ms", "pp")))
def test_sign_is_kept(size, negative, unit):
    value = -size if negative else size
    assert format_value(value, unit).startswith("-") == negative


def _read_back(text: str) -> float:
    """The number a reader sees in a formatted text (percent and pp read as hundredths)."""
    number = float(re.sub(r"[^0-9eE.+-]", "", text.replace("e+", "E+").replace(",", "")).strip("+") or "nan")
    return number / 100 if text.endswith(("%", " pp")) else number


@settings(max_examples=400, deadline=None)
@given(st.floats(min_value=1e-5, max_value=1e14), st.booleans(),
       st.sampled_from(("usd", "rate", "pp", "change", "ratio", "score", "ms", "count")))
def test_the_number_shown_is_the_value_to_two_significant_digits(size, negative, unit):
    value = -size if negative else size
    text = format_value(value, unit)
    if unit == "count" and abs(value) < 100 and value != int(value):  # a count below 100 keeps one decimal
        assert abs(_read_back(text) - value) <= 0.05 + 1e-9
        return
    if unit == "count" or (unit == "ms" and abs(value) < 0.01):
        return
    shown = _read_back(text)
    assert shown == pytest.approx(value, rel=0.05), text  # never rounded to zero, never a wrong order of magnitude


@settings(max_examples=300, deadline=None)
@given(st.floats(min_value=0, max_value=1))
def test_a_share_reads_as_0_or_100_percent_only_when_it_is(share):
    text = format_value(share, "rate")
    assert text.endswith("%")
    if share not in (0.0, 1.0):
        assert text not in ("0.0%", "100.0%"), (share, text)
    assert (text == "0.0%") == (share == 0.0) and (text == "100.0%") == (share == 1.0)


@given(st.sampled_from(UNITS))
def test_every_unit_has_an_axis_format(unit):
    spec = axis_format(unit)
    assert "tickformat" in spec
