"""Gates: edit a policy in a form, see what it would have done on history beside the adopted policy, sweep a
threshold, adopt it.

The page opens on the version adopted for this data, else the folder's policy.toml when it fits the data, else a
starter policy generated from the data (the library's opening_policy, which says which). The proposed policy
lives in the URL (`policy`, compact) with the gate being edited (`gate`), so a proposal is a link. The page holds
the form and the adopt step; the library's gates_view replays, matches, compares and sweeps (cached in
ui/loaders.py), and ui/render draws the result.
"""

from __future__ import annotations

import hashlib

import streamlit as st

from driftdesk.errors import DriftdeskError
from driftdesk.gates.metrics import available_metrics, segment_columns
from driftdesk.gates.policy import (
    ACTIONS,
    CHANGES,
    COMPARISONS,
    DIRECTIONS,
    Policy,
    decode_policy,
    encode_policy,
    format_hours,
    parse_gate,
)
from driftdesk.tracking import adopt_policy, dataset_key, latest_adopted, policy_history
from ui import params
from ui.data import current_source, source_folder
from ui.loaders import current_dataset, gates_view_of, opening_of
from ui.render import md, show_error
from ui.render.gates import (
    render_backtest,
    render_comparison,
    render_history,
    render_opening,
    render_rules,
    render_sweep,
)

WINDOWS = ("1h", "2h", "3h", "6h", "12h", "24h", "48h", "72h", "7d")
STEPS = ("1h", "6h", "1d")

st.title("Gates")
st.caption("Would this policy have caught our incidents, how late, and how many false alarms would it have raised? "
           "Edit the gates below; the URL keeps the proposal, so you can share it as a link.")
source = current_source()
dataset = current_dataset(source)
if dataset is None:
    st.stop()

# ---------------------------------------------------------------- the policy this data opens on, and the proposal
data_key = dataset_key(source_folder(source))
adopted = latest_adopted(data_key)
adopted_policy = None
if adopted is not None:
    try:
        adopted_policy = adopted.load()
    except DriftdeskError as exc:
        st.warning(f"The version adopted last ({md(adopted.label)}) cannot be read: {md(exc)}")
try:
    opening = opening_of(source, adopted=adopted_policy, adopted_label=f"adopted {adopted.label}" if adopted else "")
except DriftdeskError as exc:
    show_error("No gate policy can be made for this data.", exc)
    st.stop()
policy: Policy | None = None
code = st.query_params.get(params.POLICY)
if code:
    try:
        policy = decode_policy(code)
    except DriftdeskError as exc:
        st.warning(f"The policy in the link cannot be used ({md(exc)}); showing {md(opening.label)} instead.")
if policy is None:
    policy = opening.policy
code = encode_policy(policy)
render_opening(opening, on_screen=code == encode_policy(opening.policy))
# what the proposal is compared with: the adopted version (what adopting replaces), and the default
compare = [(opening.label, opening.policy)] if opening.origin == "adopted" else []
compare.append((opening.default_label, opening.default))


def set_policy(new: Policy) -> None:
    st.query_params[params.POLICY] = encode_policy(new)


names = [g.name for g in policy.gates]
wanted = st.query_params.get(params.GATE)
gate_index = names.index(wanted) if wanted in names else 0
form_id = hashlib.sha1(code.encode()).hexdigest()[:8]


def _pick_gate() -> None:
    st.query_params[params.GATE] = st.session_state[f"gate_pick_{form_id}"]


# ---------------------------------------------------------------- the gates, and a form for one of them
st.subheader(f"Policy {md(policy.name)}")
render_rules(policy)

top = st.columns([2, 1, 1, 1])
selected = top[0].selectbox("Gate to edit and sweep", names, index=gate_index, key=f"gate_pick_{form_id}",
                            on_change=_pick_gate)
gate_index = names.index(selected)
gate = policy.gates[gate_index]
if top[1].button("Add a gate", help="A copy of this gate, to edit", width="stretch"):
    copy_name = f"{gate.name}_2"
    while copy_name in names:
        copy_name += "_2"
    set_policy(policy.with_gate(parse_gate({**gate.to_dict(), "name": copy_name}), len(names)))
    st.query_params[params.GATE] = copy_name
    st.rerun()
