"""Gate policies: frozen rules read from a human-readable TOML file (tomllib, never eval) and validated.

A policy is a list of gates. Each gate says which metric to watch (a name from the metric registry, e.g.
``null_rate:ctr_7d`` or ``cpa``), how to compare it (``absolute``, or against a baseline window:
``day_over_day``, ``week_over_week``, ``trailing`` N days), the threshold and its direction, the evaluation
window, how often it is evaluated, how many consecutive breaches raise an alert, the minimum sample below
which it stays silent, the action (rollback, pause_for_review, notify), and optionally the segment columns
it is evaluated per (``by``) and a row filter (``filter``).

In a release check (``driftdesk gates check``) a failing gate blocks the release unless it says ``on_fail =
"warn"``: then it is reported (status ``warn``) and the check still passes. A budget gate watches
``budget_burn:<column>`` (e.g. ``budget_burn:cost``): the column's sum since 00:00 UTC as a share of the gate's
daily ``budget``, one number for every segment or a table per segment value (``budget = { ad_copy = 40.0 }``).

Every problem is reported as a PolicyError naming the file, the gate and the field; a TOML syntax error
names the line and column. A metric written by an old name still works: the policy reads it by its current
name and keeps a one-line note in ``Policy.notes`` (the CLI also prints it on stderr).
"""

from __future__ import annotations

import base64
import json
import re
import tomllib
import zlib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from driftdesk.bounds import (
    BASELINE_DAYS,
    CONSECUTIVE,
    DURATION_HOURS,
    GATES,
    MAX_DAYS,
    NESTING_DEPTH,
    POLICY_INFLATED_BYTES,
    POLICY_LINK_CHARS,
    TOML_BYTES,
    check_depth,
    check_size,
)
from driftdesk.errors import DriftdeskError, LimitError, PathError, PolicyError
from driftdesk.paths import safe_name
from driftdesk.windows import baseline_label

Comparison = Literal["absolute", "day_over_day", "week_over_week", "trailing", "release"]
Direction = Literal["above", "below", "either"]
Change = Literal["relative", "difference"]
Action = Literal["rollback", "pause_for_review", "notify"]
OnFail = Literal["block", "warn"]

COMPARISONS: tuple[str, ...] = ("absolute", "day_over_day", "week_over_week", "trailing", "release")
TIME_COMPARISONS: tuple[str, ...] = ("day_over_day", "week_over_week", "trailing")
DIRECTIONS: tuple[str, ...] = ("above", "below", "either")
CHANGES: tuple[str, ...] = ("relative", "difference")
ACTIONS: tuple[str, ...] = ("rollback", "pause_for_review", "notify")
ON_FAIL: tuple[str, ...] = ("block", "warn")
ANY_SEGMENT = "*"  # the budget key of a single budget for every segment
_DURATION = re.compile(r"^\s*(\d+)\s*([hd])\s*$")
_NAME = re.compile(r"^[A-Za-z0-9_.:\-]+$")
# a gate's name may carry its segment column's own name, in any script (cpa_by_地域); it never becomes a path
_GATE_NAME = re.compile(r"^[\w.:\-]+$")


def parse_hours(text: Any, *, where: str, field_name: str, allow_zero: bool = False) -> int:
    """'6h' or '2d' as whole hours; anything else is a PolicyError naming the field."""
    if isinstance(text, bool) or not isinstance(text, str | int):
        raise PolicyError(f"{where}: {field_name} must be a duration like \"24h\" or \"7d\", got {text!r}")
    if isinstance(text, int):
        raise PolicyError(f"{where}: {field_name} must say its unit, e.g. \"{text}h\" or \"{text}d\", got the bare number {text}")
    m = _DURATION.match(text)
    if not m:
        raise PolicyError(f"{where}: {field_name} must be a duration like \"24h\" or \"7d\", got {text!r}")
    hours = int(m.group(1)) * (24 if m.group(2) == "d" else 1)
    if hours <= 0 and not allow_zero:
        raise PolicyError(f"{where}: {field_name} must be at least one hour, got {text!r}")
    if hours > DURATION_HOURS.high:
        raise PolicyError(f"{where}: {field_name} must be at most {MAX_DAYS:,} days, got {text!r}")
    return hours


