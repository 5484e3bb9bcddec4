"""The tables of the data contract and the roles of their columns: what each table is, which roles it has, which
are required, their kinds and ranges. Validation lives in ``driftdesk.contract``; proposing which file is which
table lives in ``driftdesk.proposal``; both read these specs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["datetime", "float", "int", "string", "bool", "binary", "any"]

# The text a true/false ("bool" or "binary") column may hold, compared after trimming and lower-casing (``TRUE``,
# `` Yes`` read as true); other text is refused as not boolean. Every reader of the contract (in memory, a streaming
# scan, Spark) and the mapping proposal read these same words.
TRUE_WORDS: tuple[str, ...] = ("true", "t", "yes", "y", "1", "1.0")
FALSE_WORDS: tuple[str, ...] = ("false", "f", "no", "n", "0", "0.0")


@dataclass(frozen=True)
class Role:
    name: str
    kind: Kind
    required: bool = False
    many: bool = False  # segments / features: any number of the user's columns
    min: float | None = None
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    doc: str = ""


@dataclass(frozen=True)
class TableSpec:
    name: str
    grain: str
    roles: tuple[Role, ...]
    key: tuple[str, ...] = ()  # roles that identify a row; "segments" expands to the segment columns
    allow_empty: bool = False  # a log (incidents, calendar) may truthfully have no rows

    def role(self, name: str) -> Role:
        for r in self.roles:
            if r.name == name:
                return r
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.roles if r.required)


def _r(name: str, kind: Kind, **kw) -> Role:
    return Role(name, kind, **kw)


SEGMENTS = _r("segments", "string", many=True, doc="columns that split traffic (geo, device, source, ...)")
FEATURES = _r("features", "any", many=True, doc="model input columns: numeric or categorical")
LAYERS = ("service", "data", "model", "business", "llm")
# Outcome roles arrive late (a label matures days after the decision): their null rate rises at the recent edge of
# any data by design, so input-drift views leave them out and calibration counts only matured labels.
OUTCOME_ROLES = ("label", "revenue")
SEVERITIES = ("P0", "P1", "P2", "P3")
COMPONENTS = ("model", "prompt", "feature_view", "index", "embedding", "threshold", "retriever", "config", "llm_model")
CASE_KINDS = ("happy", "edge", "known_failure", "adversarial")

TABLES: dict[str, TableSpec] = {
    "decisions": TableSpec(
        "decisions",
        "one scored request / lead / auction",
        (
            _r("ts", "datetime", required=True),
            SEGMENTS,
            FEATURES,
            _r("score", "float", required=True, min=0.0, max=1.0, doc="predicted probability"),
            _r("label", "binary", doc="outcome 0/1; null until it matures"),
            _r("decision", "binary"),
            _r("spend", "float", min=0.0),
            _r("revenue", "float", min=0.0),
            _r("model_version", "string"),
            _r("release_id", "string"),
        ),
    ),
    "kpis": TableSpec(
        "kpis",
        "hour x segment",
        (
            _r("ts", "datetime", required=True),
            SEGMENTS,
            _r("impressions", "float", min=0.0),
            _r("clicks", "float", min=0.0),
            _r("conversions", "float", required=True, min=0.0),
            _r("spend", "float", required=True, min=0.0),
            _r("revenue", "float", min=0.0),
        ),
        key=("ts", "segments"),
    ),
    "llm_calls": TableSpec(
        "llm_calls",
        "one LLM call",
        (
            _r("ts", "datetime", required=True),
            _r("feature", "string", doc="the app or feature that made the call"),
            _r("model", "string"),
            _r("prompt_version", "string"),
            _r("index_version", "string", doc="retriever / index version"),
            _r("latency_ms", "float", min=0.0),
            _r("ttft_ms", "float", min=0.0),
            _r("input_tokens", "float", min=0.0),
            _r("output_tokens", "float", min=0.0),
            _r("cost", "float", min=0.0),
            _r("validator_ok", "bool"),
            _r("refusal", "bool"),
            _r("error", "bool"),
            _r("user_feedback", "float", min=-1.0, max=1.0),
            _r("judge_score", "float", min=0.0, max=1.0),
            _r("release_id", "string"),
            _r("output_text", "string", doc="the output, for repetitiveness between consecutive outputs"),
        ),
    ),
    "golden_runs": TableSpec(
        "golden_runs",
        "one golden-set case x repeat x candidate",
        (
            _r("release_id", "string", required=True),
            _r("case_id", "string", required=True),
            _r("case_kind", "string", allowed=CASE_KINDS),
            _r("repeat", "int", min=0.0),
            _r("passed", "bool", required=True),
            _r("score", "float", min=0.0, max=1.0),
            _r("recall_at_k", "float", min=0.0, max=1.0),
            _r("ndcg", "float", min=0.0, max=1.0),
            _r("tokens", "float", min=0.0),
            _r("latency_ms", "float", min=0.0),
        ),
        key=("release_id", "case_id", "repeat"),
    ),
    "releases": TableSpec(
        "releases",
        "one change of anything that ships",
        (
            _r("ts", "datetime", required=True),
            _r("release_id", "string", required=True),
            _r("component", "string", allowed=COMPONENTS),
            _r("version", "string"),
            _r("git_commit", "string"),
            _r("traffic_share", "float", min=0.0, max=1.0),
            _r("note", "string"),
        ),
        key=("release_id", "ts"),
    ),
    "incidents": TableSpec(
        "incidents",
        "one known incident (the team's log)",
        (
            _r("start", "datetime", required=True),
            _r("end", "datetime"),
            _r("layer", "string", allowed=LAYERS),
            _r("severity", "string", allowed=SEVERITIES),
            _r("segment", "string", doc="e.g. 'source=affiliate' or 'geo=DE'; empty for global"),
            _r("cause", "string"),
            _r("incident_id", "string"),
        ),
        allow_empty=True,
    ),
    "service": TableSpec(
        "service",
        "time x service",
        (
            _r("ts", "datetime", required=True),
            _r("service", "string", required=True),
            _r("requests", "float", min=0.0),
            _r("errors", "float", min=0.0),
            _r("timeouts", "float", min=0.0),
            _r("latency_p50_ms", "float", min=0.0),
            _r("latency_p95_ms", "float", min=0.0),
            _r("latency_p99_ms", "float", min=0.0),
            _r("queue_depth", "float", min=0.0),
        ),
        key=("ts", "service"),
    ),
    "calendar": TableSpec(
        "calendar",
        "one holiday or promotion day: calendar, not drift",
        (
            _r("date", "datetime", required=True),
            _r("name", "string", required=True),
            _r("kind", "string", allowed=("holiday", "promotion")),
            _r("segment", "string", doc="where the day applies, e.g. 'geo=US'; empty for everywhere"),
        ),
        key=("date",),
        allow_empty=True,
    ),
}