if top[2].button("Remove this gate", disabled=len(names) == 1, width="stretch"):
    set_policy(Policy(gates=tuple(g for g in policy.gates if g.name != gate.name), name=policy.name,
                      description=policy.description, grace_hours=policy.grace_hours))
    st.query_params.pop(params.GATE, None)
    st.rerun()
if top[3].button("Back to " + ("the adopted version" if opening.origin == "adopted" else opening.default_label),
                 disabled=code == encode_policy(opening.policy), width="stretch"):
    st.query_params.pop(params.POLICY, None)
    st.query_params.pop(params.GATE, None)
    st.rerun()

metrics = available_metrics(dataset)
if gate.metric not in metrics:
    metrics = [gate.metric, *metrics]
try:
    by_options = segment_columns(dataset, gate.metric)
except DriftdeskError:
    by_options = []
by_value = [c for c in (gate.by or ()) if c in by_options]


def _pick(options: tuple[str, ...] | list[str], value: str) -> tuple[list[str], int]:
    opts = list(options) if value in options else [value, *options]
    return opts, opts.index(value)


with st.form(f"gate_form_{form_id}_{gate_index}"):
    k = f"{form_id}_{gate_index}"
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Name", value=gate.name, key=f"name_{k}")
    metric = c2.selectbox("Metric", metrics, index=metrics.index(gate.metric), key=f"metric_{k}",
                          help="What to watch; `null_rate:<column>`, `psi:<column>` and `share:<column>` read a column.")
    by = c3.multiselect("Per segment (by)", by_options, default=by_value, key=f"by_{k}",
                        help="Evaluate the metric separately per value of these columns; empty = all traffic pooled.")
    c1, c2, c3, c4 = st.columns(4)
    comparison = c1.selectbox("Comparison", COMPARISONS, index=COMPARISONS.index(gate.comparison),
                              key=f"comparison_{k}", help="absolute: the value itself; the others: its change "
                              "against the same window a day / a week earlier, or the trailing days before it.")
    change = c2.selectbox("Change as", CHANGES, index=CHANGES.index(gate.change), key=f"change_{k}",
                          help="relative: (current - baseline) / baseline; difference: current - baseline.")
    baseline_days = c3.number_input("Trailing baseline (days)", min_value=1, max_value=90, value=gate.baseline_days,
                                    step=1, key=f"baseline_days_{k}")
    direction = c4.selectbox("Alert when the value is", DIRECTIONS, index=DIRECTIONS.index(gate.direction),
                             key=f"direction_{k}", format_func=lambda d: {"above": "above the threshold",
                                                                         "below": "below the threshold",
                                                                         "either": "beyond ± threshold"}[d])
    c1, c2, c3, c4, c5 = st.columns(5)
    threshold = c1.number_input("Threshold", value=float(gate.threshold), format="%.4f", step=0.01,
                                key=f"threshold_{k}")
    w_opts, w_idx = _pick(WINDOWS, format_hours(gate.window_hours))
    window = c2.selectbox("Window", w_opts, index=w_idx, key=f"window_{k}",
                          help="The value at each evaluation covers this much data ending then.")
    e_opts, e_idx = _pick(STEPS, format_hours(gate.every_hours))
    every = c3.selectbox("Evaluate every", e_opts, index=e_idx, key=f"every_{k}")
    consecutive = c4.number_input("Consecutive breaches", min_value=1, max_value=48, value=gate.consecutive, step=1,
                                  key=f"consecutive_{k}", help="Breaches in a row before the alert fires.")
    min_sample = c5.number_input("Minimum sample", min_value=0.0, value=float(gate.min_sample), step=10.0,
                                 key=f"min_sample_{k}", help="Below this (rows, conversions, requests...) the "
                                 "window is not judged.")
    action = st.radio("Action", ACTIONS, index=ACTIONS.index(gate.action), horizontal=True, key=f"action_{k}")
    applied = st.form_submit_button("Apply to the proposal", type="primary")