def format_hours(hours: int) -> str:
    return f"{hours // 24}d" if hours % 24 == 0 and hours >= 24 else f"{hours}h"


@dataclass(frozen=True)
class Gate:
    """One rule: alert when `metric` (compared as `comparison`) crosses `threshold` `consecutive` times in a row."""

    name: str
    metric: str
    threshold: float
    action: Action = "notify"
    comparison: Comparison = "absolute"
    direction: Direction = "above"
    change: Change = "relative"
    window_hours: int = 24
    every_hours: int = 1
    consecutive: int = 1
    min_sample: float = 0.0
    baseline_days: int = 7
    by: tuple[str, ...] | None = None  # None: the metric's default segmentation
    filter: tuple[tuple[str, tuple[str, ...]], ...] = ()
    on_fail: OnFail = "block"  # in a release check: a failure blocks, or only warns
    budget: tuple[tuple[str, float], ...] = ()  # daily budget per segment value (ANY_SEGMENT: every segment)

    @property
    def is_budget(self) -> bool:
        return self.metric.startswith("budget_burn:")

    def budget_for(self, segment: str) -> float | None:
        """The daily budget of a segment label (``feature=ad_copy``), by its value or the label, else the default."""
        budgets = dict(self.budget)
        value = segment.split("=", 1)[1] if self.by and len(self.by) == 1 and "=" in segment else segment
        return budgets.get(value, budgets.get(segment, budgets.get(ANY_SEGMENT)))

    @property
    def release_only(self) -> bool:
        """A release check (candidate vs a baseline release, e.g. golden-set metrics): not replayed on history."""
        from driftdesk.gates.metrics import gate_metric

        return self.comparison == "release" or gate_metric(self.metric).table == "golden_runs"

    @property
    def baseline_shift_hours(self) -> int | None:
        """How far back the baseline window starts, relative to the current one (None for absolute)."""
        return {"absolute": None, "day_over_day": 24, "week_over_week": 168}.get(
            self.comparison, self.baseline_days * 24 if self.comparison == "trailing" else None
        )

    def describe(self) -> str:
        """One plain sentence, for tables and tooltips."""
        arrow = {"above": ">", "below": "<", "either": "|x| >"}[self.direction]
        if self.comparison == "absolute":
            what = f"{self.metric}"
        elif self.comparison == "trailing":
            what = f"{self.change} change of {self.metric} vs the trailing {self.baseline_days} days"
        elif self.comparison == "release":
            what = f"{self.change} change of {self.metric} vs the baseline release"
        else:
            what = f"{self.change} change of {self.metric} {baseline_label(self.comparison)}"
        by = f" per {', '.join(self.by)}" if self.by else ""
        warn = " (warns, does not block a release)" if self.on_fail == "warn" else ""
        if self.is_budget:
            return (f"{self.metric.split(':', 1)[1]} since 00:00 UTC as a share of the daily budget{by} {arrow} "
                    f"{self.threshold:g} -> {self.action}")
        if self.release_only:  # judged once per candidate: no window, no run of evaluations
            return f"{what}{by} {arrow} {self.threshold:g} -> {self.action}{warn}"
        return (f"{what}{by} over {format_hours(self.window_hours)} {arrow} {self.threshold:g}, "
                f"{self.consecutive} evaluation(s) in a row -> {self.action}{warn}")

    def to_dict(self) -> dict:
        d: dict[str, Any] = {
            "name": self.name,
            "metric": self.metric,
            "comparison": self.comparison,
            "threshold": self.threshold,
            "direction": self.direction,
            "window": format_hours(self.window_hours),
            "every": format_hours(self.every_hours),
            "consecutive": self.consecutive,
            "min_sample": self.min_sample,
            "action": self.action,
        }
        if self.comparison != "absolute":
            d["change"] = self.change
        if self.comparison == "trailing":
            d["baseline_days"] = self.baseline_days
        if self.by is not None:
            d["by"] = list(self.by)
        if self.filter:
            d["filter"] = {c: list(v) for c, v in self.filter}
        if self.on_fail != "block":
            d["on_fail"] = self.on_fail
        if self.budget:
            budgets = dict(self.budget)
            d["budget"] = budgets[ANY_SEGMENT] if list(budgets) == [ANY_SEGMENT] else budgets
        if self.is_budget:
            d.pop("window")
        return d


