"""Consensus across baselines: per column, whether day over day, week over week and other baselines agree.

One current window is compared with several baselines (``compare_baselines``); each gives a drift table. A shift
that both calendar-aligned baselines flag, in the same direction, is real; one only day over day flags is the
weekly calendar; one only week over week flags began before yesterday. ``consensus`` names which of these holds
(the ``strength``) and ``consensus_sentence`` says it in words.
"""

from __future__ import annotations

import polars as pl

from driftdesk.status import FLAGGED, NOT_ENOUGH_DATA, OK, STATUS, WARN, rank, worst
from driftdesk.windows import baseline_label

DATA_LAYER_DIRECTIONS = ("nulls_up", "nulls_down", "schema", "new_categories")
STRENGTHS = ("strong", "consistent", "mixed", "persisting", "calendar", "single", "recovery", "none")


def consensus(tables: dict[str, pl.DataFrame], *, pair: tuple[str, str] = ("day_over_day", "week_over_week"),
              abnormal: dict[str, set[str]] | None = None) -> pl.DataFrame:
    """Per column, whether the baselines agree.

    ``tables`` maps a baseline label to its drift table (columns ``column``, ``status``, ``direction``).
    A shift is *strong* when the day-over-day and week-over-week comparisons both flag it, agree in
    direction, and the data layer (null rates, schema, new categories) shifted too; *consistent* without the
    data layer; *mixed* when both flag in different directions. When only week-over-week flags it the shift is
    *persisting* (it began before yesterday: warn); when only day-over-day flags it, today looks like the same
    weekday last week, so it is the *calendar* (ok). With other baselines, *single* means one of them flags it.
    ``abnormal`` maps a baseline label to the columns for which that baseline was itself abnormal (it differs
    from the window before it, the current window does not): its flags there do not count, and a column left
    with no other flag is *recovery* (ok: a recovery, not drift).
    """
    abnormal = abnormal or {}
    labels = list(tables)
    if not labels:
        return pl.DataFrame(schema={"column": pl.String, "status": pl.String, "strength": pl.String})
    cols: list[str] = []
    for t in tables.values():
        cols += [c for c in t["column"].to_list() if c not in cols]
    lookup = {lab: {r["column"]: r for r in t.iter_rows(named=True)} for lab, t in tables.items()}
    a, b = pair if all(p in tables for p in pair) else (labels[0], labels[1] if len(labels) > 1 else labels[0])
    rows = []
    for c in cols:
        per = {lab: lookup[lab].get(c) for lab in labels}
        shown = {lab: (r["status"] if r else NOT_ENOUGH_DATA) for lab, r in per.items()}
        explained = [lab for lab in labels if shown[lab] in FLAGGED and c in abnormal.get(lab, ())]
        statuses = {lab: (OK if lab in explained else st) for lab, st in shown.items()}
        flagged = [lab for lab in labels if statuses[lab] in FLAGGED]
        data_layer = any(r and (r["direction"] in DATA_LAYER_DIRECTIONS) and statuses[lab] in FLAGGED
                         for lab, r in per.items())
        ra, rb = per[a], per[b]
        agree = bool(ra and rb and statuses[a] in FLAGGED and statuses[b] in FLAGGED and ra["direction"] == rb["direction"])
        worst_status = worst(statuses.values())
        if all(s == NOT_ENOUGH_DATA for s in statuses.values()):
            strength, status = "none", NOT_ENOUGH_DATA
        elif a != b and statuses[a] in FLAGGED and statuses[b] in FLAGGED:
            strength = ("strong" if data_layer else "consistent") if agree else "mixed"
            status = worst_status if agree else WARN
        elif flagged and a != b and statuses[b] in FLAGGED and statuses[a] != NOT_ENOUGH_DATA:
            strength, status = "persisting", WARN  # unlike last week, like yesterday: began before yesterday
        elif flagged and a != b and statuses[a] in FLAGGED and statuses[b] != NOT_ENOUGH_DATA:
            strength, status = "calendar", OK  # unlike yesterday, like last week: the weekly pattern
        elif flagged:
            strength = "single" if a != b else ("strong" if data_layer else "consistent")
            status = WARN if a != b else worst_status
        elif explained:
            strength, status = "recovery", OK
        else:
            strength, status = "none", OK
        rows.append({"column": c, "status": status, "strength": strength, "flagged_by": ", ".join(flagged),
                     "agree_direction": agree, "data_layer_shift": data_layer,
                     "abnormal_baseline": ", ".join(explained),
                     **{f"status_{lab}": shown[lab] for lab in labels}})
    order = {s: rank(s) for s in STATUS}
    return pl.DataFrame(rows).sort(pl.col("status").replace_strict(order, return_dtype=pl.Int8), "column",
                                   descending=[True, False])


