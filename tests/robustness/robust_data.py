"""Small data for the robustness suite (a unique module name, unlike conftest): a folder that loads in a fraction of
a second, and files that are broken in one way each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl

START = dt.datetime(2026, 9, 1)
DAYS = 15
LAST_DAY = (START + dt.timedelta(days=DAYS - 1)).date()


def _hours(step: str = "1h") -> pl.Series:
    return pl.datetime_range(START, START + dt.timedelta(days=DAYS), step, closed="left", eager=True)


def kpis() -> pl.DataFrame:
    ts = _hours()
    return pl.concat([pl.DataFrame({"ts": ts}).with_columns(
        geo=pl.lit(geo), impressions=pl.lit(1000.0), clicks=pl.lit(100.0), conversions=pl.lit(conv),
        spend=pl.lit(50.0), revenue=pl.lit(120.0)) for geo, conv in (("US", 4.0), ("DE", 2.0))])


def decisions() -> pl.DataFrame:
    ts = _hours("30m")
    rng = np.random.default_rng(1)
    score = rng.uniform(0.02, 0.6, ts.len())
    return pl.DataFrame({
        "ts": ts, "geo": np.where(np.arange(ts.len()) % 2, "US", "DE"), "score": score,
        "label": (rng.uniform(size=ts.len()) < score).astype(int), "spend": rng.uniform(0.1, 1.0, ts.len()),
        "model_version": np.where(np.arange(ts.len()) % 3 == 0, "v2", "v1"),
    })


def llm_calls(*, cost: bool = True) -> pl.DataFrame:
    ts = _hours()
    rng = np.random.default_rng(2)
    frame = pl.DataFrame({
        "ts": ts, "model": np.where(np.arange(ts.len()) % 2, "small", "large"),
        "prompt_version": "p1", "latency_ms": rng.gamma(4, 100, ts.len()),
        "output_tokens": rng.poisson(200, ts.len()).astype(float), "validator_ok": rng.uniform(size=ts.len()) > 0.05,
    })
    return frame.with_columns(cost=pl.lit(0.002) if cost else pl.lit(None, pl.Float64))


GOOD_POLICY = """[policy]
name = "tiny"

[[gate]]
name = "cpa_dod"
metric = "cpa"
comparison = "day_over_day"
threshold = 0.5
"""


def write_folder(folder: Path, *, llm_cost: bool = True) -> Path:
    """kpis, decisions and llm_calls over 15 days, two releases and one incident."""
    folder.mkdir(parents=True, exist_ok=True)
    kpis().write_parquet(folder / "kpis.parquet")
    decisions().write_parquet(folder / "decisions.parquet")
    llm_calls(cost=llm_cost).write_parquet(folder / "llm_calls.parquet")
    (folder / "releases.csv").write_text("ts,release_id,component,version\n"
                                         "2026-09-02T00:00:00Z,model-v1,model,v1\n"
                                         "2026-09-10T00:00:00Z,model-v2,model,v2\n", encoding="utf-8")
    (folder / "incidents.csv").write_text("incident_id,start,end,layer,severity,segment,cause\n"
                                          "INC-1,2026-09-11T00:00:00Z,2026-09-11T06:00:00Z,model,P2,geo=DE,a test\n",
                                          encoding="utf-8")
    (folder / "policy.toml").write_text(GOOD_POLICY, encoding="utf-8")
    return folder


def kpis_csv(folder: Path, text: str | bytes, name: str = "kpis.csv") -> Path:
    """One CSV file in a folder of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


GOOD_KPIS = "ts,geo,conversions,spend\n2026-09-01T00:00:00Z,US,1,2\n2026-09-01T01:00:00Z,US,1,2\n"




def _policy(**gate: str) -> str:
    lines = GOOD_POLICY.splitlines()
    return "\n".join([*lines, *(f"{k} = {v}" for k, v in gate.items())]) + "\n"


def _folder_with_settings(folder: Path, settings: bytes | None = None, *, settings_dir: bool = False) -> Path:
    """A folder with a good kpis.csv and a driftdesk.toml (bytes), or a folder named driftdesk.toml."""
    kpis_csv(folder, GOOD_KPIS)
    if settings_dir:
        (folder / "driftdesk.toml").mkdir()
    elif settings is not None:
        (folder / "driftdesk.toml").write_bytes(settings)
    return folder


