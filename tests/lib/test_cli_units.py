"""The CLI tables that mix units row by row (a canary's gates, a release gate's checks) write each value in its own
unit and the data's currency: hand-formatted expectations from the JSON numbers of the same run."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from driftdesk.cli import main
from driftdesk.cli.gates import _gate_unit
from driftdesk.contract import MAPPING_FILE
from driftdesk.gates.policy import Gate


def run(args: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(args)
    return code, out.getvalue()


POLICY = """[policy]
name = "units"

[[gate]]
name = "cost"
metric = "cost_per_call"
by = []
comparison = "absolute"
threshold = 1000.0

[[gate]]
name = "failures"
metric = "validator_failure_rate"
by = []
comparison = "absolute"
threshold = 0.02

[[gate]]
name = "tokens"
metric = "tokens_out_mean"
by = []
comparison = "absolute"
threshold = 300
"""


def test_gates_check_writes_each_gate_in_its_unit_and_yen_whole(tmp_path: Path, sample_dir: Path):
    calls = pl.read_parquet(sample_dir / "llm_calls.parquet").head(1000).with_columns(
        cost=pl.Series([1200.0] * 500 + [1269.12] * 500, dtype=pl.Float32),  # mean 1,234.56 yen
        validator_ok=pl.Series([False] * 30 + [True] * 970),  # 30 failures in 1,000 calls: 3%
        output_tokens=pl.lit(250, pl.Int32))
    calls.write_parquet(tmp_path / "calls.parquet")
    (tmp_path / MAPPING_FILE).write_text('currency = "JPY"\n', encoding="utf-8")
    (tmp_path / "policy.toml").write_text(POLICY, encoding="utf-8")
    code, out = run(["gates", "check", "--policy", str(tmp_path / "policy.toml"), "--baseline",
                     str(tmp_path / "calls.parquet"), "--candidate", str(tmp_path / "calls.parquet"), "--format",
                     "table"])
    rows = {line.split()[0]: line.split()[2:4] for line in out.splitlines()[2:]}
    assert code == 1
    assert rows == {"cost": ["¥1,235", "¥1,000"], "failures": ["3.00%", "2.00%"], "tokens": ["250", "tokens"]}
    assert "250 tokens  300 tokens" in out


@pytest.mark.parametrize(("metric", "comparison", "change", "unit"), [
    ("cost_per_call", "absolute", "relative", "usd"),  # a level of money
    ("cost_per_call", "week_over_week", "difference", "usd"),  # a difference of money
    ("cost_per_call", "week_over_week", "relative", "change"),  # +14%
    ("cr", "absolute", "relative", "rate"),
    ("cr", "trailing", "difference", "pp"),
    ("latency_p99_ms", "absolute", "relative", "ms"),
    ("golden_flips_to_fail", "release", "difference", "count"),  # cases that flipped
    ("psi:score", "week_over_week", "difference", "score"),
])
def test_a_gates_unit_is_its_thresholds_else_its_metrics(metric, comparison, change, unit):
    assert _gate_unit(Gate("g", metric, 0.1, comparison=comparison, change=change)) == unit


@pytest.fixture(scope="module")
def eur_folder(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("eur_canary") / "data"
    shutil.copytree(sample_dir, folder)
    path = folder / MAPPING_FILE
    path.write_text('currency = "EUR"\n' + path.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_canary_table_writes_each_row_in_its_gates_unit(eur_folder: Path):
    args = ["canary", "--data", str(eur_folder), "--control", "v1.9", "--candidate", "v2.0", "--by", "geo"]
    code, text = run([*args, "--format", "table"])
    _, doc = run([*args, "--format", "json"])
    doc = json.loads(doc)
    assert code == 1 and doc["currency"] == "EUR"
    lines = {tuple(line.split()[:2]): line for line in text.splitlines()[3:] if not line.startswith("note:")}
    seg = {(s["gate"], s["segment"]): s for s in doc["segments"]}
    cpa = seg["cpa", "geo=US"]  # a CPA above €1: cents; its relative change of 10% or more: whole percent
    assert 1 <= cpa["control"] < 1000 and 1 <= cpa["candidate"] < 1000 and abs(cpa["change"]) >= 0.1
    assert lines["cpa", "geo=US"].split()[2:5] == [f"€{cpa['control']:.2f}", f"€{cpa['candidate']:.2f}",
                                                   f"{100 * cpa['change']:+.0f}%"]
    cr = seg["conversion_rate", "geo=US"]  # shares from 10%: one decimal
    assert 0.1 <= cr["control"] < 1 and 0.1 <= cr["candidate"] < 1
    assert lines["conversion_rate", "geo=US"].split()[2:4] == [f"{100 * cr['control']:.1f}%",
                                                               f"{100 * cr['candidate']:.1f}%"]
    ece = seg["ece", "geo=DE"]  # a score: four decimals, its difference unsigned as the Rollouts page writes it
    assert lines["ece", "geo=DE"].split()[2:7] == [f"{ece['control']:.4f}", f"{ece['candidate']:.4f}",
                                                   f"{ece['change']:.4f}", f"[{ece['ci_low']:.4f},",
                                                   f"{ece['ci_high']:.4f}]"]
    assert "$" not in text and "€-" not in text
