"""The CLI on the sample data, one case per command: the inputs each case needs and the arguments it runs with.

The JSON every case printed is kept in ``tests/golden/cli/<case>.json``. ``test_cli_golden.py`` runs each case
again and compares, key by key, through ``RENAMED_KEYS`` and ``RENAMED_VALUES`` (old -> new, for keys and words
renamed after the files were captured): a refactor must not change a number. Regenerate only on purpose, after a change that is
meant to change results: ``python tests/golden/cli_cases.py``.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
GOLDEN_DIR = HERE / "cli"

# windows of the sample story (see sample_data/STORY.md)
QUIET_WEEK = "2026-09-07T00:00/2026-09-14T00:00"
BR_WEEK = "2026-09-14T00:00/2026-09-21T00:00"  # incident b: mix from geo=BR
BEFORE_C = "2026-09-28T00:00/2026-10-05T00:00"
DURING_C = "2026-10-05T00:00/2026-10-12T00:00"  # incident c: model v2.0, DE CPA up


def write_inputs(sample: Path, out: Path) -> dict[str, Path]:
    """Input files the file-based commands read, cut from the sample tables."""
    out.mkdir(parents=True, exist_ok=True)
    decisions = pl.read_parquet(sample / "decisions.parquet")
    kpis = pl.read_parquet(sample / "kpis.parquet")
    golden = pl.read_parquet(sample / "golden_runs.parquet")
    files: dict[str, Path] = {}

    def window(frame: pl.DataFrame, text: str) -> pl.DataFrame:
        a, b = (pl.lit(x).str.to_datetime("%Y-%m-%dT%H:%M") for x in text.split("/"))
        return frame.filter((pl.col("ts") >= a) & (pl.col("ts") < b))

    for name, text in (("dec_quiet", QUIET_WEEK), ("dec_before_c", BEFORE_C), ("dec_during_c", DURING_C)):
        files[name] = out / f"{name}.parquet"
        window(decisions, text).write_parquet(files[name])
    # incident a's day against the same weekday a week before
    files["dec_a_base"] = out / "dec_a_base.parquet"
    window(decisions, "2026-08-19T00:00/2026-08-20T00:00").write_parquet(files["dec_a_base"])
    files["dec_a_cur"] = out / "dec_a_cur.parquet"
    window(decisions, "2026-08-26T00:00/2026-08-27T00:00").write_parquet(files["dec_a_cur"])
    # one hourly series per geo of two incidents (conversions) and one for all traffic (CPA) for the seasonality command
    files["conv_by_geo"] = out / "conv_by_geo.parquet"
    (kpis.filter(pl.col("geo").is_in(["BR", "DE"])).group_by("ts", "geo").agg(pl.col("conversions").sum())
     .sort("geo", "ts").write_parquet(files["conv_by_geo"]))
    files["cpa_all"] = out / "cpa_all.csv"
    (kpis.group_by("ts").agg((pl.col("spend").sum() / pl.col("conversions").sum()).alias("cpa")).sort("ts")
     .write_csv(files["cpa_all"]))
    for release in ("prompt-v2", "index-idx-2026-10", "prompt-v3"):
        files[release] = out / f"golden-{release}.parquet"
        golden.filter(pl.col("release_id") == release).write_parquet(files[release])
    return files


def cases(sample: Path, files: dict[str, Path]) -> dict[str, list[str]]:
    """Case name -> CLI arguments (without --format json, which every case gets)."""
    s, f = str(sample), {k: str(v) for k, v in files.items()}
    return {
        "overview_default": ["overview", "--data", s],
        "overview_c": ["overview", "--data", s, "--day", "2026-10-08", "--span", "14"],
        "overview_a": ["overview", "--data", s, "--day", "2026-08-26"],
        "drift_a": ["drift", "--baseline", f["dec_a_base"], "--current", f["dec_a_cur"], "--by", "source"],
        "drift_c": ["drift", "--baseline", f["dec_before_c"], "--current", f["dec_during_c"],
                    "--columns", "score,ctr_7d,geo,ad_format", "--by", "geo"],
        "drift_quiet": ["drift", "--baseline", f["dec_quiet"], "--current", f["dec_before_c"]],
        "seasonality_geo": ["seasonality", "--input", f["conv_by_geo"], "--ts", "ts", "--value", "conversions",
                            "--by", "geo", "--calendar", str(sample / "calendar.csv")],
        "seasonality_causal": ["seasonality", "--input", f["cpa_all"], "--ts", "ts", "--value", "cpa", "--causal"],
        "calibration_all": ["calibration", "--input", str(sample / "decisions.parquet"), "--score", "score",
                            "--label", "label", "--by", "model_version"],
        "calibration_quantile": ["calibration", "--input", f["dec_during_c"], "--score", "score", "--label", "label",
                                 "--bins", "15", "--strategy", "quantile", "--by", "geo,device"],
        "impact_b": ["impact", "--input", str(sample / "kpis.parquet"), "--baseline", QUIET_WEEK, "--current", BR_WEEK,
                     "--by", "geo"],
        "impact_c": ["impact", "--input", str(sample / "kpis.parquet"), "--baseline", BEFORE_C, "--current", DURING_C,
                     "--by", "geo,device", "--metric", "roas"],
        "impact_c_cr": ["impact", "--input", str(sample / "kpis.parquet"), "--baseline", BEFORE_C, "--current",
                        DURING_C, "--by", "device", "--metric", "cr"],
        "llm_prompt": ["llm", "--input", str(sample / "llm_calls.parquet"), "--by", "prompt_version"],
        "llm_model_windows": ["llm", "--input", str(sample / "llm_calls.parquet"), "--by", "model",
                              "--baseline", "2026-09-16T00:00/2026-09-23T00:00",
                              "--current", "2026-09-23T00:00/2026-09-25T00:00"],
        "gates_backtest": ["gates", "backtest", "--policy", str(sample / "policy.toml"), "--data", s],
        "gates_check_index": ["gates", "check", "--policy", str(sample / "policy.toml"), "--baseline", f["prompt-v2"],
                              "--candidate", f["index-idx-2026-10"]],
        "gates_check_prompt": ["gates", "check", "--policy", str(sample / "policy.toml"), "--baseline",
                               f["prompt-v2"], "--candidate", f["prompt-v3"]],
    }


def run_case(args: list[str]) -> tuple[int, dict]:
    """Run the CLI in-process; return its exit code and parsed JSON."""
    from driftdesk.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main([*args, "--format", "json"])
    return code, json.loads(out.getvalue())


def regenerate() -> None:
    import tempfile

    from driftdesk.paths import sample_data_dir

    sample = sample_data_dir()
    GOLDEN_DIR.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = write_inputs(sample, Path(tmp))
        for name, args in cases(sample, files).items():
            code, doc = run_case(args)
            (GOLDEN_DIR / f"{name}.json").write_text(json.dumps({"exit_code": code, "output": _anonymise(doc, tmp, sample)},
                                                                indent=0, sort_keys=True) + "\n")
            print(f"{name}: exit {code}", file=sys.stderr)


def _anonymise(doc, tmp: str, sample: Path):
    """Paths of the temporary inputs and of the sample folder vary per machine: keep only the file names."""
    if isinstance(doc, dict):
        return {k: _anonymise(v, tmp, sample) for k, v in doc.items()}
    if isinstance(doc, list):
        return [_anonymise(v, tmp, sample) for v in doc]
    if isinstance(doc, str):
        return doc.replace(tmp + "/", "").replace(str(sample) + "/", "").replace(str(sample), "sample_data")
    return doc


if __name__ == "__main__":
    regenerate()
