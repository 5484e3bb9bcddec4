"""The Gates page's results: which policy the page opened on, the proposal's figures beside the adopted and default
policies', the backtest's figures and timeline, each incident caught or missed with its delay, and one gate's sweep."""

from __future__ import annotations

import polars as pl
import streamlit as st

from driftdesk.format import format_value
from driftdesk.gates.view import PROPOSAL, GatesView, OpeningPolicy
from ui.render.text import md, table

SUMMARY_UNITS = {"alerts": "count", "matched_alerts": "count", "precision": "rate", "recall": "rate",
                 "alerts_per_week": "ratio", "median_delay_hours": "count"}
SWEEP_UNITS = {"threshold": "score", "consecutive": "count", "alerts": "count", "alerts_per_week": "ratio",
               "precision": "rate", "recall": "rate", "median_delay_hours": "count", "mean_delay_hours": "count",
               "incidents_caught": "count"}
STARTER_UNITS = {"evaluations": "count", "median": "score", "quantile": "score", "threshold": "score"}
DIFFERENCE_UNITS = {"rate": "pp", "ratio": "ratio", "count": "count"}


def _hours(value: float | None) -> str:
    return format_value(value, "count") + ("" if value is None else " h")


def render_opening(opening: OpeningPolicy, *, on_screen: bool) -> None:
    """Which policy the page opens on and why (``on_screen``: it is the one shown, not a proposal from a link), and
    how a starter policy's thresholds were read from the data."""
    if on_screen:
        st.info(md(opening.sentence))
    else:
        st.caption(f"A proposal (from the link or the form). Without one the page shows {md(opening.label)}.")
    for note in opening.notes:  # a policy the reader expected is not the one shown: say so where it is seen
        st.warning(f"Passed over: {md(note)}", icon=":material/warning:")
    if opening.starter is not None:
        with st.expander("How the starter policy's thresholds were read from this data"):
            st.caption("Each gate is evaluated at every hour of history; its threshold is the median plus twice the "
                       "distance to the 95th percentile in the direction it alerts (at least 5% or 5 points past the "
                       "median), rounded to two significant digits. Release checks use the sample policy's rule of "
                       "thumb.")
            table(opening.starter.thresholds, units=STARTER_UNITS)
            for note in opening.starter.notes:
                st.caption(f"Note: {md(note)}")


def _cell(row: dict) -> str:
    if row["figure"] == "incidents_caught":
        return "–" if row["value"] is None else (f"{format_value(row['value'], 'count')} of "
                                                 f"{format_value(row['incidents'], 'count')}")
    text = format_value(row["value"], row["unit"])
    return text + (" h" if row["figure"] == "median_delay_hours" and row["value"] is not None else "")


def _difference(row: dict) -> str:
    d = row["difference"]
    if d is None:
        return "–"
    if abs(d) < 1e-12:
        return "same"
    unit = DIFFERENCE_UNITS[row["unit"]]
    text = format_value(d, unit) if unit == "pp" else ("+" if d > 0 else "") + format_value(d, unit)
    better = (d > 0) == (row["better"] == "higher")
    return text + (" h" if row["figure"] == "median_delay_hours" else "") + (" better" if better else " worse")


def render_comparison(view: GatesView) -> None:
    """Each figure of the proposal beside the compared policies' (adopted, default), with the difference."""
    frame = view.comparison()
    labels = list(dict.fromkeys(frame["policy"].to_list()))
    rows = []
    for name in dict.fromkeys(frame["figure"].to_list()):
        part = {r["policy"]: r for r in frame.filter(pl.col("figure") == name).iter_rows(named=True)}
        row = {"figure": part[PROPOSAL]["label"], "proposal": _cell(part[PROPOSAL])}
        for label in labels[1:]:
            row[label] = _cell(part[label])
            row[f"proposal vs {label}"] = _difference(part[label])
        rows.append(row)
    st.markdown("**The proposal beside " + " and ".join(md(label) for label in labels[1:]) + "**"
                if len(labels) > 1 else "**The proposal's figures**")
    table(pl.DataFrame(rows))
    if not view.has_incidents:
        st.caption("Recall, precision, delays and incidents caught need an incidents table; alerts per week does not.")


def render_rules(policy) -> None:
    """Each gate of the policy and its rule in words."""
    table(pl.DataFrame({"gate": [g.name for g in policy.gates], "rule": [g.describe() for g in policy.gates]},
                       schema={"gate": pl.String, "rule": pl.String}))


