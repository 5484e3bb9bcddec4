"""`driftdesk seasonality`: the JSON contract, tables for people, exit 2 on bad input."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import polars as pl
from seasonality_helpers import hourly, seasonal_series

from driftdesk.cli import main


def test_json_has_every_point_and_the_event_keys(tmp_path, capsys):
    values = seasonal_series(21, seed=1)
    values[400:] *= 1.3
    path = tmp_path / "s.csv"
    hourly(values).write_csv(path)
    assert main(["seasonality", "--input", str(path), "--ts", "ts", "--value", "value", "--causal", "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert len(doc["points"]) == values.size
    assert set(doc["points"][0]) >= {"ts", "value", "trend", "seasonal", "resid", "score", "flag"}
    assert doc["points"][0]["ts"].endswith("Z")
    assert {p["flag"] for p in doc["points"]} <= {"normal", "anomaly", "drift"}
    drift = [e for e in doc["events"] if e["kind"] in ("level_shift", "trend_change")]
    assert drift and drift[0]["direction"] == "up"
    assert set(drift[0]) >= {"start", "end", "kind", "direction", "magnitude"}
    assert doc["mode"] == "causal"


def test_by_and_periods_and_table(tmp_path, capsys):
    frame = pl.concat([hourly(seasonal_series(15, seed=s), seg=f"s{s}") for s in range(2)])
    path = tmp_path / "s.parquet"
    frame.write_parquet(path)
    assert main(["seasonality", "--input", str(path), "--ts", "ts", "--value", "value", "--by", "seg",
                 "--period", "24", "168"]) == 0
    out = capsys.readouterr().out
    assert "seg=s0: seasonal: seasonal pattern (daily + weekly), no drift" in out


def test_bad_input_exits_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "s.csv"
    hourly(seasonal_series(9)).write_csv(path)
    code = main(["seasonality", "--input", str(path), "--ts", "ts", "--value", "value", "--period", "24", "168"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "too short to separate weekly seasonality: need 14 days, have 9 days" in err
    pl.DataFrame({"ts": ["2026-01-01T00:00", "2026-01-01T00:00"], "value": [1.0, np.nan]}).write_csv(path)
    assert main(["seasonality", "--input", str(path), "--ts", "ts", "--value", "value"]) == 2
    assert "all 2 rows share one timestamp" in capsys.readouterr().err
    assert main(["seasonality", "--input", str(path), "--ts", "ts", "--value", "value", "--strict"]) == 2
    assert "duplicate timestamps" in capsys.readouterr().err


def test_a_kpis_table_is_read_as_a_metric_series_per_segment(sample_dir, capsys):
    # the kpis table has one row per hour and segment: the metric is built per hour (ratios of sums), as the app
    # does, so no "duplicate timestamps"
    code = main(["seasonality", "--data", str(sample_dir), "--table", "kpis", "--metric", "cpa", "--by", "geo",
                 "--causal", "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    import json

    doc = json.loads(out.out)
    assert {v["geo"] for v in doc["verdicts"]} >= {"DE", "US", "BR"}
    de = next(v for v in doc["verdicts"] if v["geo"] == "DE")
    assert de["status"] == "drift" and de["duplicate_rows"] == 0
    assert main(["seasonality", "--data", str(sample_dir), "--table", "kpis", "--format", "json"]) == 2
    assert "--metric" in capsys.readouterr().err


def test_counts_follow_the_option_and_the_metric(sample_dir, tmp_path, capsys):
    import json

    def config(args):
        assert main(["seasonality", *args, "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)["config"]

    kpis = ["--data", str(sample_dir), "--table", "kpis"]
    assert config([*kpis, "--metric", "cpa"])["counts"] is False  # a ratio is never counts
    assert config([*kpis, "--metric", "conversions"])["counts"] == "auto"  # a sum may be
    assert config([*kpis, "--metric", "conversions", "--counts", "no"])["counts"] is False
    path = tmp_path / "latency.csv"
    hourly(np.round(seasonal_series(10) * 100)).write_csv(path)
    file = ["--input", str(path), "--ts", "ts", "--value", "value"]
    assert config(file)["counts"] == "auto"
    assert config([*file, "--counts", "yes"])["counts"] is True


def test_a_daylight_saving_hour_is_combined_and_named_on_stderr(tmp_path, capsys):
    frame = hourly(seasonal_series(10))
    repeated = frame.filter(pl.col("ts") == frame["ts"][100])
    path = tmp_path / "dst.csv"
    pl.concat([frame, repeated]).write_csv(path)
    args = ["seasonality", "--input", str(path), "--ts", "ts", "--value", "value", "--format", "json"]
    assert main([*args, "--duplicates", "sum"]) == 0
    out = capsys.readouterr()
    assert "1 row with a repeated timestamp combined (sum)" in out.err and str(frame["ts"][100])[:16] in out.err
    assert main([*args, "--strict"]) == 2
    assert "duplicate timestamps" in capsys.readouterr().err


def test_a_metric_too_thin_to_read_says_so_and_what_to_try(sample_dir, tmp_path, capsys):
    # conversions cut to a few a day: nearly every hour of cpa has too few conversions behind it to be read; the
    # refusal says that, and that a longer step would gather enough (instead of only "no values")
    kpis = pl.read_parquet(sample_dir / "kpis.parquet")
    thin = kpis.with_columns((pl.col("conversions") // 40).cast(kpis.schema["conversions"]))
    assert thin["conversions"].sum() > 0
    thin.write_parquet(tmp_path / "kpis.parquet")
    code = main(["seasonality", "--data", str(tmp_path), "--table", "kpis", "--metric", "cpa", "--by", "geo"])
    err = capsys.readouterr().err
    assert code == 2
    assert "points have fewer than" in err and "conversions behind them" in err and "--every 1d" in err
    # the same folder read per day has enough behind each point for a verdict
    assert main(["seasonality", "--data", str(tmp_path), "--table", "kpis", "--metric", "cpa", "--every", "1d"]) == 0


def test_the_table_never_reads_seasonal_beside_no_clear_pattern(tmp_path, capsys):
    """JSON keeps the status consumers key on ("seasonal" for both); the table for people shows a series without a
    clear pattern as such."""
    noise = 100 + np.random.default_rng(11).normal(0, 5, 24 * 42)
    frame = pl.concat([hourly(noise, seg="noise"), hourly(seasonal_series(42, seed=1), seg="cycle")])
    path = tmp_path / "s.csv"
    frame.write_csv(path)
    args = ["seasonality", "--input", str(path), "--ts", "ts", "--value", "value", "--by", "seg"]
    assert main([*args, "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert [v["status"] for v in doc["verdicts"]] == ["seasonal", "seasonal"]
    assert main([*args, "--format", "table"]) == 0
    out = capsys.readouterr().out
    assert "seg=noise: no clear pattern: no clear seasonal pattern (daily + weekly explain" in out
    assert "seg=cycle: seasonal: seasonal pattern (daily + weekly), no drift" in out
    assert "seasonal: no clear" not in out


def test_a_series_too_short_names_the_metric_asked_for(sample_dir, tmp_path, capsys):
    """With --data the series is built from --metric: a refusal names that metric, not the built column 'value'
    that no file of the user's has."""
    kpis = pl.read_parquet(sample_dir / "kpis.parquet")
    kpis.filter(pl.col("ts") < kpis["ts"].min() + dt.timedelta(days=5)).write_parquet(tmp_path / "kpis.parquet")
    code = main(["seasonality", "--data", str(tmp_path), "--table", "kpis", "--metric", "spend", "--every", "1d"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert "metric 'spend'" in err[0] and "'value'" not in err[0], err[0]


def test_a_series_mostly_too_thin_to_read_is_not_called_constant(tmp_path, capsys):
    """Hourly CPA with about 16 conversions an hour: every hour but one is below the 30 conversions a reading needs
    and is left out. The one hour left is no 'constant' series: the answer says not enough data and why, as the
    app's headline does, on stderr, in the table and in the JSON."""
    rng = np.random.default_rng(2)
    ts = pl.datetime_range(dt.datetime(2026, 10, 1), dt.datetime(2026, 10, 28), "1h", closed="left", eager=True,
                           time_zone="UTC")
    conversions = rng.poisson(16, len(ts))
    conversions[30] = 40  # the one hour with enough behind it
    pl.DataFrame({"ts": ts, "clicks": 200, "conversions": conversions,
                  "spend": rng.gamma(50, 1, len(ts))}).write_parquet(tmp_path / "kpis.parquet")
    args = ["seasonality", "--data", str(tmp_path), "--table", "kpis", "--metric", "cpa"]
    assert main([*args, "--format", "json"]) == 0
    captured = capsys.readouterr()
    doc = json.loads(captured.out)
    thin = int((conversions < 30).sum())
    assert sum(p["value"] is not None for p in doc["points"]) == len(ts) - thin == 1
    sentence = f"{thin} of {len(ts)} points have fewer than 30 conversions behind them"
    assert sentence in doc["low_volume"] and sentence in captured.err and "--every 1d" in captured.err
    assert main([*args, "--format", "table"]) == 0
    table = capsys.readouterr().out
    assert "  cpa: not enough data" in table and "constant" not in table


def test_a_calendar_file_it_cannot_read_is_named_not_ignored(tmp_path, capsys):
    """A --calendar whose dates are not ISO (01/09/2026) would mark no day at all, silently: the file, its column
    and the rows are named instead; a file without a date column is named too."""
    path = tmp_path / "s.csv"
    hourly(seasonal_series(21, seed=1)).write_csv(path)
    calendar = tmp_path / "Feiertage.csv"
    calendar.write_text("date,name\n2026-03-05,ok\n05/03/2026,Karneval\n06/03/2026,Karneval\n")
    args = ["seasonality", "--input", str(path), "--ts", "ts", "--value", "value", "--calendar", str(calendar)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(calendar) in err[0] and "column 'date'" in err[0]
    assert "2 rows" in err[0] and "row 2: '05/03/2026'" in err[0] and "YYYY-MM-DD" in err[0]
    calendar.write_text("day,name\n2026-03-05,x\n")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert str(calendar) in err and "'date' column" in err and "it has day, name" in err
    calendar.write_text("date,name\n2026-03-05,x\n")
    assert main(args) == 0
