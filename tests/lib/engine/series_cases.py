"""The gates' metric series compared across engines: one metric of each kind of reduction (a registered ratio on
the kpis table, ratios, rates, means and a per-success mean on the row tables, null rates, shares, a budget's
hourly sums, calibration bins, PSI of a number and of a text column), with and without segments and a filter."""

from __future__ import annotations

import numpy as np

SERIES = [
    ("null_rate:ctr_7d", ("source",), ()),
    ("psi:ctr_7d", ("geo",), ()),
    ("psi:browser", (), ()),
    ("share:spend", ("geo",), ()),
    ("cpa", ("geo",), (("device", ("mobile", "tablet")),)),
    ("ece", ("model_version",), ()),
    ("budget_burn:spend", ("geo",), ()),
    ("validator_failure_rate", (), ()),
    ("tokens_out_mean", ("feature",), ()),
    ("cost_per_call", ("feature",), ()),
]


def assert_same_series(got, want) -> None:
    """The same grid, segments and notes; components (counts and sums) equal to 1e-9 (sums in another order)."""
    assert (got.start, got.hours, got.segments, got.valid_from, got.notes) == \
        (want.start, want.hours, want.segments, want.valid_from, want.notes)
    assert got.keys.equals(want.keys)
    assert got.components.shape == want.components.shape
    np.testing.assert_allclose(got.components, want.components, rtol=1e-9, atol=1e-9)
