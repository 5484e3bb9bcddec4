"""OpenTelemetry GenAI spans into the ``llm_calls`` table, so teams bring the traces they already export.

Input: OTLP JSON as a collector writes it (its file exporter's JSON lines, one ``{"resourceSpans": ...}`` export per
line, or one exported document, or an array of them; lowerCamelCase or snake_case keys; ids in hex or base64;
enums as numbers or names), and the OpenTelemetry SDK's own span JSON (``ConsoleSpanExporter`` to a file: one
``span.to_json()`` object after another).

A **call** is a GenAI span (one with ``gen_ai.operation.name``, ``gen_ai.request.model`` or
``gen_ai.response.model``) that has no GenAI span above it. Every span below it (an agent's model calls, tool and
retrieval spans, also spans without GenAI attributes) rolls up into that one call:

- ``ts`` is the call span's start, ``latency_ms`` its duration; ``error`` its status (ERROR) or ``error.type``
  (a nested error the request recovered from is not the call's error);
- ``model``: the call span's response model (else its request model), else the first nested span's;
- ``input_tokens``, ``output_tokens`` and ``cost`` add up the spans that carry them, counting a span only when no
  span below it carries the same attribute (an agent span that repeats its children's total is not counted twice);
- ``ttft_ms``: from the call's start to the first token seen in any of its spans (the attribute
  ``gen_ai.response.time_to_first_chunk`` in seconds, or a first-token event, see ``FIRST_TOKEN_EVENTS``);
- ``refusal``: a finish reason of ``content_filter``, ``refusal`` or ``safety`` in any of its spans;
- ``index_version``: from its first retrieval span carrying the index attribute (``gen_ai.data_source.id`` by
  default); ``output_text``: from the last span carrying it; every other role from the call span, else its first
  nested span carrying it, else the call's resource (``service.name`` gives the feature by default).

Which attributes give prompt version, feature, cost and the other roles is configurable (``attributes``, role ->
attribute name or names in order of preference). A call without a model or without a valid start and end is left
out and counted under the attribute it lacks (``skipped``); a call imported without some role is counted per
attribute (``missing``); a negative token count, cost or time to first token is set to null and counted
(``invalid``). Reading the JSON is record by record (it is text); everything after it is polars.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from driftdesk.errors import DriftdeskError, InputFileError
from driftdesk.jsonsafe import jsonable
from driftdesk.textfiles import text_encoding

OPERATION, REQUEST_MODEL, RESPONSE_MODEL = "gen_ai.operation.name", "gen_ai.request.model", "gen_ai.response.model"
INPUT_TOKENS = ("gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens")  # the second: conventions before 1.27
OUTPUT_TOKENS = ("gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens")
FINISH_REASONS = "gen_ai.response.finish_reasons"
FIRST_CHUNK_SECONDS = ("gen_ai.response.time_to_first_chunk", "gen_ai.response.time_to_first_token")
FIRST_TOKEN_EVENTS = ("gen_ai.first_token", "gen_ai.content.first_chunk", "first_token", "first_chunk")
ERROR_TYPE = "error.type"
RETRIEVAL_OPERATIONS = ("retrieval", "retrieve")
REFUSAL_REASONS = ("content_filter", "refusal", "safety")
# role -> the attributes that carry it, in order of preference (span first, then its resource); configurable
DEFAULT_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "feature": ("driftdesk.feature", "service.name"),
    "prompt_version": ("driftdesk.prompt_version", "gen_ai.prompt.version"),
    "index_version": ("gen_ai.data_source.id", "driftdesk.index_version"),
    "cost": ("driftdesk.cost_usd", "gen_ai.usage.cost"),
    "validator_ok": ("driftdesk.validator_ok",),
    "judge_score": ("driftdesk.judge_score",),
    "user_feedback": ("driftdesk.user_feedback",),
    "release_id": ("driftdesk.release_id",),
    "output_text": ("gen_ai.output.messages", "gen_ai.completion"),
}
NUMERIC_ROLES = ("cost", "judge_score", "user_feedback")
SUMMED = ("input_tokens", "output_tokens", "cost")  # added up over the spans that carry them
COLUMNS = ("ts", "feature", "model", "operation", "prompt_version", "index_version", "latency_ms", "ttft_ms",
           "input_tokens", "output_tokens", "cost", "validator_ok", "refusal", "error", "user_feedback", "judge_score",
           "release_id", "output_text", "trace_id", "span_id", "spans")
MAX_DEPTH = 256
_SNIFF_BYTES = 1 << 16
_OTLP_HINT = re.compile(r'"(resourceSpans|resource_spans|scopeSpans|scope_spans)"|"context"\s*:\s*\{\s*"trace_id"')


# --------------------------------------------------------------------------- reading records


def is_otlp_file(path: str | Path) -> bool:
    """Whether a file looks like OpenTelemetry spans in JSON (OTLP JSON or the SDK's span JSON), from its start."""
    path = Path(path)
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError:
        return False
    return head.lstrip()[:1] in ("{", "[") and bool(_OTLP_HINT.search(head))


def _documents(text: str, source: str) -> Iterator[object]:
    """Every JSON value in the text: one document, JSON lines, or pretty-printed objects one after another."""
    decoder = json.JSONDecoder()
    i, n = 0, len(text)
    while True:
        while i < n and text[i] in " \t\r\n,":
            i += 1
        if i >= n:
            return
        try:
            doc, i = decoder.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            line = text.count("\n", 0, exc.pos) + 1
            raise InputFileError(f"{source}: not valid JSON at line {line}: {exc.msg}") from exc
        yield from (doc if isinstance(doc, list) else [doc])


def _get(d: Mapping, *names: str, default=None):
    for name in names:
        if name in d:
            return d[name]
    return default


def _any_value(v):
    """An OTLP AnyValue ({"stringValue": ...}) as a Python value; the SDK's plain JSON values pass through."""
    if not isinstance(v, Mapping):
        return v
    for key in ("stringValue", "string_value", "boolValue", "bool_value", "doubleValue", "double_value"):
        if key in v:
            return v[key]
    for key in ("intValue", "int_value"):
        if key in v:
            return int(v[key])
    for key in ("arrayValue", "array_value"):
        if key in v:
            return [_any_value(x) for x in v[key].get("values", [])]
    for key in ("kvlistValue", "kvlist_value"):
        if key in v:
            return {kv.get("key"): _any_value(kv.get("value")) for kv in v[key].get("values", [])}
    return None


def _attributes(raw) -> dict:
    if isinstance(raw, Mapping):  # the SDK's span JSON
        return dict(raw)
    return {kv.get("key"): _any_value(kv.get("value")) for kv in raw or [] if isinstance(kv, Mapping)}


def _hex_id(value) -> str | None:
    if not value:
        return None
    text = str(value).lower().removeprefix("0x")
    if len(text) in (16, 32) and all(c in "0123456789abcdef" for c in text):
        return None if set(text) == {"0"} else text
    try:
        return base64.b64decode(str(value), validate=True).hex() or None
    except (binascii.Error, ValueError):
        return str(value)


def _nanos(value) -> int | None:
    """Epoch nanoseconds from OTLP (a number or a numeric string) or the SDK's ISO 8601 text."""
    if value is None or value == "":
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.isdigit()):
        n = int(value)
        return n if n > 0 else None
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return round(moment.timestamp() * 1e6) * 1000


