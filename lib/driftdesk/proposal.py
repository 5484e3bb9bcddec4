"""Which table a file most likely is, and which of its columns plays each role: a proposal with a confidence and
its reasons, read from the columns' names, types and values rather than from the file's name.

A stranger's export rarely says ``conversions``: it says ``purchases``, ``orders`` or ``conv``; its timestamps are
text with local offsets; its label is a 0/1 column called ``converted``. For every file of a folder,
``propose_folder`` scores each contract table by the roles its columns can fill:

- a column's *name* against the role's usual names (``SYNONYMS``: ``cost_usd`` -> spend, ``p_*`` -> score,
  ``did_*`` -> label): the role's own name 1.0, a usual name 0.9, a usual prefix or suffix 0.75, a usual word
  inside a longer name 0.55;
- its *type and values* against the role's kind and range (a timestamp, text with UTC offsets, a number, a 0/1
  column, a probability in [0, 1], one of a role's allowed words): a name on a column of the wrong kind counts for
  nothing, and a few roles can be proposed from values alone (the only timestamp column, a column of
  probabilities, a 0/1 column), with less confidence;
- columns go to roles greedily, best first, each column to one role. A column named exactly like a role always
  plays it (the contract then names any problem with its values).

A table is a candidate for a file when its columns fill every required role and at least 1.5 points of evidence
beyond the timestamp (required roles weigh 2, optional ones 1, timestamps 0.5, times each role's confidence).
A file named after a table (``kpis.csv``) is that table; a file whose name mentions one gets a bonus. The
confidence of a file's proposal, in [0, 1], grows with its evidence and shrinks when a second table fits nearly as
well: ``(1 - exp(-evidence / 3)) * (1 - 0.6 * (second / best) ** 2)``; high from 0.7, medium from 0.4.

Each table gets at most one file: when two files are best read as the same table, the one with more evidence is
loaded and the other is reported with what to do, as is a file that fits no table. A mapping remembered in the
folder's ``driftdesk.toml`` is kept as written (``""`` marks a role deliberately left without a column) and the
proposal only fills the roles it leaves open; a remembered column the file does not have is reported and that
table is not loaded, so a stale mapping never loads the wrong column. Text columns no role claims become
segments (except timestamps and identifiers, which have a different value on nearly every row); in ``decisions``
numeric ones become features.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.format import DEFAULT_CURRENCY, format_value
from driftdesk.io import FOLDER_FORMATS, SUFFIXES, inside, scan_table
from driftdesk.jsonsafe import jsonable
from driftdesk.tables import FALSE_WORDS, TABLES, TRUE_WORDS, Role, TableSpec
from driftdesk.timestamps import epoch_unit, parse_text_timestamps

MAPPING_FILE = "driftdesk.toml"
SAMPLE_ROWS = 5_000  # rows read per file to judge types and values
MIN_EVIDENCE = 1.5  # evidence beyond the timestamp a table needs to be proposed
HIGH, MEDIUM = 0.7, 0.4

# A role's usual names, normalised (lower case, words joined by "_"). "p_*" is a prefix, "*_usd" a suffix.
# Keys are "role" (any table) or "table.role" (that table only, read before "role").
SYNONYMS: dict[str, tuple[str, ...]] = {
    "ts": ("timestamp", "time", "datetime", "date_time", "event_time", "event_ts", "event_timestamp", "hour",
           "date_hour", "hour_start", "interval_start", "period_start", "date", "day", "dt", "scored_at",
           "created_at", "occurred_at", "logged_at", "requested_at", "time_stamp", "ts_utc", "time_utc", "when",
           "epoch", "epoch_s", "epoch_ms", "unix_time", "unix_ts", "timestamp_ms", "ts_ms", "time_ms", "event_ms",
           "event_time_ms", "created_at_ms", "*_time", "*_at", "*_ts", "*_timestamp", "*_epoch", "*_epoch_ms"),
    "conversions": ("conv", "convs", "conversion_count", "sales", "orders", "purchases", "leads", "acquisitions",
                    "signups", "installs", "transactions", "results", "actions", "total_conversions"),
    "spend": ("cost", "costs", "cost_usd", "spend_usd", "amount_spent", "media_cost", "ad_spend", "spent",
              "total_cost", "total_spend", "cost_micros", "*_cost", "cost_*", "spend_*"),
    "revenue": ("rev", "value", "conversion_value", "conv_value", "conversions_value", "sales_value",
                "purchase_value", "order_value", "gmv", "income", "revenue_usd", "*_value", "revenue_*"),
    "impressions": ("imps", "impr", "imp", "impression", "views", "impression_count", "served_impressions"),
    "clicks": ("click", "link_clicks", "click_count", "total_clicks"),
    "score": ("p", "prob", "proba", "probability", "pred", "prediction", "predicted", "y_score", "y_prob",
              "y_pred_proba", "model_score", "pctr", "pcvr", "propensity", "p_*", "prob_*", "*_prob",
              "*_probability", "*_score"),
    "label": ("y", "y_true", "target", "outcome", "converted", "conversion", "is_conversion", "purchased",
              "clicked", "did_*", "is_*", "has_*", "*_label"),
    "decision": ("action", "served", "bid_placed", "selected", "approved", "accepted", "decided", "shown"),
    "decisions.model_version": ("model", "model_id", "model_name", "model_tag", "version"),
    "release_id": ("release", "release_name", "release_tag", "deploy_id", "deployment_id", "deployment"),
    "feature": ("app", "use_case", "application", "feature_name", "task", "product"),
    "llm_calls.model": ("model_name", "model_id", "llm", "llm_model", "provider_model"),
    "prompt_version": ("prompt", "prompt_id", "prompt_name", "template_version", "prompt_template"),
    "index_version": ("index", "index_id", "retriever", "retriever_version", "rag_index", "vector_index"),
    "latency_ms": ("latency", "duration_ms", "response_time_ms", "elapsed_ms", "total_latency_ms", "*_latency_ms"),
    "ttft_ms": ("ttft", "time_to_first_token_ms", "first_token_ms", "time_to_first_token"),
    "input_tokens": ("prompt_tokens", "tokens_in", "input_token_count", "prompt_token_count", "in_tokens"),
    "output_tokens": ("completion_tokens", "tokens_out", "output_token_count", "completion_token_count",
                      "out_tokens"),
    "cost": ("cost_usd", "price", "usd", "total_cost", "llm_cost", "*_cost_usd"),
    "validator_ok": ("valid", "is_valid", "format_ok", "schema_ok", "validation_passed", "validator_passed"),
    "refusal": ("refused", "is_refusal", "refusal_flag"),
    "error": ("failed", "is_error", "errored", "has_error", "error_flag"),
    "user_feedback": ("feedback", "thumbs", "rating", "user_rating"),
    "judge_score": ("judge", "eval_score", "quality_score", "llm_judge_score", "grade"),
    "case_id": ("case", "example_id", "test_id", "test_case", "item_id", "question_id"),
    "case_kind": ("case_type", "category", "kind", "type"),
    "repeat": ("run", "attempt", "trial", "repetition", "rep"),
    "passed": ("pass", "success", "succeeded", "ok", "is_pass", "correct"),
    "recall_at_k": ("recall", "recall_at_5", "recall_at_10", "recall_k"),
    "ndcg": ("ndcg_at_k", "ndcg_at_5", "ndcg_at_10"),
    "tokens": ("total_tokens", "token_count"),
    "releases.ts": ("deployed_at", "released_at", "shipped_at", "deploy_time", "release_time"),
    "component": ("component_type", "what", "artifact", "kind"),
    "git_commit": ("commit", "sha", "git_sha", "commit_sha", "revision"),
    "traffic_share": ("share", "traffic", "rollout", "rollout_share", "traffic_fraction", "percent_traffic"),
    "note": ("notes", "description", "message", "comment", "summary"),
    "start": ("started_at", "start_time", "begin", "began_at", "opened_at", "from", "start_ts", "detected_at"),
    "end": ("ended_at", "end_time", "resolved_at", "closed_at", "until", "to", "end_ts", "mitigated_at"),
    "layer": ("area", "category", "domain"),
    "severity": ("sev", "priority", "prio", "level"),
    "incidents.segment": ("scope", "affected", "affected_segment", "where"),
    "cause": ("root_cause", "title", "summary", "description", "what_happened", "reason"),
    "incident_id": ("id", "incident", "ticket", "ticket_id", "key"),
    "service": ("service_name", "app", "application", "job", "endpoint", "component", "svc"),
    "requests": ("request_count", "requests_count", "count", "calls", "hits", "rps"),
    "errors": ("error_count", "errors_count", "failures", "failed_requests", "5xx", "http_5xx"),
    "timeouts": ("timeout_count", "timed_out"),
    "latency_p50_ms": ("p50", "p50_ms", "latency_p50", "median_latency_ms", "p50_latency_ms"),
    "latency_p95_ms": ("p95", "p95_ms", "latency_p95", "p95_latency_ms"),
    "latency_p99_ms": ("p99", "p99_ms", "latency_p99", "p99_latency_ms"),
    "queue_depth": ("queue", "queue_length", "backlog", "pending"),
    "calendar.date": ("day", "ds", "holiday_date", "event_date"),
    "calendar.name": ("holiday", "event", "occasion", "description", "title", "holiday_name", "event_name"),
    "calendar.kind": ("type", "category", "event_type"),
    "calendar.segment": ("scope", "where", "applies_to", "region", "market"),
}
# roles that may be proposed from values alone (no name match), with this confidence
BY_VALUE: dict[str, float] = {"ts": 0.45, "date": 0.45, "start": 0.4, "score": 0.45, "label": 0.35}
# words of a file name that suggest a table
NAME_WORDS: dict[str, tuple[str, ...]] = {
    "kpis": ("kpi", "kpis", "campaign", "campaigns", "performance", "ads", "adwords", "insights"),
    "decisions": ("decision", "decisions", "scores", "scored", "predictions", "requests", "auctions", "bids"),
    "llm_calls": ("llm", "calls", "completions", "generations", "traces", "spans"),
    "golden_runs": ("golden", "eval", "evals", "evaluation", "testset"),
    "releases": ("release", "releases", "deploys", "deployments", "changelog"),
    "incidents": ("incident", "incidents", "outages", "postmortems", "pagerduty"),
    "service": ("service", "services", "latency", "apm", "metrics"),
    "calendar": ("calendar", "holidays", "promotions", "events"),
}

Level = Literal["high", "medium", "low"]


def normalise(name: str) -> str:
    """A column or file name as compared with the usual names: lower case, words joined by '_'."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", str(name).strip())  # camelCase -> camel_Case
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def level(confidence: float) -> Level:
    return "high" if confidence >= HIGH else "medium" if confidence >= MEDIUM else "low"