@dataclass(frozen=True)
class Policy:
    """A named list of gates, plus how alerts are matched to incidents in a backtest (grace after an incident).

    ``notes``: what reading the file noticed without refusing it (a metric written by a deprecated name).
    """

    gates: tuple[Gate, ...]
    name: str = "policy"
    description: str = ""
    grace_hours: int = 24
    notes: tuple[str, ...] = ()

    def gate(self, name: str) -> Gate:
        for g in self.gates:
            if g.name == name:
                return g
        raise PolicyError(f"policy {self.name!r} has no gate {name!r}; gates are {[g.name for g in self.gates]}")

    def with_gate(self, gate: Gate, index: int | None = None) -> Policy:
        """A copy with `gate` replacing the gate at `index` (or the one with the same name), or appended."""
        gates = list(self.gates)
        if index is None:
            index = next((i for i, g in enumerate(gates) if g.name == gate.name), len(gates))
        if index >= len(gates):
            gates.append(gate)
        else:
            gates[index] = gate
        return validate_policy(replace(self, gates=tuple(gates)))

    def to_dict(self) -> dict:
        return {
            "policy": {"name": self.name, "description": self.description, "grace": format_hours(self.grace_hours)},
            "gate": [g.to_dict() for g in self.gates],
        }

    def to_toml(self) -> str:
        return dumps_toml(self.to_dict())


# --------------------------------------------------------------------------- parsing

_GATE_KEYS = {
    "name", "metric", "comparison", "threshold", "direction", "change", "window", "every", "consecutive",
    "min_sample", "action", "baseline_days", "by", "filter", "on_fail", "budget",
}
_POLICY_KEYS = {"name", "description", "grace"}


def _where(source: str, index: int, raw: dict) -> str:
    name = raw.get("name") if isinstance(raw, dict) else None
    return f"{source}: gate {index + 1}" + (f" ({name!r})" if isinstance(name, str) else "")