def bad_files(root: Path) -> dict[str, Path]:
    """One broken file (or folder) per kind of bad input, by name."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}

    def csv(name: str, text: str | bytes, file: str = "kpis.csv") -> None:
        out[name] = kpis_csv(root / name, text, file)

    csv("good_csv", GOOD_KPIS)
    csv("non_utf8_csv", b"ts,geo,conversions,spend\n2026-09-01T00:00:00Z,M\xfcnchen,1,2\n")
    csv("dup_header_csv", "ts,geo,geo,conversions,spend\n2026-09-01T00:00:00Z,US,DE,1,2\n")
    csv("empty_csv", b"")
    csv("header_only_csv", "ts,geo,conversions,spend\n")
    csv("no_extension", GOOD_KPIS, "kpis.txt")
    csv("epoch_out_of_range", "ts,conversions,spend\n1788000000,1,1\n1788003600,1,1\n50000000000,1,1\n")
    csv("epoch_too_small", "ts,conversions,spend\n0,1,1\n3600,1,1\n")
    csv("negative_spend", "ts,geo,conversions,spend\n2026-09-01T00:00:00Z,US,1,-2\n")
    csv("infinite_spend", "ts,geo,conversions,spend\n2026-09-01T00:00:00Z,US,1,inf\n")
    csv("unparsable_ts", "ts,geo,conversions,spend\nyesterday,US,1,2\n")
    csv("mixed_time_zones", "ts,geo,conversions,spend\n2026-09-01T00:00:00Z,US,1,2\n2026-09-01T01:00:00,US,1,2\n")
    csv("missing_role", "ts,geo,conversions\n2026-09-01T00:00:00Z,US,1\n")
    csv("duplicate_key", "ts,geo,conversions,spend\n2026-09-01T00:00:00Z,US,1,2\n2026-09-01T00:00:00Z,US,1,2\n")
    csv("text_in_number", "ts,geo,conversions,spend\n2026-09-01T00:00:00Z,US,one,2\n")
    csv("score_out_of_range", "ts,score,label\n2026-09-01T00:00:00Z,2.0,1\n2026-09-01T01:00:00Z,0.5,0\n",
        "decisions.csv")
    csv("label_not_binary", "ts,score,label\n2026-09-01T00:00:00Z,0.2,3\n2026-09-01T01:00:00Z,0.5,0\n",
        "decisions.csv")
    (root / "folder.csv").mkdir()
    out["folder_as_file"] = root / "folder.csv"
    out["dup_parquet"] = root / "dup" / "kpis.parquet"
    out["dup_parquet"].parent.mkdir()
    pq.write_table(pa.table([pa.array([1.0]), pa.array([2.0])], names=["spend", "spend"]), out["dup_parquet"])
    out["garbage_parquet"] = root / "garbage" / "kpis.parquet"
    out["garbage_parquet"].parent.mkdir()
    out["garbage_parquet"].write_bytes(bytes(range(256)) * 4)
    out["truncated_parquet"] = root / "truncated" / "kpis.parquet"
    out["truncated_parquet"].parent.mkdir()
    kpis().write_parquet(out["truncated_parquet"])
    out["truncated_parquet"].write_bytes(out["truncated_parquet"].read_bytes()[:300])
    out["a_file"] = root / "a_file.txt"
    out["a_file"].write_text("not a folder", encoding="utf-8")

    # a folder's settings (driftdesk.toml), broken one way each
    for name, settings in {
        "toml_non_utf8": b"[mapping.kpis]\nspend = \"co\xfbt\"\n",
        "toml_malformed": b"[mapping.kpis\nspend = 1\n",
        "toml_deep": b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "toml_too_deep": b"a = " + b"[" * 20 + b"]" * 20 + b"\n",
        "toml_too_large": b"# " + b"x" * 1_100_000 + b"\n",
        "toml_two_roles": b"[mapping.kpis]\nspend = \"spend\"\nconversions = \"spend\"\n",
        "toml_unknown_role": b"[mapping.kpis]\nbudget = \"spend\"\n",
        "toml_missing_column": b"[mapping.kpis]\nspend = \"cost\"\n",
        "toml_unknown_table": b"[mapping.sales]\nspend = \"spend\"\n",
        "toml_file_outside": b"[mapping.kpis]\nfile = \"../kpis.csv\"\n",
        "toml_bad_encoding_name": b"[read]\nencoding = \"klingon\"\n",
    }.items():
        out[name] = _folder_with_settings(root / name, settings)
    out["toml_is_folder"] = _folder_with_settings(root / "toml_is_folder", settings_dir=True)
    out["toml_non_utf8_csv"] = root / "toml_non_utf8_csv"
    kpis_csv(out["toml_non_utf8_csv"], b"ts,geo,conversions,spend\n2026-09-01T00:00:00Z,M\xfcnchen,1,2\n")

    # gate policies
    policies = root / "policies"
    policies.mkdir()
    for name, text in {
        "policy_good": GOOD_POLICY,
        "policy_malformed": "[[gate]\nname = 1\n",
        "policy_dotdot_name": GOOD_POLICY.replace('name = "tiny"', 'name = ".."'),
        "policy_window_overflow": _policy(window='"99999999999999999999d"'),
        "policy_consecutive_huge": _policy(consecutive="1000000000000"),
        "policy_too_many_gates": GOOD_POLICY + "".join(f"\n[[gate]]\nname = \"g{i}\"\nmetric = \"cpa\"\n"
                                                       "threshold = 1.0\n" for i in range(101)),
        "policy_unknown_field": _policy(severity='"high"'),
        "policy_unknown_metric": GOOD_POLICY.replace('metric = "cpa"', 'metric = "happiness"'),
        "policy_no_gates": '[policy]\nname = "empty"\n',
        "policy_deep": "[policy]\nname = \"d\"\nx = " + "[" * 5000 + "]" * 5000 + "\n",
        "policy_nan_threshold": GOOD_POLICY.replace("threshold = 0.5", "threshold = nan"),
    }.items():
        out[name] = policies / f"{name}.toml"
        out[name].write_text(text, encoding="utf-8")
    out["policy_non_utf8"] = policies / "policy_non_utf8.toml"
    out["policy_non_utf8"].write_bytes(GOOD_POLICY.encode().replace(b"tiny", b"t\xefny"))
    out["policy_is_folder"] = policies / "folder.toml"
    out["policy_is_folder"].mkdir()

    # release manifests and spans
    for name, text in {
        "manifest_bad_json": "{\"model\": ",
        "manifest_deep": "[" * 5000 + "]" * 5000,
        "manifest_missing_field": "{\"model\": \"v1\"}",
        "not_spans": "{\"rows\": [1, 2, 3]}",
    }.items():
        out[name] = root / f"{name}.json"
        out[name].write_text(text, encoding="utf-8")
    return out