# --------------------------------------------------------------------------- what a column looks like


@dataclass(frozen=True)
class ColumnProfile:
    """What a column's sample says about it: its kind, its range and how many distinct values it has."""

    name: str
    dtype: str
    kind: Literal["timestamp", "number", "binary", "text", "empty", "other"]
    offsets: bool = False  # timestamp text carrying UTC offsets
    integer: bool = False
    low: float | None = None
    high: float | None = None
    distinct: int = 0
    distinct_share: float = 0.0
    words: tuple[str, ...] = ()  # up to 30 distinct text values (for roles with allowed words)

    @property
    def unit_interval(self) -> bool:
        return self.kind in ("number", "binary") and self.low is not None and self.low >= 0 and (self.high or 0) <= 1

    @property
    def probabilities(self) -> bool:
        return self.kind == "number" and self.unit_interval and not self.integer

    @property
    def identifier(self) -> bool:
        """Text that differs on nearly every row (a request id, a free-text note): not a segment."""
        return self.kind == "text" and self.distinct > 50 and self.distinct_share > 0.9

    @property
    def epoch(self) -> bool:
        return self.kind == "number" and self.integer and self.low is not None and self.low >= 1e8


def profile_column(frame: pl.DataFrame, name: str) -> ColumnProfile:
    """Read one column's sample: a timestamp (typed, or text that parses), a number, a 0/1 flag, or text."""
    col = frame[name]
    dtype = col.dtype
    base = {"name": name, "dtype": str(dtype)}
    values = col.drop_nulls()
    if values.len() == 0:
        return ColumnProfile(**base, kind="empty")
    if isinstance(dtype, pl.Datetime) or dtype == pl.Date:
        return ColumnProfile(**base, kind="timestamp", offsets=isinstance(dtype, pl.Datetime) and dtype.time_zone is not None)
    if dtype == pl.Boolean:
        return ColumnProfile(**base, kind="binary", integer=True, low=0.0, high=1.0, distinct=values.n_unique())
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        text = values.cast(pl.String).str.strip_chars()
        text = text.filter(text != "")
        if text.len() == 0:
            return ColumnProfile(**base, kind="empty")
        parsed, has_tz, _ = parse_text_timestamps(name)
        stamps = pl.DataFrame({name: text}).select(parsed.is_not_null().mean().alias("ok"), has_tz.mean().alias("tz")).row(0)
        if stamps[0] >= 0.95:
            return ColumnProfile(**base, kind="timestamp", offsets=bool(stamps[1] and stamps[1] > 0.5))
        numbers = text.cast(pl.Float64, strict=False)
        if numbers.null_count() == 0:
            return _numeric(base, numbers)
        lower = text.str.to_lowercase()
        if lower.is_in(TRUE_WORDS + FALSE_WORDS).all():  # the words the contract reads as true/false
            return ColumnProfile(**base, kind="binary", integer=True, low=0.0, high=1.0, distinct=lower.n_unique())
        distinct = text.n_unique()
        words = tuple(sorted(text.unique().head(30).to_list()))
        return ColumnProfile(**base, kind="text", distinct=distinct, distinct_share=distinct / text.len(), words=words)
    if dtype.is_numeric():
        return _numeric(base, values.cast(pl.Float64))
    return ColumnProfile(**base, kind="other")


