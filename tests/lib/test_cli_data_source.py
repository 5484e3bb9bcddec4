"""Every analysis command reads a folder's table (``--data DIR --table NAME``) exactly as it reads the same rows
from a file (``--input FILE``): the same numbers either way."""

from __future__ import annotations

import contextlib
import io
import json
import math

import polars as pl
import pytest

from driftdesk.cli import main

BEFORE_C = "2026-09-28T00:00/2026-10-05T00:00"
DURING_C = "2026-10-05T00:00/2026-10-12T00:00"


def run(args: list[str]) -> tuple[int, dict | None, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([*args, "--format", "json"])
        except SystemExit as exc:  # argparse's usage errors
            code = exc.code
    return code, (json.loads(out.getvalue()) if out.getvalue() else None), err.getvalue()


def same(a, b) -> bool:
    """Equal, floats to 1e-12 relative (a contract-validated table may sum in another order)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15)
    return a == b


def without_source(doc):
    """Drop the keys that name where the rows came from (a file path or a folder's table)."""
    if isinstance(doc, dict):
        return {k: without_source(v) for k, v in doc.items() if k not in ("source", "summary")}
    if isinstance(doc, list):
        return [without_source(v) for v in doc]
    return doc


@pytest.mark.parametrize("command, file, extra", [
    ("calibration", "decisions.parquet", ["--by", "model_version"]),
    ("impact", "kpis.parquet", ["--baseline", BEFORE_C, "--current", DURING_C, "--by", "geo"]),
    ("llm", "llm_calls.parquet", ["--by", "prompt_version"]),
])
def test_data_folder_equals_input_file(sample_dir, command, file, extra):
    code_f, by_file, _ = run([command, "--input", str(sample_dir / file), *extra])
    code_d, by_folder, _ = run([command, "--data", str(sample_dir), *extra])
    assert code_f == code_d == 0
    assert same(without_source(by_folder), without_source(by_file))


def test_drift_compares_two_windows_of_a_folder_table(sample_dir, tmp_path):
    decisions = pl.read_parquet(sample_dir / "decisions.parquet")
    for name, text in (("b", BEFORE_C), ("c", DURING_C)):
        a, b = (pl.lit(x).str.to_datetime("%Y-%m-%dT%H:%M") for x in text.split("/"))
        decisions.filter((pl.col("ts") >= a) & (pl.col("ts") < b)).write_parquet(tmp_path / f"{name}.parquet")
    cols = ["--columns", "score,ctr_7d,geo"]
    code_f, by_file, _ = run(["drift", "--baseline", str(tmp_path / "b.parquet"), "--current", str(tmp_path / "c.parquet"), *cols])
    code_d, by_folder, _ = run(["drift", "--data", str(sample_dir), "--baseline", BEFORE_C, "--current", DURING_C, *cols])
    assert code_f == code_d == 0
    assert same(by_folder["columns"], by_file["columns"])


def test_missing_table_and_empty_window_are_bad_input(sample_dir, tmp_path):
    code, _, err = run(["llm", "--data", str(sample_dir), "--table", "nope"])
    assert code == 2 and "no nope table" in err and "the folder has calendar, decisions" in err and err.count("\n") == 1
    code, _, err = run(["drift", "--data", str(sample_dir), "--baseline", "2030-01-01T00:00/2030-01-02T00:00",
                        "--current", DURING_C])
    assert code == 2 and "baseline window" in err and "has no rows" in err
    code, _, err = run(["calibration", "--input", str(sample_dir / "decisions.parquet"), "--data", str(sample_dir)])
    assert code == 2 and "not allowed with" in err


def test_drift_scans_a_folder_table_past_the_memory_budget(sample_dir, monkeypatch):
    """Past the budget the decisions are scanned, and the ordered statistics of a numeric column come from the
    documented sketch: each within its stated error of the exact value read whole; counts and categories exact."""
    from driftdesk.engine.budget import BUDGET_ENV

    args = ["drift", "--data", str(sample_dir), "--baseline", BEFORE_C, "--current", DURING_C,
            "--columns", "score,ctr_7d,geo"]
    code_w, whole, _ = run(args)
    monkeypatch.setenv(BUDGET_ENV, "1M")  # the decisions (tens of MB) are past it
    code_s, scanned, err = run(args)
    assert code_w == code_s == 0, err
    exact = {c["column"]: c for c in whole["columns"]}
    for col in scanned["columns"]:
        want = exact[col["column"]]
        assert col["n_baseline"] == want["n_baseline"] and col["n_current"] == want["n_current"]
        if col["kind"] == "numeric":
            assert col["method"] == "sketch" and want["method"] == "exact"
            assert abs(col["ks"] - want["ks"]) <= col["ks_error"]
            assert abs(col["wasserstein"] - want["wasserstein"]) <= col["wasserstein_error"]
            assert col["psi_low"] <= want["psi"] <= col["psi_high"]
        else:
            assert same(col, want)


def test_input_with_foreign_column_names_says_how_to_map_them(tmp_path):
    pl.DataFrame({"Zeitpunkt": ["2026-06-01T02:00:00+02:00", "2026-06-08T02:00:00+02:00"], "Markt": ["AT", "AT"],
                  "Kaeufe": [3, 4], "Kosten_EUR": [10.0, 12.0]}).write_csv(tmp_path / "export.csv")
    code, _, err = run(["impact", "--input", str(tmp_path / "export.csv"), "--baseline", "2026-06-01/2026-06-02",
                        "--current", "2026-06-08/2026-06-09", "--by", "Markt"])
    assert code == 2 and err.count("\n") == 1
    assert "export.csv" in err and "'conversions'" in err and "driftdesk map --data DIR --write" in err
    assert "--data DIR --table kpis" in err
    assert '[mapping.kpis] file = "export.csv"' in err
    (tmp_path / "driftdesk.toml").write_text('[mapping.kpis]\nfile = "export.csv"\nts = "Zeitpunkt"\n'
                                             'conversions = "Kaeufe"\nspend = "Kosten_EUR"\n')
    window_args = ["--baseline", "2026-06-01/2026-06-02", "--current", "2026-06-08/2026-06-09", "--by", "Markt"]
    code, by_file, err = run(["impact", "--input", str(tmp_path / "export.csv"), *window_args])
    assert code == 0, err
    code, by_folder, _ = run(["impact", "--data", str(tmp_path), *window_args])
    assert same(by_file, by_folder) and by_file["total"]["baseline"] == 10.0 / 3


def test_drift_of_two_csv_files_leaves_their_text_timestamps_out_as_parquet_datetimes_are(tmp_path):
    import datetime as dt

    import numpy as np

    rng = np.random.default_rng(5)
    paths = {}
    for name, start in (("baseline", dt.datetime(2026, 5, 1)), ("current", dt.datetime(2026, 5, 8))):
        n = 600
        ts = [start + dt.timedelta(minutes=int(m)) for m in np.sort(rng.integers(0, 7 * 1440, n))]
        frame = pl.DataFrame({"ts": ts, "score": rng.random(n), "geo": rng.choice(["US", "DE"], n)})
        frame.with_columns(pl.col("ts").dt.replace_time_zone("UTC").dt.convert_time_zone("Etc/GMT-2")
                           .dt.strftime("%Y-%m-%dT%H:%M:%S%:z")).write_csv(tmp_path / f"{name}.csv")
        frame.write_parquet(tmp_path / f"{name}.parquet")
        paths[name] = tmp_path / name
    docs = {}
    for ext in ("csv", "parquet"):
        code, doc, err = run(["drift", "--baseline", f"{paths['baseline']}.{ext}", "--current",
                              f"{paths['current']}.{ext}"])
        assert code == 0, err
        docs[ext] = doc
    assert sorted(c["column"] for c in docs["csv"]["columns"]) == ["geo", "score"]
    assert same(docs["csv"]["columns"], docs["parquet"]["columns"]) and docs["csv"]["status"] == "ok"
    code, doc, _ = run(["drift", "--baseline", f"{paths['baseline']}.csv", "--current", f"{paths['current']}.csv",
                        "--columns", "ts"])
    assert code == 0 and [c["column"] for c in doc["columns"]] == ["ts"]  # named on purpose: compared as asked


def test_a_folders_role_column_can_be_named_as_the_user_wrote_it(tmp_path):
    import datetime as dt

    import numpy as np

    rng = np.random.default_rng(8)
    n = 4000
    prob = rng.uniform(0.05, 0.6, n)
    pl.DataFrame({"when": [dt.datetime(2026, 6, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=int(m))
                           for m in np.sort(rng.integers(0, 6 * 1440, n))],
                  "prob": prob, "bought": (rng.random(n) < prob).astype(int),
                  "modell": rng.choice(["m1", "m2"], n)}).write_parquet(tmp_path / "scores.parquet")
    (tmp_path / "driftdesk.toml").write_text('[mapping.decisions]\nfile = "scores.parquet"\nts = "when"\n'
                                             'score = "prob"\nlabel = "bought"\nmodel_version = "modell"\n')
    code, own, err = run(["calibration", "--data", str(tmp_path), "--by", "modell"])
    assert code == 0, err
    assert "--by modell: the column of the role model_version" in err
    code, role, _ = run(["calibration", "--data", str(tmp_path), "--by", "model_version"])
    assert code == 0 and same(own, role)
    code, doc, err = run(["drift", "--data", str(tmp_path), "--baseline", "2026-06-01/2026-06-04", "--current",
                          "2026-06-04/2026-06-07", "--columns", "prob,modell"])
    assert code == 0, err
    assert sorted(c["column"] for c in doc["columns"]) == ["model_version", "score"]


def test_gates_check_reads_a_file_through_the_mapping_beside_it(tmp_path):
    import datetime as dt

    import numpy as np

    rng = np.random.default_rng(9)
    n = 2000
    age = rng.exponential(5, n)
    age[:100] = np.nan  # 5% missing
    pl.DataFrame({"event_ts": [dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=10 * i) for i in range(n)],
                  "lead_score": rng.random(n), "age_days": age}).write_parquet(tmp_path / "log.parquet")
    policy = tmp_path / "policy.toml"
    policy.write_text('[[gate]]\nname = "nulls"\nmetric = "null_rate:age_days"\ncomparison = "absolute"\n'
                      'threshold = 0.1\ndirection = "above"\nwindow = "6h"\naction = "notify"\n')
    args = ["gates", "check", "--policy", str(policy), "--baseline", str(tmp_path / "log.parquet"),
            "--candidate", str(tmp_path / "log.parquet")]
    code, _, err = run(args)
    assert code == 2 and "'ts'" in err  # no mapping yet: the file's own names fit no table
    (tmp_path / "driftdesk.toml").write_text('[mapping.decisions]\nfile = "log.parquet"\nts = "event_ts"\n'
                                             'score = "lead_score"\nfeatures = ["age_days"]\n')
    code, doc, err = run(args)
    assert code == 0, err
    gate = doc["gates"][0]
    assert gate["passed"] and abs(gate["value"] - 100 / n) < 1e-12


def test_a_command_that_reads_one_table_is_not_stopped_by_another_files_violation(sample_dir, tmp_path):
    """llm --data reads llm_calls: a kpis export with a repeated (ts, segment) row is that table's problem, said
    by the commands that read kpis, and the LLM answer is the same as from the llm_calls file alone."""
    (tmp_path / "llm_calls.parquet").write_bytes((sample_dir / "llm_calls.parquet").read_bytes())
    kpis = pl.read_parquet(sample_dir / "kpis.parquet")
    pl.concat([kpis, kpis.head(1)]).write_parquet(tmp_path / "kpis.parquet")
    code, doc, err = run(["llm", "--data", str(tmp_path), "--by", "prompt_version"])
    assert code == 0, err
    _, by_file, _ = run(["llm", "--input", str(sample_dir / "llm_calls.parquet"), "--by", "prompt_version"])
    assert same(without_source(doc), without_source(by_file))
    code, _, err = run(["impact", "--data", str(tmp_path), "--baseline", BEFORE_C, "--current", DURING_C,
                        "--by", "geo"])
    assert code == 2 and "kpis.parquet" in err and "duplicate key" in err