def _is_error(status) -> bool:
    if not isinstance(status, Mapping):
        return False
    code = _get(status, "code", "status_code")
    return code in (2, "2") or (isinstance(code, str) and code.upper().endswith("ERROR"))


def _first_token_event(events) -> int | None:
    times = [_nanos(_get(e, "timeUnixNano", "time_unix_nano", "timestamp")) for e in events or []
             if isinstance(e, Mapping) and e.get("name") in FIRST_TOKEN_EVENTS]
    times = [t for t in times if t is not None]
    return min(times) if times else None


def _spans(docs: Iterator[object]) -> Iterator[tuple[dict, dict]]:
    """(span, resource attributes) for every span in OTLP exports or SDK span objects."""
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        resource_spans = _get(doc, "resourceSpans", "resource_spans")
        if resource_spans is None and ("context" in doc or "traceId" in doc or "trace_id" in doc):
            yield doc, _attributes((doc.get("resource") or {}).get("attributes"))
            continue
        for rs in resource_spans or []:
            resource = _attributes((rs.get("resource") or {}).get("attributes"))
            for ss in _get(rs, "scopeSpans", "scope_spans", "instrumentationLibrarySpans", default=[]) or []:
                for span in ss.get("spans", []) or []:
                    yield span, resource


def _text_of(value) -> str | None:
    """Output text from gen_ai.output.messages (JSON messages with text parts) or a plain string."""
    if value is None:
        return None
    messages = value
    if isinstance(value, str):
        if not value.lstrip().startswith(("[", "{")):
            return value
        try:
            messages = json.loads(value)
        except json.JSONDecodeError:
            return value
    messages = messages if isinstance(messages, list) else [messages]
    parts = [p.get("content") for m in messages if isinstance(m, Mapping) for p in m.get("parts", [])
             if isinstance(p, Mapping) and p.get("type", "text") == "text" and isinstance(p.get("content"), str)]
    parts += [m["content"] for m in messages if isinstance(m, Mapping) and isinstance(m.get("content"), str)]
    return "\n".join(parts) if parts else None