def _numeric(base: dict, numbers: pl.Series) -> ColumnProfile:
    finite = numbers.filter(numbers.is_finite())
    if finite.len() == 0:
        return ColumnProfile(**base, kind="number")
    low, high = float(finite.min()), float(finite.max())
    integer = bool((finite == finite.floor()).all())
    distinct = finite.n_unique()
    binary = integer and low >= 0 and high <= 1
    return ColumnProfile(**base, kind="binary" if binary else "number", integer=integer, low=low, high=high,
                         distinct=distinct, distinct_share=distinct / finite.len())


def profile_frame(frame: pl.DataFrame) -> tuple[ColumnProfile, ...]:
    return tuple(profile_column(frame, c) for c in frame.columns)


# --------------------------------------------------------------------------- one column for one role


def synonyms(table: str, role: str) -> tuple[str, ...]:
    return SYNONYMS.get(f"{table}.{role}", ()) + SYNONYMS.get(role, ())


def name_score(column: str, table: str, role: str) -> tuple[float, str]:
    """How much a column's name says it plays the role, and why."""
    norm = normalise(column)
    if norm == role:
        return 1.0, f"named {role}"
    usual = synonyms(table, role)
    if norm in usual:
        return 0.9, f"a usual name for {role}"
    for pattern in (u for u in usual if "*" in u):
        stem = pattern.replace("*", "")
        if (pattern.endswith("*") and norm.startswith(stem) and norm != stem.rstrip("_")) or (
                pattern.startswith("*") and norm.endswith(stem) and norm != stem.lstrip("_")):
            return 0.75, f"named like {role} ({pattern})"
    words = set(norm.split("_"))
    single = [u for u in (role, *usual) if "*" not in u and "_" not in u and len(u) > 2]
    hit = next((u for u in single if u in words), None)
    if hit is not None and len(words) > 1:
        return 0.55, f"its name contains {hit!r}"
    return 0.0, ""