def render_backtest(view: GatesView) -> None:
    """What the policy would have done on history: figures, timeline, incidents, alerts."""
    result = view.backtest
    caught, in_history = view.caught
    cols = st.columns(4)
    if view.has_incidents:
        cols[0].metric("Incidents caught (recall)", f"{format_value(caught, 'count')} of "
                       f"{format_value(in_history, 'count')}",
                       help=f"Recall {format_value(result.recall, 'rate')}: share of labelled incidents with at least "
                            f"one alert inside [start, end + {format_value(result.grace_hours, 'count')} h].")
    else:
        cols[0].metric("Incidents caught (recall)", "no log",
                       help="Recall needs a log of known incidents (start and end times) beside the data.")
    cols[1].metric("Precision", format_value(result.precision, "rate"), help=md(result.score.reasons.get(
        "precision", "Share of alerts that fell inside an incident window.")))
    cols[2].metric("Alerts per week", format_value(result.alerts_per_week, "ratio"),
                   help=f"{format_value(result.score.alerts, 'count')} alerts over "
                        f"{format_value((result.span_end - result.span_start).days, 'count')} days.")
    cols[3].metric("Median detection delay", _hours(result.median_delay_hours),
                   help=md(result.score.reasons.get("median_delay_hours", "From incident start to its first alert.")))
    if view.has_incidents:
        for reason in result.score.reasons.values():
            st.info(md(reason))
    else:
        st.info("There is no incidents table, so alerts cannot be judged true or false: the figures below are the "
                "alerts per week, the timeline and the sweeps. Add a file of known incidents (start, end) to the data "
                "folder to measure recall, precision and detection delays.")
    st.caption("Reference points: the same figures if the policy never fired, and if it fired every hour.")
    table(result.summary(), units=SUMMARY_UNITS, column_config={
        "alerts_per_week": st.column_config.NumberColumn("alerts / week"),
        "median_delay_hours": st.column_config.NumberColumn("median delay (h)")})
    if result.alerts.height or result.incidents.height:
        st.plotly_chart(result.to_figure(), width="stretch", key="gates_timeline")
    else:
        st.caption("No alert in the replayed history, and no incident to show: the timeline would be empty.")
    if view.has_incidents:
        st.markdown("**Incidents: caught or missed, and how late**")
        table(view.incidents(), units={"delay_hours": "count"},
              column_config={"delay_hours": st.column_config.NumberColumn("delay (h)")})
    st.markdown("**Alerts per gate**")
    table(result.per_gate, units={"alerts": "count", "matched_alerts": "count"})
    with st.expander(f"All {format_value(result.alerts.height, 'count')} alerts"):
        table(result.alerts, units={"value": "score", "threshold": "score"})
    if len(result.notes) > 3:
        with st.expander(f"Notes ({format_value(len(result.notes), 'count')})"):
            for note in result.notes:
                st.caption(md(note))
    else:
        for note in result.notes:
            st.caption(f"Note: {md(note)}")


def render_sweep(view: GatesView) -> None:
    """One gate's threshold swept, or why it cannot be (a release check has no history)."""
    gate = view.gate
    if view.sweep is None:
        st.info(f"{md(gate.name)} is a release check ({md(gate.metric)}, {md(gate.comparison)}): it compares a "
                "candidate with a baseline in `driftdesk gates check`, so there is no history to sweep it on.")
        return
    sweep = view.sweep
    where = ("labelled with its threshold" if view.has_incidents else "read against its threshold (x axis)")
    marks = (f"The star marks the proposal's values, the same as {md(sweep.current_label)}'s."
             if sweep.current == sweep.proposed else
             f"The square marks {md(sweep.current_label)}'s values, the star the proposal's (the form)."
             if sweep.current else "The star marks the proposal's values (the form).")
    st.caption(f"Each point is the whole policy with this gate's threshold (and breaches in a row) changed, {where}. "
               + marks)
    st.plotly_chart(sweep.to_figure(), width="stretch", key="gates_sweep")
    with st.expander("Sweep points"):
        table(sweep.frame, units=SWEEP_UNITS)


def render_history(history: pl.DataFrame) -> None:
    """The versions adopted for this data, newest first, their figures as the backtest showed them."""
    st.markdown("**Versions adopted for this data**")
    table(history.drop("path", "dataset"), units={**SUMMARY_UNITS, "incidents_caught": "count", "incidents": "count"},
          missing={"precision": "no alerts to score, or no incidents table", "recall": "no incidents table",
                   "median_delay_hours": "no incident caught"})