def _first(attrs: Mapping, names: Sequence[str]):
    for name in names:
        if attrs.get(name) is not None:
            return attrs[name]
    return None


def _span_table(path: Path, attributes: Mapping[str, tuple[str, ...]]) -> pl.DataFrame:
    """One row per span with the fields and attributes a call is built from (explicit and resource values apart)."""
    text = path.read_text(encoding=text_encoding(path))
    cols: dict[str, list] = {k: [] for k in (
        "trace_id", "span_id", "parent_id", "start", "end", "error", "operation", "request_model", "response_model",
        "input_tokens", "output_tokens", "finish_reasons", "first_token", *[f"{r}_span" for r in attributes],
        *[f"{r}_resource" for r in attributes])}
    for span, resource in _spans(_documents(text, str(path))):
        attrs = _attributes(span.get("attributes"))
        context = span.get("context") or {}
        start = _nanos(_get(span, "startTimeUnixNano", "start_time_unix_nano", "start_time"))
        ttft_s = _first(attrs, FIRST_CHUNK_SECONDS)
        by_attr = start + round(float(ttft_s) * 1e9) if start is not None and isinstance(ttft_s, int | float) else None
        by_event = _first_token_event(span.get("events"))
        reasons = attrs.get(FINISH_REASONS)
        cols["trace_id"].append(_hex_id(_get(span, "traceId", "trace_id", default=context.get("trace_id"))))
        cols["span_id"].append(_hex_id(_get(span, "spanId", "span_id", default=context.get("span_id"))))
        cols["parent_id"].append(_hex_id(_get(span, "parentSpanId", "parent_span_id", "parent_id")))
        cols["start"].append(start)
        cols["end"].append(_nanos(_get(span, "endTimeUnixNano", "end_time_unix_nano", "end_time")))
        cols["error"].append(_is_error(span.get("status")) or attrs.get(ERROR_TYPE) is not None)
        cols["operation"].append(attrs.get(OPERATION))
        cols["request_model"].append(attrs.get(REQUEST_MODEL))
        cols["response_model"].append(attrs.get(RESPONSE_MODEL))
        cols["input_tokens"].append(_first(attrs, INPUT_TOKENS))
        cols["output_tokens"].append(_first(attrs, OUTPUT_TOKENS))
        cols["finish_reasons"].append([str(r).lower() for r in reasons] if isinstance(reasons, list)
                                      else [str(reasons).lower()] if reasons is not None else None)
        cols["first_token"].append(min((t for t in (by_attr, by_event) if t is not None), default=None))
        for role, names in attributes.items():
            span_value, resource_value = _first(attrs, names), _first(resource, names)
            if role == "output_text":
                span_value, resource_value = _text_of(span_value), None
            cols[f"{role}_span"].append(span_value)
            cols[f"{role}_resource"].append(resource_value)
    return _typed(cols, attributes)


def _number(values: list) -> pl.Series:
    return pl.Series([v if isinstance(v, int | float) and not isinstance(v, bool) else
                      _to_float(v) for v in values], dtype=pl.Float64)