def fits(profile: ColumnProfile, role: Role, *, named: bool) -> tuple[float, str]:
    """How well a column's type and values fit a role (0 = not at all), and what its values say."""
    kind = profile.kind
    if kind == "empty":
        return (0.5, "empty in the rows read") if named else (0.0, "")
    if role.kind == "datetime":
        if kind == "timestamp":
            return 1.0, "timestamps with UTC offsets, read as UTC" if profile.offsets else "timestamps"
        if profile.epoch and named and epoch_unit(pl.Series([profile.low, profile.high])) is not None:
            return 0.8, "Unix epoch numbers"
        return 0.0, ""
    if role.kind in ("binary", "bool"):
        return (1.0, "0/1 values") if kind == "binary" else (0.0, "")
    if role.kind in ("float", "int"):
        if kind not in ("number", "binary"):
            return 0.0, ""
        if role.max is not None and role.max <= 1 and not profile.unit_interval:
            return 0.2, f"values outside [{role.min or 0:g}, {role.max:g}]"
        if role.min is not None and profile.low is not None and profile.low < role.min:
            return 0.5, f"some values below {role.min:g}"
        if role.name == "score" and profile.probabilities:
            return 1.0, "probabilities in [0, 1]"
        if role.kind == "int" and not profile.integer:
            return 0.5, "not whole numbers"
        return 1.0, ""
    if role.kind == "string":
        if kind == "text":
            if role.allowed is not None:
                known = [w for w in profile.words if w in role.allowed]
                share = len(known) / max(len(profile.words), 1)
                return (1.0, f"values like {', '.join(known[:3])}") if share >= 0.5 else (0.6, "")
            return 1.0, ""
        if kind in ("number", "binary") and profile.integer:
            return 0.7, "whole numbers (read as text)"
        return 0.0, ""
    return 1.0, ""


@dataclass(frozen=True)
class RoleProposal:
    """One role's column, how sure the proposal is (0-1) and why."""

    role: str
    column: str
    confidence: float
    reason: str
    remembered: bool = False

    def to_dict(self) -> dict:
        return {"role": self.role, "column": self.column, "confidence": self.confidence, "reason": self.reason,
                "remembered": self.remembered}


def _candidates(profiles: Sequence[ColumnProfile], spec: TableSpec) -> list[tuple[float, int, int, RoleProposal]]:
    """(confidence, role order, column order, proposal) for every role x column that could fit."""
    out = []
    roles = [r for r in spec.roles if not r.many]
    for ri, role in enumerate(roles):
        for ci, prof in enumerate(profiles):
            score, why = name_score(prof.name, spec.name, role.name)
            if score == 1.0:  # a column named like the role plays it; the contract names any problem with its values
                fit, detail = fits(prof, role, named=True)
                out.append((1.0, ri, ci, RoleProposal(role.name, prof.name, 1.0, _join(why, detail if fit else ""))))
                continue
            if score > 0:
                fit, detail = fits(prof, role, named=True)
                if fit > 0:
                    conf = score * fit
                    out.append((conf, ri, ci, RoleProposal(role.name, prof.name, round(conf, 2), _join(why, detail))))
                    continue
            if role.name in BY_VALUE:
                fit, detail = fits(prof, role, named=False)
                if fit >= 1.0 and detail and (role.name != "score" or prof.probabilities):
                    conf = BY_VALUE[role.name]
                    out.append((conf, ri, ci, RoleProposal(role.name, prof.name, conf, f"{detail} (from its values)")))
    return out


def _join(*parts: str) -> str:
    return "; ".join(p for p in parts if p)


# --------------------------------------------------------------------------- one file as one table


@dataclass(frozen=True)
class TableFit:
    """A file read as one table: the roles filled, the segments and features, the evidence and what is missing."""

    table: str
    roles: tuple[RoleProposal, ...]
    segments: tuple[str, ...] | None
    features: tuple[str, ...] | None
    evidence: float
    missing: tuple[str, ...]
    problems: tuple[str, ...] = ()  # remembered columns the file does not have
    unmapped: tuple[str, ...] = ()  # roles remembered without a column on purpose ("")

    @property
    def acceptable(self) -> bool:
        return not self.missing and not self.problems and self.content_evidence >= MIN_EVIDENCE

    @property
    def content_evidence(self) -> float:
        spec = TABLES[self.table]
        return sum(_weight(spec, r.role) * r.confidence for r in self.roles if spec.role(r.role).kind != "datetime"
                   or not spec.role(r.role).required)

    def mapping(self) -> dict:
        """Role -> column (single roles), plus the segment / feature lists: what the contract loads with."""
        out: dict = {r.role: r.column for r in self.roles} | dict.fromkeys(self.unmapped, "")
        if self.segments is not None:
            out["segments"] = list(self.segments)
        if self.features is not None:
            out["features"] = list(self.features)
        return out