def _choice(raw: dict, key: str, allowed: tuple[str, ...], default: str, where: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or value not in allowed:
        raise PolicyError(f"{where}: {key} must be one of {list(allowed)}, got {value!r}")
    return value


def _number(raw: dict, key: str, where: str, *, default: float | None = None, minimum: float | None = None,
            integer: bool = False) -> float:
    if key not in raw:
        if default is None:
            raise PolicyError(f"{where}: {key} is required")
        return default
    value = raw[key]
    kind = "a whole number" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, int | float):
        hint = " (write it without quotes)" if isinstance(value, str) else ""
        raise PolicyError(f"{where}: {key} must be {kind}, got {type(value).__name__} {value!r}{hint}")
    if integer and (isinstance(value, float) and not value.is_integer()):
        raise PolicyError(f"{where}: {key} must be {kind}, got {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise PolicyError(f"{where}: {key} must be finite, got {value!r}")
    if minimum is not None and value < minimum:
        raise PolicyError(f"{where}: {key} must be >= {minimum:g}, got {value!r}")
    return int(value) if integer else float(value)


def parse_gate(raw: Any, *, index: int = 0, source: str = "<policy>") -> Gate:
    """One [[gate]] table as a Gate; unknown keys, types and names are PolicyErrors naming the field."""
    return _read_gate(raw, index=index, source=source)[0]


def _read_gate(raw: Any, *, index: int, source: str) -> tuple[Gate, tuple[str, ...]]:
    """The gate and the notes on it (a deprecated metric name)."""
    from driftdesk.gates.metrics import gate_metric  # the registry knows the metric names

    where = _where(source, index, raw)
    if not isinstance(raw, dict):
        raise PolicyError(f"{where}: a gate must be a table of fields, got {raw!r}")
    unknown = sorted(set(raw) - _GATE_KEYS)
    if unknown:
        raise PolicyError(f"{where}: unknown field(s) {unknown}; a gate has {sorted(_GATE_KEYS)}")
    name = raw.get("name", f"gate_{index + 1}")
    if not isinstance(name, str) or not _GATE_NAME.match(name):
        raise PolicyError(f"{where}: name must be letters, digits, '_', '-', '.' or ':', got {name!r}")
    metric = raw.get("metric")
    if not isinstance(metric, str):
        raise PolicyError(f"{where}: metric is required and must be text like \"null_rate:ctr_7d\", got {metric!r}")
    spec = gate_metric(metric, context=where)
    comparison = _choice(raw, "comparison", COMPARISONS, "absolute", where)
    if spec.kind == "distance" and comparison == "absolute" and not spec.paired:
        raise PolicyError(f"{where}: {metric} compares two windows, so comparison must be one of "
                          f"{list(COMPARISONS[1:])}, not 'absolute'")
    if spec.change and comparison == "absolute":
        raise PolicyError(f"{where}: {metric} is a change against a baseline, so comparison must be one of "
                          f"{list(COMPARISONS[1:])}, not 'absolute'")
    if spec.paired and comparison != "release":
        raise PolicyError(f"{where}: {metric} compares a candidate release with a baseline release case by case, so "
                          f"comparison must be 'release', not {comparison!r}")
    if spec.table == "golden_runs" and comparison in TIME_COMPARISONS:
        raise PolicyError(f"{where}: {metric} reads golden runs, which have no time: comparison must be 'absolute' "
                          f"(the candidate alone) or 'release' (against the baseline release), not {comparison!r}")
    window_hours = parse_hours(raw.get("window", "24h"), where=where, field_name="window")
    every_hours = parse_hours(raw.get("every", "1h"), where=where, field_name="every")
    baseline_days = BASELINE_DAYS.check(_number(raw, "baseline_days", where, default=7, minimum=1, integer=True),
                                        where=where, error=PolicyError)
    if comparison == "trailing" and baseline_days * 24 < window_hours:
        raise PolicyError(f"{where}: a trailing baseline of {baseline_days} days is shorter than the window "
                          f"{format_hours(window_hours)}")
    by_raw = raw.get("by")
    by: tuple[str, ...] | None
    if by_raw is None:
        by = None
    elif isinstance(by_raw, str):
        by = (by_raw,) if by_raw else ()
    elif isinstance(by_raw, list) and all(isinstance(b, str) and b for b in by_raw):
        by = tuple(by_raw)
    else:
        raise PolicyError(f"{where}: by must be a column name or a list of column names, got {by_raw!r}")
    filt_raw = raw.get("filter", {})
    if not isinstance(filt_raw, dict):
        raise PolicyError(f"{where}: filter must be a table like {{ geo = [\"DE\"] }}, got {filt_raw!r}")
    filt = []
    for col, vals in filt_raw.items():
        vals = [vals] if isinstance(vals, str) else vals
        if not isinstance(vals, list) or not vals or not all(isinstance(v, str) for v in vals):
            raise PolicyError(f"{where}: filter.{col} must be a value or a list of values (text), got {filt_raw[col]!r}")
        filt.append((col, tuple(vals)))
    budget = _budget(raw, spec.family, comparison, where)
    return Gate(
        name=name,
        metric=spec.canonical,
        threshold=_number(raw, "threshold", where),
        action=_choice(raw, "action", ACTIONS, "notify", where),  # type: ignore[arg-type]
        comparison=comparison,  # type: ignore[arg-type]
        direction=_choice(raw, "direction", DIRECTIONS, "above", where),  # type: ignore[arg-type]
        change=_choice(raw, "change", CHANGES, "relative", where),  # type: ignore[arg-type]
        window_hours=window_hours,
        every_hours=every_hours,
        consecutive=CONSECUTIVE.check(_number(raw, "consecutive", where, default=1, minimum=1, integer=True),
                                      where=where, error=PolicyError),
        min_sample=_number(raw, "min_sample", where, default=0.0, minimum=0),
        baseline_days=baseline_days,
        by=by,
        filter=tuple(filt),
        on_fail=_choice(raw, "on_fail", ON_FAIL, "block", where),  # type: ignore[arg-type]
        budget=budget,
    ), ((f"{where}: {spec.note}",) if spec.note else ())


def _budget(raw: dict, family: str, comparison: str, where: str) -> tuple[tuple[str, float], ...]:
    """The daily budget of a budget_burn gate: one positive number, or a table of them per segment value."""
    if family != "budget_burn":
        if "budget" in raw:
            raise PolicyError(f"{where}: budget belongs to a budget_burn:<column> gate, not to {raw.get('metric')!r}")
        return ()
    if comparison != "absolute":
        raise PolicyError(f"{where}: a budget burn is already a share of the budget: comparison must be 'absolute'")
    if "window" in raw:
        raise PolicyError(f"{where}: a budget burn counts from 00:00 UTC each day; remove window")
    value = raw.get("budget")
    if value is None:
        raise PolicyError(f"{where}: a budget_burn gate needs budget = <amount per day, in the data's currency>, or a table per segment value "
                          "like budget = { ad_copy = 40.0 }")
    table = value if isinstance(value, dict) else {ANY_SEGMENT: value}
    if not table:
        raise PolicyError(f"{where}: budget is an empty table; give at least one segment's daily budget")
    out = []
    for key, amount in table.items():
        label = "budget" if key == ANY_SEGMENT else f"budget.{key}"
        if isinstance(amount, bool) or not isinstance(amount, int | float) or amount != amount:
            raise PolicyError(f"{where}: {label} must be a number (an amount per day, in the data's currency), got {amount!r}")
        if not 0 < amount < float("inf"):
            raise PolicyError(f"{where}: {label} must be a positive amount per day, got {amount!r} (a budget of zero "
                              "would be spent by the first call)")
        out.append((str(key), float(amount)))
    return tuple(out)


def policy_from_dict(doc: Any, *, source: str = "<policy>") -> Policy:
    """A Policy from the parsed document: an optional [policy] table and one or more [[gate]] tables."""
    if not isinstance(doc, dict):
        raise PolicyError(f"{source}: a policy must be a table with [[gate]] entries")
    unknown = sorted(set(doc) - {"policy", "gate"})
    if unknown:
        raise PolicyError(f"{source}: unknown section(s) {unknown}; a policy file has [policy] and [[gate]] sections")
    head = doc.get("policy", {})
    if not isinstance(head, dict):
        raise PolicyError(f"{source}: [policy] must be a table")
    bad = sorted(set(head) - _POLICY_KEYS)
    if bad:
        raise PolicyError(f"{source}: [policy] has unknown field(s) {bad}; it has {sorted(_POLICY_KEYS)}")
    gates_raw = doc.get("gate", [])
    if isinstance(gates_raw, dict):
        gates_raw = [gates_raw]
    if not isinstance(gates_raw, list) or not gates_raw:
        raise PolicyError(f"{source}: the policy has no gates; add at least one [[gate]] section")
    GATES.check(len(gates_raw), where=source, error=PolicyError)
    read = [_read_gate(g, index=i, source=source) for i, g in enumerate(gates_raw)]
    gates = tuple(g for g, _ in read)
    name = head.get("name", "policy")
    if not isinstance(name, str) or not _NAME.match(name):
        raise PolicyError(f"{source}: [policy] name must be letters, digits, '_', '-', '.' or ':', got {name!r}")
    try:  # adopted versions are kept in a folder of this name
        safe_name(name, what="[policy] name")
    except PathError as exc:
        raise PolicyError(f"{source}: {exc}") from exc
    description = head.get("description", "")
    if not isinstance(description, str):
        raise PolicyError(f"{source}: [policy] description must be text")
    grace = parse_hours(head.get("grace", "24h"), where=f"{source}: [policy]", field_name="grace", allow_zero=True)
    notes = tuple(n for _, gate_notes in read for n in gate_notes)
    return validate_policy(Policy(gates=gates, name=name, description=description, grace_hours=grace, notes=notes),
                           source=source)


def validate_policy(policy: Policy, *, source: str = "<policy>") -> Policy:
    """Checks across gates: names unique."""
    seen: set[str] = set()
    for g in policy.gates:
        if g.name in seen:
            raise PolicyError(f"{source}: two gates are named {g.name!r}; gate names must be unique")
        seen.add(g.name)
    return policy


_LINE_COL = re.compile(r"\(at line (\d+), column (\d+)\)")


def parse_policy(text: str, *, source: str = "<policy>") -> Policy:
    """Parse TOML text into a Policy. A syntax error names the line and column and shows the line."""
    try:
        check_size(len(text.encode("utf-8", "surrogatepass")), what=source, limit=TOML_BYTES)
        doc = check_depth(tomllib.loads(text), what=source)
    except RecursionError as exc:
        raise PolicyError(f"{source}: nested deeper than {NESTING_DEPTH} levels of tables and lists") from exc
    except LimitError as exc:
        raise PolicyError(str(exc)) from exc
    except tomllib.TOMLDecodeError as exc:
        msg = str(exc)
        m = _LINE_COL.search(msg)
        if m:
            line, col = int(m.group(1)), int(m.group(2))
            reason = _LINE_COL.sub("", msg).strip()
            lines = text.splitlines()
            shown = lines[line - 1].strip() if 0 < line <= len(lines) else ""
            raise PolicyError(f"{source}: TOML syntax error at line {line}, column {col}: {reason}"
                              + (f" in `{shown}`" if shown else "")) from exc
        raise PolicyError(f"{source}: TOML syntax error: {msg}") from exc
    return policy_from_dict(doc, source=source)


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file (TOML)."""
    path = Path(path)
    if not path.exists():
        raise PolicyError(f"{path}: no such policy file")
    if path.is_dir():
        raise PolicyError(f"{path}: is a folder, expected a policy file (.toml)")
    if path.suffix.lower() not in (".toml", ""):
        raise PolicyError(f"{path}: policies are TOML files (.toml)")
    try:
        check_size(path.stat().st_size, what=str(path), limit=TOML_BYTES)
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, LimitError) as exc:
        raise PolicyError(f"{path}: cannot read the policy: {exc}") from exc
    return parse_policy(text, source=str(path))


# --------------------------------------------------------------------------- writing and URL encoding


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value else "nan"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def _toml_key(key: str) -> str:
    return key if re.match(r"^[A-Za-z0-9_\-]+$", key) else json.dumps(key)


def dumps_toml(doc: dict) -> str:
    """The policy document as TOML: a [policy] table, then one [[gate]] per gate."""
    out = ["[policy]"]
    out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in doc.get("policy", {}).items()]
    for gate in doc.get("gate", []):
        out += ["", "[[gate]]"]
        out += [f"{_toml_key(k)} = {_toml_value(v)}" for k, v in gate.items()]
    return "\n".join(out) + "\n"


def encode_policy(policy: Policy) -> str:
    """A compact, URL-safe text for a policy (deflated JSON, base64url), so a proposal is a shareable link."""
    raw = json.dumps(policy.to_dict(), separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")


def decode_policy(text: str) -> Policy:
    """The inverse of encode_policy; anything malformed, too long, inflating too far or nested too deep is a
    PolicyError naming its bound."""
    if not isinstance(text, str) or len(text) > POLICY_LINK_CHARS:
        size = f"{len(text):,} characters" if isinstance(text, str) else type(text).__name__
        raise PolicyError(f"the policy in the link is {size}; the limit is {POLICY_LINK_CHARS:,}")
    try:
        padded = text + "=" * (-len(text) % 4)
        inflater = zlib.decompressobj()
        raw = inflater.decompress(base64.urlsafe_b64decode(padded.encode()), POLICY_INFLATED_BYTES + 1)
        if len(raw) > POLICY_INFLATED_BYTES or inflater.unconsumed_tail:
            raise PolicyError(f"the policy in the link inflates to more than {POLICY_INFLATED_BYTES:,} bytes, the limit")
        doc = check_depth(json.loads(raw), what="the policy in the link")
    except (ValueError, zlib.error, TypeError, RecursionError) as exc:
        if isinstance(exc, DriftdeskError):
            raise PolicyError(str(exc)) from exc
        raise PolicyError(f"the policy in the link cannot be read ({type(exc).__name__}); it may be truncated") from exc
    return policy_from_dict(doc, source="policy in the link")


__all__ = [
    "ACTIONS", "ANY_SEGMENT", "CHANGES", "COMPARISONS", "DIRECTIONS", "ON_FAIL", "Gate", "Policy", "decode_policy", "dumps_toml",
    "encode_policy", "format_hours", "load_policy", "parse_gate", "parse_hours", "parse_policy",
    "policy_from_dict", "validate_policy",
]