def _to_float(v) -> float | None:
    try:
        return float(v) if isinstance(v, str) else None
    except ValueError:
        return None


def _flag(values: list) -> pl.Series:
    truth = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    return pl.Series([v if isinstance(v, bool) else truth.get(str(v).strip().lower()) if v is not None else None
                      for v in values], dtype=pl.Boolean)


def _typed(cols: dict[str, list], attributes: Mapping[str, tuple[str, ...]]) -> pl.DataFrame:
    series = {
        **{k: pl.Series(cols[k], dtype=pl.String) for k in ("trace_id", "span_id", "parent_id")},
        **{k: pl.Series(cols[k], dtype=pl.Int64) for k in ("start", "end", "first_token")},
        "error": pl.Series(cols["error"], dtype=pl.Boolean),
        **{k: pl.Series([None if v is None else str(v) for v in cols[k]], dtype=pl.String)
           for k in ("operation", "request_model", "response_model")},
        **{k: _number(cols[k]) for k in ("input_tokens", "output_tokens")},
        "finish_reasons": pl.Series(cols["finish_reasons"], dtype=pl.List(pl.String)),
    }
    for role in attributes:
        for side in ("span", "resource"):
            values = cols[f"{role}_{side}"]
            name = f"{role}_{side}"
            if role in NUMERIC_ROLES:
                series[name] = _number(values)
            elif role == "validator_ok":
                series[name] = _flag(values)
            else:
                series[name] = pl.Series([None if v is None else str(v) for v in values], dtype=pl.String)
    return pl.DataFrame(series)


# --------------------------------------------------------------------------- rolling spans up into calls


@dataclass(frozen=True)
class OtelImport:
    """What an import found: spans read, calls made, and per attribute the calls skipped, imported without it,
    or with an invalid value set to null."""

    source: str
    spans: int
    calls: int
    skipped: dict[str, int] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    output: str | None = None

    def to_dict(self) -> dict:
        return jsonable({"source": self.source, "spans": self.spans, "calls": self.calls, "skipped": self.skipped,
                         "missing": self.missing, "invalid": self.invalid, "notes": list(self.notes),
                         "output": self.output})

    def sentences(self) -> list[str]:
        out = [f"{self.calls} LLM call(s) from {self.spans} span(s)"]
        out += [f"{n} call(s) skipped: no {a}" for a, n in self.skipped.items()]
        out += [f"{n} call(s) without {a}" for a, n in self.missing.items()]
        out += [f"{n} invalid value(s) of {a} set to null" for a, n in self.invalid.items()]
        return out + list(self.notes)

    def _repr_html_(self) -> str:
        return "<ul>" + "".join(f"<li>{s}</li>" for s in self.sentences()) + "</ul>"


def _lineage(spans: pl.DataFrame) -> pl.DataFrame:
    """(trace_id, span_id, ancestor_id, depth) for every span and each of its ancestors, itself at depth 0."""
    links = spans.select("trace_id", pl.col("span_id").alias("ancestor_id"), pl.col("parent_id").alias("_up"))
    level = spans.select("trace_id", "span_id", pl.col("span_id").alias("ancestor_id"), pl.lit(0).alias("depth"))
    out = [level]
    for depth in range(1, MAX_DEPTH + 1):
        level = (level.join(links, on=["trace_id", "ancestor_id"]).filter(pl.col("_up").is_not_null())
                 .select("trace_id", "span_id", pl.col("_up").alias("ancestor_id"), pl.lit(depth).alias("depth")))
        # a parent outside the file ends the chain there (a partial trace)
        level = level.join(links.select("trace_id", "ancestor_id"), on=["trace_id", "ancestor_id"], how="semi")
        if not level.height:
            return pl.concat(out)
        out.append(level)
    raise InputFileError(f"spans nest deeper than {MAX_DEPTH} levels or their parents form a cycle")