def _weight(spec: TableSpec, role: str) -> float:
    r = spec.role(role)
    if r.kind == "datetime" and r.required:
        return 0.5
    return 2.0 if r.required else 1.0


def fit_table(profiles: Sequence[ColumnProfile], table: str, *, remembered: Mapping | None = None) -> TableFit:
    """The best roles for ``table`` from these columns, keeping a remembered mapping and filling what it leaves open."""
    spec = TABLES[table]
    remembered = dict(remembered or {})
    names = [p.name for p in profiles]
    chosen: dict[str, RoleProposal] = {}
    used: set[str] = set()
    problems: list[str] = []
    for role in spec.roles:
        if role.name not in remembered:
            continue
        value = remembered[role.name]
        cols = [value] if isinstance(value, str) else list(value)
        absent = [c for c in cols if c and c not in names]
        if absent:
            problems.append(f"the remembered mapping sends {role.name} to {', '.join(repr(c) for c in absent)}, "
                            "which the file does not have")
            continue
        if not role.many and value:
            chosen[role.name] = RoleProposal(role.name, value, 1.0, "remembered in driftdesk.toml", True)
        used.update(c for c in cols if c)
    open_roles = {r.name for r in spec.roles if not r.many and r.name not in remembered}
    for _conf, _, _, prop in sorted(_candidates(profiles, spec), key=lambda t: (-t[0], t[1], t[2])):
        if prop.role in open_roles and prop.role not in chosen and prop.column not in used:
            chosen[prop.role] = prop
            used.add(prop.column)
    order = [r.name for r in spec.roles]
    roles = tuple(sorted(chosen.values(), key=lambda p: order.index(p.role)))
    role_names = {r.name for r in spec.roles}
    segments = features = None
    given_features = _listed(remembered, "features")
    claimed = used | set(given_features or ())
    if "segments" in role_names:
        given = _listed(remembered, "segments")
        if given is not None:
            segments = given
        elif any(p.kind != "empty" for p in profiles):
            segments = tuple(p.name for p in profiles if p.name not in claimed and p.kind == "text" and not p.identifier)
        # else a file with no values yet (a header only): no segments proposed, so none are written down; the
        # contract then takes the text columns no role claims once rows arrive
    if "features" in role_names:
        features = given_features if given_features is not None else tuple(
            p.name for p in profiles if p.name not in claimed and p.name not in (segments or ())
            and p.kind in ("number", "binary") and not p.dtype.startswith("String"))
    evidence = sum(_weight(spec, r.role) * r.confidence for r in roles)
    missing = tuple(r for r in spec.required if r not in chosen)
    unmapped = tuple(r.name for r in spec.roles if not r.many and r.name in remembered and not remembered[r.name])
    return TableFit(table, roles, segments, features, round(evidence, 3), missing, tuple(problems), unmapped)


def _listed(remembered: Mapping, role: str) -> tuple[str, ...] | None:
    if role not in remembered:
        return None
    value = remembered[role]
    return (value,) if isinstance(value, str) else tuple(value)


_DATE_LIKE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}(?:[ T,]+\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[AaPp][Mm])?)?$")


def unread_times(profiles: Sequence[ColumnProfile]) -> str:
    """A sentence naming the text columns that hold dates in a form not read as timestamps (``20/10/2026 02:00``,
    ``10.20.2026``: day and month order cannot be told from the text), or ""."""
    dated = [p for p in profiles if p.kind == "text" and p.words and all(_DATE_LIKE.match(w) for w in p.words)]
    if not dated:
        return ""
    which = ", ".join(f"{p.name!r} (e.g. {p.words[0]!r})" for p in dated[:3])
    return (f" {'Columns' if len(dated) > 1 else 'Column'} {which} {'hold' if len(dated) > 1 else 'holds'} dates "
            "written in a form that is not read as timestamps (the order of day and "
            "month cannot be told from the text): export them as ISO 8601, e.g. 2026-10-20 02:00:00, with the UTC "
            "offset when the times are local.")


def named_table(filename: str) -> str | None:
    """The table a file is named after (``kpis.csv``, ``LLM-calls.parquet``), if any."""
    stem = normalise(Path(filename).name.split(".")[0])
    return stem if stem in TABLES else None


def name_bonus(filename: str, table: str) -> tuple[float, str]:
    """Evidence from the file's name: named after the table (decisive), or mentioning it."""
    if named_table(filename) == table:
        return 10.0, f"named after the {table} table"
    words = set(normalise(Path(filename).name.split(".")[0]).split("_"))
    hit = next((w for w in NAME_WORDS[table] if w in words), None)
    if hit is not None:
        return 1.0, f"its name mentions {hit!r}"
    return 0.0, ""