def consensus_sentence(table: pl.DataFrame, reasons: dict[str, str] | None = None,
                       labels: tuple[str, ...] = ("day_over_day", "week_over_week"),
                       unjudged: dict[str, str] | None = None) -> str:
    """The consensus in one sentence, naming which of its conditions hold.

    ``unjudged`` maps a baseline label to why no column could be judged against it (no rows on its day): the
    sentence names those baselines and why, and claims no shift only against the others."""
    reasons = reasons or {}
    unjudged = {lab: why for lab, why in (unjudged or {}).items() if lab in labels}
    judged = [lab for lab in labels if lab not in unjudged]
    names = " and ".join(baseline_label(lab) for lab in judged)
    gaps = ("; ".join(f"{baseline_label(lab)}: {why}" for lab, why in unjudged.items())
            if len(set(unjudged.values())) > 1 or len(unjudged) == 1 else next(iter(unjudged.values()), ""))
    note = f" Could not judge {gaps}." if unjudged else ""
    if table.is_empty() or table.filter(pl.col("status").is_in(FLAGGED)).is_empty():
        if not judged or (not table.is_empty() and (table["status"] == NOT_ENOUGH_DATA).all()):
            every = " and ".join(baseline_label(lab) for lab in labels)
            return f"Not enough data to compare against {every}" + (f" ({gaps})." if unjudged else ".")
        cal = table.filter(pl.col("strength") == "calendar")["column"].to_list() if "strength" in table.columns else []
        tail = (f" Day over day alone moves {', '.join(cal[:4])}, as on the same weekday last week: calendar, not drift."
                if cal else "")
        back = table.filter(pl.col("strength") == "recovery") if "strength" in table.columns else table.clear()
        if back.height:
            which = sorted({lab for v in back["abnormal_baseline"].to_list() for lab in v.split(", ")})
            names_b = back["column"].to_list()
            tail += (f" {', '.join(names_b[:4])} {'differs' if len(names_b) == 1 else 'differ'} from the "
                     f"{' and '.join(baseline_label(b) for b in which)} baseline only because that baseline was itself "
                     f"abnormal (unlike the week before it, while the current window is like its own two weeks "
                     f"earlier): a recovery, not drift.")
        return f"No column shifted beyond the thresholds against {names}.{tail}{note}"
    top = table.filter(pl.col("status").is_in(FLAGGED)).row(0, named=True)
    others = [c for c in table.filter(pl.col("status").is_in(FLAGGED))["column"].to_list() if c != top["column"]]
    why = f" ({reasons[top['column']]})" if reasons.get(top["column"]) else ""
    col = top["column"]
    if top["strength"] == "strong":
        text = (f"Strong shift in {col}{why}: both baselines flag it, in the same direction, and the data layer "
                f"shifted too.")
    elif top["strength"] == "consistent":
        text = (f"Consistent shift in {col}{why}: both baselines flag it in the same direction; the data layer "
                f"(nulls, schema, categories) did not shift, so look at traffic mix or the world, not the pipeline.")
    elif top["strength"] == "mixed":
        text = f"Mixed signal in {col}{why}: both baselines flag it but in different directions."
    elif top["strength"] == "persisting":
        text = (f"Persisting shift in {col}{why}: week over week flags it but day over day does not, so it began "
                f"before yesterday and is still there.")
    else:
        by = " and ".join(baseline_label(lab) for lab in top["flagged_by"].split(", ") if lab)
        text = f"Weak signal in {col}{why}: only {by} flags it."
    if others:
        text += f" Also flagged: {', '.join(others[:5])}{'…' if len(others) > 5 else ''}."
    return text + note
