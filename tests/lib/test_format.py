"""One display format per unit: hand cases, and any value of any size and sign prints without error."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from driftdesk.format import MISSING, format_value

UNITS = ("usd", "rate", "ms", "count", "ratio", "score", "tokens", "pp", "change", "p_value")


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.0031, "usd", "$0.0031"), (22.8, "usd", "$22.80"), (12345.6, "usd", "$12,346"), (-5, "usd", "-$5.00"),
    (0, "usd", "$0.00"), (1e-7, "usd", "< $0.0001"), (1, "usd", "$1.00"),
    (0.029, "rate", "2.90%"), (0.5, "rate", "50.0%"), (1, "rate", "100.0%"), (0, "rate", "0.0%"),
    (0.012, "pp", "+1.2 pp"), (-0.004, "pp", "-0.4 pp"),
    (0.14, "change", "+14%"), (-0.5, "change", "-50%"), (math.inf, "change", "+∞"),
    (0.0004, "p_value", "< 0.001"), (0.2, "p_value", "0.200"), (1, "p_value", "1.000"),
    (12345, "count", "12,345"), (12.5, "count", "12.5"), (0, "count", "0"),
    (812.4, "ms", "812 ms"), (2.25, "ms", "2.2 ms"), (287.5, "tokens", "288 tokens"),
    (3.456, "ratio", "3.46"), (0.01234, "score", "0.0123"),
    (None, "usd", MISSING), (math.nan, "rate", MISSING), (-math.inf, "count", "-∞"),
    (1e20, "usd", "$1e+20"), (-1e300, "count", "-1e+300"), (2e16, "rate", "2e+18%"),
])
def test_hand_cases(value, unit, text):
    assert format_value(value, unit) == text


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