# --------------------------------------------------------------------------- a file, a folder


@dataclass(frozen=True)
class FileProposal:
    """One file of a folder: the table it is proposed as (None: not loaded, see ``note``), the roles, the
    confidence and the reasons, and the other tables it could be."""

    path: str
    table: str | None
    confidence: float
    reasons: tuple[str, ...]
    fit: TableFit | None = None
    candidates: tuple[tuple[str, float], ...] = ()  # (table, evidence), best first, acceptable tables only
    columns: tuple[str, ...] = ()
    dtypes: tuple[str, ...] = ()
    note: str | None = None  # why the file is not loaded, and what to do
    error: str | None = None  # the file cannot be read
    remembered: bool = False  # the folder's driftdesk.toml names this file as its table
    label: str | None = None  # the name in its folder, when not the path's last part ("." for the folder itself)

    @property
    def name(self) -> str:
        return self.label or Path(self.path).name

    @property
    def level(self) -> Level:
        return level(self.confidence)

    @property
    def best(self) -> str | None:
        """The table the content fits best, even when the file is not loaded as it."""
        return self.candidates[0][0] if self.candidates else None

    def mapping(self) -> dict:
        return self.fit.mapping() if self.fit is not None else {}

    def role_reasons(self) -> dict[str, str]:
        """Role -> why its column was proposed, with the confidence."""
        return {r.role: f"{r.reason} (confidence {format_value(r.confidence, 'rate')})"
                for r in (self.fit.roles if self.fit else ())}

    def to_dict(self) -> dict:
        return jsonable({
            "file": self.name, "path": self.path, "table": self.table, "confidence": self.confidence,
            "level": self.level, "reasons": list(self.reasons), "note": self.note, "error": self.error,
            "remembered": self.remembered, "columns": list(self.columns),
            "candidates": [{"table": t, "evidence": e} for t, e in self.candidates],
            "mapping": self.mapping(), "roles": [r.to_dict() for r in (self.fit.roles if self.fit else ())],
            "missing": list(self.fit.missing) if self.fit else [],
        })


def _confidence(evidence: float, second: float) -> float:
    if evidence <= 0:
        return 0.0
    return round((1 - math.exp(-evidence / 3)) * (1 - 0.6 * min(second / evidence, 1.0) ** 2), 2)


def read_sample(path: str | Path, rows: int = SAMPLE_ROWS) -> pl.DataFrame:
    """The first rows of a file (a CSV whose inferred types break is re-read as text)."""
    try:
        return scan_table(path).head(rows).collect()
    except pl.exceptions.PolarsError:
        try:
            return scan_table(path, all_text=True).head(rows).collect()
        except pl.exceptions.PolarsError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DriftdeskError(f"{path}: cannot read: {first}") from exc


def propose_file(path: str | Path, *, table: str | None = None, remembered: Mapping | None = None,
                 frame: pl.DataFrame | None = None, label: str | None = None) -> FileProposal:
    """The table a file most likely is (with ``table``: the roles of that table), its confidence and reasons.

    ``remembered``: role mappings per table from driftdesk.toml, kept as written. ``frame``: the rows to read
    instead of the file's first rows. ``label``: the file's name in its folder when not its path's last part.
    """
    path = str(path)
    name = label or Path(path).name
    try:
        sample = frame if frame is not None else read_sample(path)
    except DriftdeskError as exc:
        named = table or named_table(path)
        if named is not None:  # a file named after its table stays that table: the contract check shows the error
            return FileProposal(path, named, 0.0, (f"named after the {named} table",), error=str(exc))
        return FileProposal(path, None, 0.0, (), error=str(exc), note=f"{exc} (the other files still load)")
    profiles = profile_frame(sample)
    columns, dtypes = tuple(sample.columns), tuple(str(t) for t in sample.dtypes)
    remembered = remembered or {}
    # rank the tables by content alone; a remembered mapping then applies to the table chosen
    fits_ = {t: fit_table(profiles, t) for t in ([table] if table else TABLES)}
    scored, bonus_reason = {}, {}
    for t, f in fits_.items():
        bonus, bonus_reason[t] = name_bonus(path, t)
        readable = not f.missing and f.content_evidence >= MIN_EVIDENCE
        if readable or bonus >= 10 or table is not None:
            scored[t] = f.evidence + bonus
    ranked = sorted(scored.items(), key=lambda kv: -kv[1])
    base = dict(candidates=tuple((t, round(e, 2)) for t, e in ranked), columns=columns, dtypes=dtypes)
    if not ranked:
        needs = "; ".join(f"{t} needs {', '.join(TABLES[t].required)}" for t in ("kpis", "decisions", "llm_calls"))
        note = (f"{name} matches no table: its columns ({', '.join(columns[:12])}) fill no table's required roles "
                f"({needs}, ...).{unread_times(profiles)} Choose its table on the Data page or in driftdesk.toml "
                f"([mapping.TABLE] file = \"{name}\", then each role = its column), or leave it out of the folder.")
        return FileProposal(path, None, 0.0, (), note=note, **base)
    best = ranked[0][0]
    if remembered.get(best):
        fits_[best] = fit_table(profiles, best, remembered=remembered[best])
        if fits_[best].problems:
            note = (f"{name}: {fits_[best].problems[0]}, so the {best} table is not loaded (its columns are "
                    f"{', '.join(columns[:15])}). Correct the mapping on the Data page or in driftdesk.toml; the other "
                    "tables still load.")
            return FileProposal(path, None, 0.0, (), fits_[best], note=note, remembered=True, **base)
    evidence = ranked[0][1]
    second = ranked[1][1] if len(ranked) > 1 else 0.0
    fit = fits_[best]
    named = scored[best] - fit.evidence >= 10
    conf = max(_confidence(evidence - (10 if named else 0), second), 0.95 if named else 0.0)
    strongest = sorted(fit.roles, key=lambda r: -_weight(TABLES[best], r.role) * r.confidence)[:4]
    runner_up = f"also fits {ranked[1][0]}" if len(ranked) > 1 and second > 0.6 * evidence else ""
    reasons = tuple(x for x in (bonus_reason[best], *(f"{r.role} = {r.column} ({r.reason})" for r in strongest),
                                runner_up) if x)
    return FileProposal(path, best, conf, reasons, fit, note=None, **base)