def _calls_of(spans: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Each span's call (its top-most GenAI ancestor, itself included) and whether it is that call's span; and the
    lineage (spans below no GenAI span are in no call)."""
    genai = spans.filter(pl.col("operation").is_not_null() | pl.col("request_model").is_not_null()
                         | pl.col("response_model").is_not_null()).select("trace_id", "span_id")
    lineage = _lineage(spans)
    tops = (lineage.join(genai.rename({"span_id": "ancestor_id"}), on=["trace_id", "ancestor_id"], how="semi")
            .sort("depth", descending=True).group_by("trace_id", "span_id", maintain_order=True)
            .agg(pl.col("ancestor_id").first().alias("call_id")))
    return spans.join(tops, on=["trace_id", "span_id"], how="inner").with_columns(
        (pl.col("span_id") == pl.col("call_id")).alias("is_call")), lineage


def _covered(members: pl.DataFrame, lineage: pl.DataFrame, column: str) -> pl.DataFrame:
    """The spans that have a span carrying ``column`` somewhere below them (their own value is not added)."""
    carriers = members.filter(pl.col(column).is_not_null()).select("trace_id", "span_id")
    return (lineage.filter(pl.col("depth") > 0).join(carriers, on=["trace_id", "span_id"], how="semi")
            .select("trace_id", pl.col("ancestor_id").alias("span_id")).unique())


def _roll_up(members: pl.DataFrame, lineage: pl.DataFrame, roles: Sequence[str]) -> pl.DataFrame:
    keys = ["trace_id", "call_id"]
    ordered = members.sort("is_call", "start", descending=[True, False], nulls_last=True)
    summed = {}
    for column in SUMMED:
        source = f"{column}_span" if column == "cost" else column
        if source not in members.columns:
            continue
        leaf = members.join(_covered(members, lineage, source), on=["trace_id", "span_id"], how="anti")
        summed[column] = leaf.group_by(keys).agg(
            pl.when(pl.col(source).count() > 0).then(pl.col(source).sum()).alias(column))
    calls = ordered.group_by(keys, maintain_order=True).agg(
        pl.col("start").filter(pl.col("is_call")).first().alias("start"),
        pl.col("end").filter(pl.col("is_call")).first().alias("end"),
        pl.col("error").filter(pl.col("is_call")).first().alias("error"),
        pl.col("operation").filter(pl.col("is_call")).first().alias("operation"),
        pl.coalesce(pl.col("response_model"), pl.col("request_model")).drop_nulls().first().alias("model"),
        pl.col("first_token").min().alias("first_token"),
        pl.when(pl.col("finish_reasons").is_not_null().any())
        .then(pl.col("finish_reasons").list.eval(pl.element().is_in(list(REFUSAL_REASONS))).list.any().any())
        .alias("refusal"),
        pl.len().alias("spans"),
        *[_role(role) for role in roles if role not in SUMMED],
    )
    for frame in summed.values():
        calls = calls.join(frame, on=keys, how="left")
    return calls


def _role(role: str) -> pl.Expr:
    span, resource = pl.col(f"{role}_span"), pl.col(f"{role}_resource")
    if role == "index_version":  # the first retrieval span's, else the first span's that has it
        retrieval = pl.col("operation").is_in(list(RETRIEVAL_OPERATIONS))
        value = pl.coalesce(span.filter(retrieval).drop_nulls().first(), span.drop_nulls().first())
    elif role == "output_text":  # the last answer
        value = span.sort_by("end", nulls_last=False).drop_nulls().last()
    else:
        value = span.drop_nulls().first()
    return pl.coalesce(value, resource.filter(pl.col("is_call")).first()).alias(role)


def read_otlp(path: str | Path, *, attributes: Mapping[str, str | Sequence[str]] | None = None
              ) -> tuple[pl.DataFrame, OtelImport]:
    """OpenTelemetry GenAI spans in a JSON file as ``llm_calls`` rows (see the module docstring), and the report."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: no such file")
    roles = _roles(attributes)
    spans = _span_table(path, roles)
    if not spans.height:
        raise InputFileError(f"{path}: no spans found (expected OTLP JSON with resourceSpans, or the SDK's span JSON)")
    notes = []
    unique = spans.filter(pl.col("span_id").is_not_null()).unique(["trace_id", "span_id"], keep="first",
                                                                   maintain_order=True)
    if unique.height < spans.height:
        notes.append(f"{spans.height - unique.height} span(s) without an id or exported twice were read once or not "
                     "at all")
    if not unique.height:
        raise InputFileError(f"{path}: {spans.height} span(s) but none has a span id (spanId, with its traceId): "
                             "spans cannot be told apart or joined to their parents without one")
    members, lineage = _calls_of(unique)
    if not members.height:
        raise InputFileError(f"{path}: {spans.height} span(s) but none is a GenAI span (none has {OPERATION}, "
                             f"{REQUEST_MODEL} or {RESPONSE_MODEL})")
    calls = _roll_up(members, lineage, list(roles))
    skipped: dict[str, int] = {}
    reasons = {"startTimeUnixNano": pl.col("start").is_null(), "endTimeUnixNano": pl.col("end").is_null()
               | (pl.col("end") < pl.col("start")), REQUEST_MODEL: pl.col("model").is_null()}
    for name, bad in reasons.items():
        n = calls.filter(bad).height
        if n:
            skipped[name] = n
            calls = calls.filter(~bad)
    if "endTimeUnixNano" in skipped:
        notes.append("a call whose end is missing or before its start has no latency and is left out")
    frame, invalid = _to_calls(calls, roles)
    missing = {_attribute_name(role, roles): n for role in ("input_tokens", "output_tokens", "ttft_ms", "refusal", *roles)
               if role in frame.columns and (n := frame[role].null_count())}
    return frame, OtelImport(str(path), spans.height, frame.height, skipped, missing, invalid, tuple(notes))


