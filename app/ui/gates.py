"""The Gates page's cached library calls and renderers (the page script stays a list of steps).

Gate values (the expensive part: a metric over all of history) are cached per data version and gate as a
resource: they hold numpy arrays and functions, are never mutated, and are shared by the backtest and sweeps.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import streamlit as st

from driftdesk.gates import backtest_policy, sweep_gate
from driftdesk.gates.backtest import BacktestResult, SweepResult
from driftdesk.gates.engine import GateValues, gate_values
from driftdesk.gates.metrics import metric_components
from driftdesk.gates.policy import Gate, Policy, decode_policy, encode_policy, load_policy
from driftdesk.paths import sample_data_dir
from ui.data import folder_mtime, load_source, source_folder


def _stamp(source: str) -> float:
    return folder_mtime(source_folder(source))


@st.cache_resource(max_entries=64, show_spinner=False)
def _gate_values(source: str, stamp: float, gate_code: str) -> GateValues:
    gate = decode_policy(gate_code).gates[0]
    series = metric_components(load_source(source), gate.metric, by=gate.by, filter=gate.filter,
                               context=f"gate {gate.name!r}")
    return gate_values(series, gate)


def _gate_key(gate: Gate) -> str:
    return encode_policy(Policy(gates=(gate,)))


def values_of(source: str, policy: Policy) -> list[GateValues]:
    """Every gate's values over history, with a progress bar while anything is computed for the first time."""
    out: list[GateValues] = []
    bar = None
    replayable = [g for g in policy.gates if not g.release_only]  # release checks have no history
    for i, gate in enumerate(replayable):
        if bar is None and len(replayable) > 1:
            bar = st.progress(0.0, text="Replaying the policy on history…")
        if bar is not None:
            bar.progress(i / len(replayable), text=f"Computing {gate.metric} for gate {gate.name} "
                                                   f"({i + 1} of {len(replayable)})…")
        out.append(_gate_values(source, _stamp(source), _gate_key(gate)))
    if bar is not None:
        bar.empty()
    return out


def backtest_of(source: str, policy: Policy, values: list[GateValues]) -> BacktestResult:
    return backtest_policy(load_source(source), policy, values=values)


def sweep_of(source: str, policy: Policy, gate: str, values: list[GateValues], current: dict | None) -> SweepResult:
    return sweep_gate(load_source(source), policy, gate, values=values, current=current)


def default_policy(source: str) -> Policy | None:
    """The data folder's own policy.toml, else the bundled sample policy."""
    for folder in (source_folder(source), sample_data_dir()):
        path = Path(folder) / "policy.toml"
        if path.exists():
            return load_policy(path)
    return None


def fmt(value, spec: str = ".2f", unit: str = "") -> str:
    return "undefined" if value is None else f"{value:{spec}}{unit}"


def render_summary(result: BacktestResult) -> None:
    caught = int(result.incidents["caught"].sum()) if result.incidents.height else 0
    n_hist = int(result.incidents["in_history"].sum()) if result.incidents.height else 0
    cols = st.columns(4)
    cols[0].metric("Incidents caught (recall)", f"{caught} of {n_hist}", help=f"Recall {fmt(result.recall, '.0%')}: "
                   "share of labelled incidents with at least one alert inside "
                                           f"[start, end + {result.grace_hours:g} h].")
    cols[1].metric("Precision", fmt(result.precision, ".0%"), help=result.score.reasons.get(
        "precision", "Share of alerts that fell inside an incident window."))
    cols[2].metric("Alerts per week", f"{result.alerts_per_week:.2f}",
                   help=f"{result.score.alerts} alerts over {(result.span_end - result.span_start).days} days.")
    cols[3].metric("Median detection delay", fmt(result.median_delay_hours, ".0f", " h"),
                   help=result.score.reasons.get("median_delay_hours", "From incident start to its first alert."))
    for reason in result.score.reasons.values():
        st.info(reason)
    st.caption("Reference points: the same figures if the policy never fired, and if it fired every hour.")
    st.dataframe(result.summary(), hide_index=True, width="stretch", column_config={
        "precision": st.column_config.NumberColumn(format="%.2f"),
        "recall": st.column_config.NumberColumn(format="%.2f"),
        "alerts_per_week": st.column_config.NumberColumn("alerts / week", format="%.2f"),
        "median_delay_hours": st.column_config.NumberColumn("median delay (h)", format="%.1f"),
    })


def incidents_table(result: BacktestResult) -> pl.DataFrame:
    return result.incidents.select(
        "incident_id", "layer", "severity", "segment", "start", "end",
        pl.when(pl.col("caught")).then(pl.lit("caught")).when(pl.col("in_history")).then(pl.lit("missed"))
        .otherwise(pl.lit("outside history")).alias("result"),
        "delay_hours", "first_alert", "caught_by",
    )


def render_backtest(result: BacktestResult) -> None:
    st.plotly_chart(result.to_figure(), width="stretch", key="gates_timeline")
    left, right = st.columns([3, 2])
    with left:
        st.markdown("**Incidents: caught or missed**")
        st.dataframe(incidents_table(result), hide_index=True, width="stretch", column_config={
            "delay_hours": st.column_config.NumberColumn("delay (h)", format="%.0f")})
    with right:
        st.markdown("**Alerts per gate**")
        st.dataframe(result.per_gate, hide_index=True, width="stretch")
    with st.expander(f"All {result.alerts.height} alerts"):
        st.dataframe(result.alerts, hide_index=True, width="stretch")
    for note in result.notes:
        st.caption(f"Note: {note}")