@dataclass(frozen=True)
class FolderProposal:
    """Every data file of a folder with its proposed table; ``tables`` holds the one file loaded per table."""

    folder: str
    files: tuple[FileProposal, ...]

    @property
    def tables(self) -> dict[str, FileProposal]:
        return {f.table: f for f in self.files if f.table is not None}

    @property
    def notes(self) -> tuple[str, ...]:
        """Why some files are not loaded, each naming the file and what to do."""
        return tuple(f.note for f in self.files if f.note)

    def remembered_form(self) -> dict[str, dict]:
        """Table -> its file and roles, as ``contract.remember_tables`` writes them into driftdesk.toml."""
        return {t: {"file": f.name, **f.mapping()} for t, f in self.tables.items()}

    @property
    def readable(self) -> tuple[str, ...]:
        """The names of the files whose columns could be read (any of them can be chosen for a table)."""
        return tuple(f.name for f in self.files if f.columns)

    @property
    def table_files(self) -> dict[str, str]:
        """Table -> the name of the file read as it, in the contract's order of tables."""
        return {t: self.tables[t].name for t in TABLES if t in self.tables}

    @property
    def unremembered(self) -> tuple[str, ...]:
        """The tables loaded from a proposal that driftdesk.toml does not hold yet."""
        return tuple(t for t, f in self.tables.items() if not f.remembered)

    def to_frame(self) -> pl.DataFrame:
        rows = [{"file": f.name, "table": f.table, "confidence": f.confidence if f.table else None,
                 "level": f.level if f.table else None, "why": "; ".join(f.reasons) if f.table else (f.note or ""),
                 "remembered": f.remembered} for f in self.files]
        return pl.DataFrame(rows, schema={"file": pl.String, "table": pl.String, "confidence": pl.Float64,
                                          "level": pl.String, "why": pl.String, "remembered": pl.Boolean})

    def to_dict(self) -> dict:
        return jsonable({"folder": self.folder, "files": [f.to_dict() for f in self.files], "notes": list(self.notes)})

    def to_toml(self, *, calendar: Mapping | None = None, read: Mapping | None = None,
                currency: str | None = None) -> str:
        """The proposal as driftdesk.toml: one ``[mapping.<table>]`` per loaded file, with its file and roles (and
        a ``[calendar]`` and a ``[read]`` section, and the money's ``currency`` other than USD, when given)."""
        lines = [f"# driftdesk.toml proposed for {' '.join(self.folder.splitlines())}"]
        lines += currency_lines(currency)
        for table, f in sorted(self.tables.items()):
            lines += ["", f"# {' '.join(f.name.splitlines())}: {table}, {f.level} confidence ({f.confidence:.2f})",
                      *(f"#   {' '.join(r.splitlines())}" for r in f.reasons), f"[mapping.{table}]",
                      f"file = {toml_string(f.name)}"]
            for role, col in f.mapping().items():
                lines.append(f"{role} = {toml_value(col)}")
        if calendar:
            lines += ["", "[calendar]", *(f"{key} = {toml_value(value)}" for key, value in calendar.items())]
        if read:
            lines += ["", "[read]", *(f"{key} = {toml_value(value)}" for key, value in read.items())]
        for note in self.notes:
            lines += ["", f"# not loaded: {' '.join(note.splitlines())}"]
        return "\n".join(lines) + "\n"

    def _repr_html_(self) -> str:
        return f"<p><b>{html.escape(self.folder)}</b></p>" + self.to_frame()._repr_html_()


def currency_lines(currency: str | None) -> list[str]:
    """The top-level ``currency = "EUR"`` line of a driftdesk.toml (it must come before any section); none for the
    default, so a folder in dollars is written as before."""
    return [f"currency = {toml_string(currency)}"] if currency and currency != DEFAULT_CURRENCY else []


