"""A decision log past the memory budget is scanned, and ``canary`` and ``incident`` judge it from the lazy frame
narrowed to the replay's columns, the two arms' rows and the rollout's span: the same JSON as on the table read
whole, no column read that the replay does not need, and the same messages for bad input."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json

import polars as pl
import pytest

from driftdesk import engine
from driftdesk.cli import main
from driftdesk.engine.scan import read_contract_table
from driftdesk.errors import DriftdeskError
from driftdesk.rollout import judge_rollout
from driftdesk.rollout.judge import _narrowed, default_rollout_policy

CANARY = ["--control", "v1.9", "--candidate", "v2.0"]


def run(*args: str) -> tuple[int, dict]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main([*args, "--format", "json"])
    return code, json.loads(out.getvalue())


def rounded(doc):
    """A JSON document with its floats to 12 significant digits: the streaming engine adds a scan's rows in another
    order than the table read whole, which can change an interval's last bits."""
    if isinstance(doc, dict):
        return {k: rounded(v) for k, v in doc.items()}
    if isinstance(doc, list | tuple):
        return [rounded(v) for v in doc]
    return float(f"{doc:.12g}") if isinstance(doc, float) else doc


@pytest.fixture(scope="module")
def decisions(sample_dir) -> pl.DataFrame:
    return pl.read_parquet(sample_dir / "decisions.parquet")


@pytest.mark.parametrize("command", [
    ["canary", *CANARY, "--by", "geo"],
    ["canary", *CANARY, "--start", "2026-10-06T00:00", "--end", "2026-10-09T00:00"],
    ["incident", "--id", "INC-c"],
])
def test_canary_and_incident_on_a_scan_answer_as_read_whole(sample_dir, monkeypatch, command):
    args = [command[0], "--data", str(sample_dir), *command[1:]]
    want = run(*args)
    monkeypatch.setenv(engine.BUDGET_ENV, "1M")
    assert isinstance(read_contract_table(sample_dir / "decisions.parquet", "decisions"), pl.LazyFrame)
    assert rounded(run(*args)) == rounded(want)
    if command[0] == "incident":
        assert want[1]["rollout"]["decision"] == "rollback"  # the canary was judged on the scan too


def test_the_narrowed_scan_reads_only_the_replay_columns_and_rows(decisions):
    """A column the replay does not read fails if it is ever evaluated (a strict cast of text to a number)."""
    poisoned = decisions.lazy().with_columns(pl.col("browser").cast(pl.Int64, strict=True).alias("not_needed"))
    with pytest.raises(pl.exceptions.InvalidOperationError):
        poisoned.select("not_needed").collect()
    kw = {"control": "v1.9", "candidate": "v2.0", "segments": ("geo", "device")}
    got = judge_rollout(poisoned, **kw)
    assert rounded(got.to_dict()) == rounded(judge_rollout(decisions, **kw).to_dict())

    policy = default_rollout_policy()
    narrowed = _narrowed(poisoned, policy=policy, by=None, arm=None, start=None, end=None, ts="ts", **kw)
    metric_columns = {"score", "label", "decision", "spend", "revenue"}
    assert set(narrowed.columns) <= {"ts", "model_version", "geo", "device"} | metric_columns
    assert {"not_needed", "browser", "release_id", "recency_days"}.isdisjoint(narrowed.columns)
    assert set(narrowed["model_version"].unique()) == {"v1.9", "v2.0"}
    cand = decisions.filter(pl.col("model_version") == "v2.0")["ts"]
    first = cand.min().replace(minute=0, second=0, microsecond=0)
    assert narrowed["ts"].min() >= first and narrowed["ts"].max() < cand.max() + dt.timedelta(hours=1)
    in_span = decisions.filter(pl.col("model_version").is_in(["v1.9", "v2.0"]) & (pl.col("ts") >= first)
                               & (pl.col("ts") < got.span.end))
    assert narrowed.height == in_span.height


@pytest.mark.parametrize("bad", [
    {"by": "nosuch"},
    {"arm": "nosuch"},
    {"control": "v1.8"},
    {"start": dt.datetime(2027, 1, 2), "end": dt.datetime(2027, 1, 1)},
])
def test_bad_input_gets_the_same_message_on_a_scan(decisions, bad):
    kw = {"control": "v1.9", "candidate": "v2.0", "segments": ("geo", "device"), **bad}
    with pytest.raises(DriftdeskError) as whole:
        judge_rollout(decisions, **kw)
    with pytest.raises(DriftdeskError) as lazy:
        judge_rollout(decisions.lazy(), **kw)
    assert str(lazy.value) == str(whole.value)