def _attribute_name(role: str, roles: Mapping[str, tuple[str, ...]]) -> str:
    fixed = {"input_tokens": INPUT_TOKENS[0], "output_tokens": OUTPUT_TOKENS[0], "refusal": FINISH_REASONS,
             "ttft_ms": f"{FIRST_CHUNK_SECONDS[0]} or a first-token event"}
    return fixed.get(role) or (roles[role][0] if role in roles else role)


def _to_calls(calls: pl.DataFrame, roles: Mapping[str, tuple[str, ...]]) -> tuple[pl.DataFrame, dict[str, int]]:
    ms = pl.col("end").sub(pl.col("start")) / 1e6
    ttft = (pl.col("first_token") - pl.col("start")) / 1e6
    frame = calls.with_columns(
        pl.from_epoch("start", time_unit="ns").cast(pl.Datetime("us")).alias("ts"),
        ms.alias("latency_ms"), ttft.alias("ttft_ms"),
        pl.col("call_id").alias("span_id"),
    )
    invalid: dict[str, int] = {}
    for column, name in (("input_tokens", INPUT_TOKENS[0]), ("output_tokens", OUTPUT_TOKENS[0]),
                         ("cost", roles.get("cost", ("cost",))[0]), ("ttft_ms", FIRST_CHUNK_SECONDS[0]),
                         ("judge_score", roles.get("judge_score", ("judge_score",))[0])):
        if column not in frame.columns:
            continue
        bad = pl.col(column) < 0
        if column == "judge_score":
            bad = bad | (pl.col(column) > 1)
        n = frame.filter(bad).height
        if n:
            invalid[name] = n
            frame = frame.with_columns(pl.when(bad).then(None).otherwise(pl.col(column)).alias(column))
    for column in ("input_tokens", "output_tokens", "cost"):
        if column not in frame.columns:
            frame = frame.with_columns(pl.lit(None, pl.Float64).alias(column))
    out = frame.select([c for c in COLUMNS if c in frame.columns]).sort("ts", "trace_id")
    return out, invalid


def _roles(attributes: Mapping[str, str | Sequence[str]] | None) -> dict[str, tuple[str, ...]]:
    roles = dict(DEFAULT_ATTRIBUTES)
    for role, names in (attributes or {}).items():
        if role not in DEFAULT_ATTRIBUTES:
            raise DriftdeskError(f"otel: unknown role {role!r} for an attribute; roles are {sorted(DEFAULT_ATTRIBUTES)}")
        names = (names,) if isinstance(names, str) else tuple(names)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise DriftdeskError(f"otel: role {role!r} needs an attribute name, got {names!r}")
        roles[role] = names
    return roles


__all__ = ["DEFAULT_ATTRIBUTES", "OtelImport", "is_otlp_file", "read_otlp"]