def toml_string(value: str) -> str:
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def toml_value(value) -> str:
    """A value as TOML: a string, a list of strings, a boolean or a number."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_string(v) for v in value) + "]"
    return toml_string(value)


def _table_folder(path: Path) -> bool:
    """A folder that is one table: it holds Parquet files (a dataset written by Spark, pyarrow or Hive, or
    ``kpis/part-*.parquet``) or CSV files (``kpis/2026-11-01.csv``, ``date=2026-11-01/kpis.csv``), its ``_`` and
    ``.`` entries aside, as ``io.folder_files`` reads it (a folder mixing both is listed, and reading it says why
    it is refused)."""
    return SUFFIXES.get(path.suffix.lower(), "parquet") in FOLDER_FORMATS and any(
        SUFFIXES.get(f.suffix.lower()) in FOLDER_FORMATS and not _skipped(f.relative_to(path)) and f.is_file()
        for f in path.rglob("*"))


def _skipped(relative: Path) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.parts)


def data_files(folder: str | Path) -> list[Path]:
    """What a folder holds that driftdesk can read as tables, sorted by name: its files (by extension) and its
    folders of Parquet or CSV files (each one table), hidden and ``_`` entries and links leading out of the folder
    (``io.inside``) left out. A folder whose data sits in
    ``key=value`` partition folders (``date=2026-11-01/part-0.parquet``, ``date=2026-11-01/kpis.csv``) is itself
    one table, named "."."""
    folder = Path(folder)
    entries = [p for p in folder.iterdir() if not _skipped(Path(p.name)) and inside(p, folder)]
    partitions = [p for p in entries if p.is_dir() and "=" in p.name and _table_folder(p)]
    found = [p for p in entries if p not in partitions and (
        (p.is_file() and p.suffix.lower() in SUFFIXES) or (p.is_dir() and _table_folder(p)))]
    return sorted(found) + ([folder] if partitions else [])


def entry_name(folder: str | Path, path: str | Path) -> str:
    """How driftdesk.toml's ``file`` names an entry of a folder: its name, or "." for the folder itself."""
    return "." if Path(path) == Path(folder) else Path(path).name


def propose_folder(folder: str | Path, *, mappings: Mapping[str, Mapping] | None = None,
                   files: Mapping[str, str] | None = None) -> FolderProposal:
    """Every data file of a folder with the table it most likely is; one file per table.

    ``mappings`` (table -> roles) and ``files`` (table -> file name) are what the folder's driftdesk.toml remembers:
    a remembered file is that table, a remembered role keeps its column.
    """
    folder = Path(folder)
    mappings = dict(mappings or {})
    pinned = {name: table for table, name in (files or {}).items() if (folder / name).exists()}
    notes = tuple(FileProposal(str(folder / MAPPING_FILE), None, 0.0, (), note=(
        f"driftdesk.toml names {name!r} as the {table} table, but the folder has no such file; {table} is proposed "
        "from the other files")) for table, name in (files or {}).items() if name not in pinned)
    paths = data_files(folder)
    notes += tuple(FileProposal(str(p), None, 0.0, (), note=(
        f"{p.name} is a link to a file or folder outside {folder.name or folder}: not read (the folder's own files "
        "are; copy it in instead)")) for p in sorted(folder.iterdir())
        if not _skipped(Path(p.name)) and p.is_symlink() and not inside(p, folder))
    proposals = {}
    elsewhere = set(pinned.values())
    for path in paths:
        name = entry_name(folder, path)
        table = pinned.get(name)  # a table pinned to one file lends its remembered roles to that file only
        remembered = {t: m for t, m in mappings.items() if t == table or (table is None and t not in elsewhere)}
        prop = propose_file(path, table=table, remembered=remembered, label=name)
        if name != path.name:
            prop = replace(prop, label=name)
        if name in pinned and prop.table is not None:
            prop = replace(prop, confidence=1.0, reasons=("chosen in driftdesk.toml", *prop.reasons), remembered=True)
        proposals[name] = prop
    taken = {prop.table: name for name, prop in proposals.items() if name in pinned and prop.table is not None}
    by_table: dict[str, list[FileProposal]] = {}
    for name, prop in proposals.items():
        if prop.table is not None and name not in pinned:
            by_table.setdefault(prop.table, []).append(prop)
    for table, group in by_table.items():
        group.sort(key=lambda p: (-(p.candidates[0][1] if p.candidates else 0.0), p.name))
        winner = taken.get(table) or group[0].name
        for prop in group:
            if prop.name == winner:
                continue
            proposals[prop.name] = replace(prop, table=None, note=(
                f"{prop.name} also looks like the {table} table, but {winner} is loaded as {table} (it fits better, or "
                f"driftdesk.toml chose it). If {prop.name} is the {table} table, choose it on the Data page (or write "
                f"file = {toml_string(prop.name)} under [mapping.{table}] in driftdesk.toml); otherwise move it out of "
                "the folder. The other tables still load."))
    return FolderProposal(str(folder), tuple(proposals[entry_name(folder, p)] for p in paths) + notes)