if applied:
    raw = {**gate.to_dict(), "name": name.strip(), "metric": metric, "by": list(by), "comparison": comparison,
           "change": change, "baseline_days": int(baseline_days), "direction": direction, "threshold": threshold,
           "window": window, "every": every, "consecutive": int(consecutive), "min_sample": float(min_sample),
           "action": action}
    try:
        new_gate = parse_gate(raw, index=gate_index, source="the form")
        new_policy = policy.with_gate(new_gate, gate_index)
        # a metric's segment columns must exist before the gate can be replayed
        if new_gate.metric != gate.metric and new_gate.by:
            bad = [c for c in new_gate.by if c not in segment_columns(dataset, new_gate.metric)]
            if bad:
                raise DriftdeskError(f"the form: {new_gate.metric} cannot be split by {bad}")
    except DriftdeskError as exc:
        show_error(exc)
    else:
        set_policy(new_policy)
        st.query_params[params.GATE] = new_gate.name
        st.rerun()

# ---------------------------------------------------------------- what it would have done
st.subheader("On history")
try:
    view = gates_view_of(source, policy=policy, gate=gate.name, compare=compare)
except DriftdeskError as exc:
    show_error("This policy cannot be replayed on the loaded data.", exc)
    st.stop()
st.caption(view.replayed + " (no look-ahead).")
render_comparison(view)
render_backtest(view)

# ---------------------------------------------------------------- sweep of the selected gate
st.subheader(f"Sweep: {md(gate.name)}")
render_sweep(view)

# ---------------------------------------------------------------- adopt
st.subheader("Adopt")
history = policy_history(dataset=data_key)
done = st.session_state.pop("gates_adopted", None)
if done:
    st.success(md(done))
worse = view.regressions()
if worse:
    st.warning(f"The proposal is worse than {md(compare[0][0])} on " + "; ".join(md(w) for w in worse)
               + ". Adopting it needs a reason, kept with the version.")
note = st.text_input("Why adopt it anyway (required, kept with the version)" if worse else
                     "Why (kept with the version)", key=f"adopt_note_{form_id}")
if st.session_state.get("gates_confirm") != code:
    if st.button("Adopt this policy…", type="primary"):
        st.session_state["gates_confirm"] = code
        st.rerun()
else:
    mine = history.filter(history["name"] == policy.name)["version"]
    next_version = int(mine.max()) + 1 if mine.len() else 1
    st.warning(f"Adopt **{md(policy.name)}** as version {next_version} for this data? This writes a new policy file "
               "(earlier versions are kept) and logs it with its backtest figures to MLflow.")
    yes, no, _ = st.columns([1, 1, 4])
    missing_reason = bool(worse) and not note.strip()
    if yes.button("Confirm adopt", type="primary", disabled=missing_reason,
                  help="Say why above: the proposal is worse on recall or alerts per week" if missing_reason else None):
        st.session_state.pop("gates_confirm", None)
        try:
            with st.status("Saving and logging to MLflow…"):
                adopted_version = adopt_policy(policy, dataset=data_key, backtest=view.backtest, note=note)
        except DriftdeskError as exc:
            show_error("Nothing was adopted.", exc)
        else:
            st.session_state["gates_adopted"] = (f"Adopted {policy.name} version {adopted_version.version} "
                                                 f"(MLflow run {adopted_version.run_id}); the page now opens on it.")
            st.query_params.pop(params.POLICY, None)  # reopen on the adopted version, not the link's copy of it
            st.rerun()
    if no.button("Cancel"):
        st.session_state.pop("gates_confirm", None)
        st.rerun()
if history.height:
    render_history(history)
else:
    st.caption("No policy has been adopted for this data yet.")
st.download_button("Download the proposal (TOML)", policy.to_toml(), file_name=f"{policy.name}.toml",
                   mime="application/toml")
with st.expander("The proposal as a policy file"):
    st.code(policy.to_toml(), language="toml")
