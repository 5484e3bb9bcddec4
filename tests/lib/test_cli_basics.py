"""The `driftdesk` command as a pipeline sees it: a real subprocess, exit codes, one-line errors, strict JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from driftdesk.contract import load_dataset


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
    return subprocess.run([sys.executable, "-m", "driftdesk.cli", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=120)


def test_sample_writes_every_table_and_reports_them_as_json(tmp_path):
    out = tmp_path / "data"
    proc = run("sample", "--out", str(out), "--days", "14", "--seed", "3", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["out"] == str(out)
    names = sorted(Path(f["path"]).name for f in doc["files"])
    assert names == sorted(["kpis.parquet", "decisions.parquet", "llm_calls.parquet", "golden_runs.parquet",
                            "service.parquet", "releases.csv", "incidents.csv", "calendar.csv", "driftdesk.toml",
                            "policy.toml"])
    for f in doc["files"]:
        assert Path(f["path"]).stat().st_size == f["bytes"] > 0
    ds = load_dataset(out)
    assert ds["kpis"].frame.height == 14 * 24 * 60
    assert ds["incidents"].frame.height == 0 or ds["incidents"].frame["start"].max() < ds["kpis"].frame["ts"].max()


def test_sample_table_format_lists_files_for_people(tmp_path):
    proc = run("sample", "--out", str(tmp_path), "--days", "14")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 10
    assert all(line.endswith(" bytes") for line in lines)


def test_sample_scale_is_passed_through(tmp_path):
    assert run("sample", "--out", str(tmp_path / "a"), "--days", "14").returncode == 0
    assert run("sample", "--out", str(tmp_path / "b"), "--days", "14", "--scale", "2").returncode == 0
    rows = [pl.scan_parquet(tmp_path / d / "decisions.parquet").select(pl.len()).collect().item() for d in "ab"]
    assert 1.9 < rows[1] / rows[0] < 2.1


@pytest.mark.parametrize("args,needle", [
    (["sample", "--out", "{tmp}", "--days", "5"], "--days must be between 14 and 3,660"),
    (["sample", "--out", "{tmp}", "--scale", "0"], "--scale must be between 1 and 1,000"),
    (["sample", "--out", "{tmp}", "--days", "many"], "invalid int value: 'many'"),
    (["sample"], "the following arguments are required: --out"),
    (["nonsense"], "invalid choice: 'nonsense'"),
    (["sample", "--out", "{tmp}/file.txt"], "exists and is not a folder"),
])
def test_bad_input_exits_2_with_one_line_on_stderr(tmp_path, args, needle):
    (tmp_path / "file.txt").write_text("x")
    proc = run(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("driftdesk: ") and needle in lines[0]


def test_installed_entry_point_works(tmp_path):
    exe = Path(sys.executable).parent / "driftdesk"
    if not exe.exists():
        pytest.skip("no console script next to this interpreter")
    proc = subprocess.run([str(exe), "sample", "--out", str(tmp_path), "--days", "14", "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"]


def test_overview_table_shows_each_layers_whole_note(tmp_path):
    import contextlib
    import datetime as dt
    import io

    from driftdesk.cli import main

    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 16), "1h", closed="left", eager=True,
                           time_zone="UTC")
    halved = (ts.dt.date() == dt.date(2026, 9, 15)).to_numpy()  # the last day converts half as often
    pl.DataFrame({"ts": ts, "geo": "US", "clicks": 100, "impressions": 1000, "spend": 50.0,
                  "conversions": [2 if h else 4 for h in halved]}).write_parquet(tmp_path / "kpis.parquet")
    outputs = {}
    for fmt in ("json", "table"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(["overview", "--data", str(tmp_path), "--format", fmt]) == 0
        outputs[fmt] = out.getvalue()
    doc = json.loads(outputs["json"])
    business = next(r for r in doc["layers"] if r["layer"] == "business")
    assert business["status"] == "alert" and len(business["note"]) > 40
    assert business["note"] in outputs["table"] and doc["answer"] in outputs["table"]
    assert "shape:" not in outputs["table"] and "…" not in outputs["table"]


def test_llm_table_says_the_regressions_and_shows_every_group_whole(tmp_path):
    import contextlib
    import datetime as dt
    import io

    from driftdesk.cli import main

    n = 2000  # per window; validator failures 1% before, 6% after for one model (a rise beyond noise)
    ts = [dt.datetime(2026, 4, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=5 * i) for i in range(2 * n)]
    ok = [not ((i % 100 == 0) if i < n else (i % 100 < 6)) for i in range(2 * n)]
    pl.DataFrame({"ts": ts, "model": "a-model-with-a-rather-long-name", "validator_ok": ok, "cost": 0.002,
                  "latency_ms": 800.0, "output_tokens": 150}).write_parquet(tmp_path / "llm_calls.parquet")
    middle = ts[n].strftime("%Y-%m-%dT%H:%M")
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        code = main(["llm", "--data", str(tmp_path), "--by", "model", "--baseline", f"2026-04-01T00:00/{middle}",
                     "--current", f"{middle}/2026-04-30T00:00", "--format", "table"])
    text = out.getvalue()
    assert code == 0 and "shape:" not in text and "…" not in text
    assert "regression: validator failure rate rose from 1.00% to 6.00%" in text
    rows = [line for line in text.splitlines() if line.startswith("a-model-with-a-rat")]
    assert len(rows) == 2 and all(" 2000 " in r for r in rows) and "6.0%" in rows[1]


@pytest.mark.parametrize(("args", "code"), [
    (["llm", "--by", "prompt_version"], 0),
    (["llm", "--by", "prompt_version", "--baseline", "2026-09-28T00:00/2026-10-05T00:00",
      "--current", "2026-10-05T00:00/2026-10-12T00:00"], 0),
    (["overview"], 0),
])
def test_a_command_returns_its_exit_code_not_none(sample_dir, args, code):
    """The command function itself returns the code (``main`` would turn a forgotten None into 0 and hide it)."""
    import contextlib
    import io

    from driftdesk.cli import build_parser
    from driftdesk.format import money_in

    ns = build_parser().parse_args([args[0], "--data", str(sample_dir), *args[1:], "--format", "json"])
    with contextlib.redirect_stdout(io.StringIO()) as out, money_in("USD"):
        returned = ns.func(ns)
    assert returned == code and isinstance(returned, int) and json.loads(out.getvalue())


def test_every_command_function_ends_by_returning_its_code():
    """No command ends on an expression (its code would be None): the last statement of each ``cmd_*`` is a return
    (or a raise)."""
    import ast

    import driftdesk.cli as cli

    found = 0
    for path in sorted(Path(cli.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("cmd_"):
                found += 1
                last = node.body[-1]
                assert isinstance(last, ast.Raise) or (isinstance(last, ast.Return) and last.value is not None), (
                    f"{path.name}: {node.name} does not end by returning its exit code")
    assert found >= 15


def test_table_output_writes_huge_numbers_in_three_significant_digits(tmp_path):
    """A spend of 1e300 (a unit mix-up in an export) is a number of 300 digits in fixed notation: the table writes
    values beyond 1e15 as 1.41e+301, as the library's formats do, and the JSON keeps the full value."""
    import contextlib
    import datetime as dt
    import io

    from driftdesk.cli import main

    ts = pl.datetime_range(dt.datetime(2026, 9, 1), dt.datetime(2026, 9, 15), "1h", closed="left", eager=True,
                           time_zone="UTC")
    kpis = pl.DataFrame({"ts": ts}).join(pl.DataFrame({"geo": ["US", "DE"]}), how="cross").with_columns(
        conversions=pl.when(pl.col("geo") == "US").then(10).otherwise(5),
        spend=pl.when(pl.col("ts").dt.day() < 8).then(1e300).otherwise(2e300))
    kpis.write_parquet(tmp_path / "kpis.parquet")
    outputs = {}
    for fmt in ("json", "table"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(["impact", "--input", str(tmp_path / "kpis.parquet"), "--baseline",
                         "2026-09-01T00:00/2026-09-08T00:00", "--current", "2026-09-08T00:00/2026-09-15T00:00",
                         "--by", "geo", "--format", fmt]) == 0
        outputs[fmt] = out.getvalue()
    total = json.loads(outputs["json"])["total"]
    assert total["baseline"] == pytest.approx(168 * 2e300 / (168 * 15))  # CPA: spend over conversions, by hand
    lines = outputs["table"].splitlines()
    assert max(len(line) for line in lines) < 200, max(lines, key=len)[:300]
    assert f"baseline {total['baseline']:.3g}  current {total['current']:.3g}" in outputs["table"]


def test_python_dash_m_driftdesk_is_the_command(tmp_path):
    """Without the console script on PATH (a virtualenv not activated), ``python -m driftdesk`` runs the CLI."""
    env = {**os.environ, "DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"}
    proc = subprocess.run([sys.executable, "-m", "driftdesk", "sample", "--out", str(tmp_path), "--days", "14",
                           "--format", "json"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["files"]


def test_a_group_without_a_value_reads_as_missing_in_tables(tmp_path):
    """Calls whose prompt_version is empty are a group of their own: JSON null, and '(missing)' in the table for
    people rather than Python's None."""
    import contextlib
    import datetime as dt
    import io

    from driftdesk.cli import main

    ts = [dt.datetime(2026, 4, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i) for i in range(300)]
    pl.DataFrame({"ts": ts, "prompt_version": [None if i % 3 == 0 else "v1" for i in range(300)],
                  "latency_ms": 800.0}).write_parquet(tmp_path / "llm_calls.parquet")
    outputs = {}
    for fmt in ("json", "table"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            assert main(["llm", "--data", str(tmp_path), "--by", "prompt_version", "--format", fmt]) == 0
        outputs[fmt] = out.getvalue()
    groups = {g["prompt_version"]: g["calls"] for g in json.loads(outputs["json"])["groups"]}
    assert groups == {None: 100, "v1": 200}
    rows = {line.split()[0]: line.split()[1] for line in outputs["table"].splitlines()[1:]}
    assert rows == {"(missing)": "100", "v1": "200"} and "None" not in outputs["table"]
