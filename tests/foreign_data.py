"""Folders in other people's shapes, built inside the tests: foreign column names, files not named after tables,
local times with UTC offsets (and the daylight-saving hour that repeats), no calendar and no incidents table.

``write_foreign_folder(folder)`` writes an advertiser selling in the US and Germany:

- ``Campaign Export (Q4).csv``: hourly per country (US, DE) x platform (ios, android), local New York time with
  its offset ("2026-11-01 01:00:00-04:00", then the repeated hour "2026-11-01 01:00:00-05:00"), columns
  ``Event Time``, ``Impressions``, ``Clicks``, ``Cost (USD)``, ``Purchases``, ``Purchase Value``. Black Friday
  (2026-11-27) doubles traffic and purchases everywhere (CPA unchanged); from 2026-11-30 android in DE converts
  25% less per click (its CPA rises).
- ``scored_requests.parquet``: one scored request per row, ``scored_at`` in Berlin time, ``country``,
  ``platform``, ``p_convert`` (a probability), ``converted`` (0/1, empty for the last two days), ``bid_usd``,
  ``model``.
- ``notes.csv``: a file that is no table at all.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq

START = dt.datetime(2026, 10, 19)  # a Monday (UTC)
END = dt.datetime(2026, 12, 7)  # seven whole weeks
BLACK_FRIDAY = dt.date(2026, 11, 27)  # the day after the fourth Thursday of November (26th), by hand
CYBER_MONDAY = dt.date(2026, 11, 30)
THANKSGIVING = dt.date(2026, 11, 26)
DROP_FROM = dt.datetime(2026, 11, 30)
KPIS_FILE = "Campaign Export (Q4).csv"
SCORES_FILE = "scored_requests.parquet"
NOTES_FILE = "notes.csv"


@dataclass(frozen=True)
class ForeignFolder:
    folder: Path
    kpis: Path
    scores: Path
    notes: Path


def _hourly(rng: np.random.Generator) -> pl.DataFrame:
    ts = pl.datetime_range(START, END, "1h", closed="left", eager=True, time_zone="UTC")
    grid = (pl.DataFrame({"ts": ts})
            .join(pl.DataFrame({"country": ["US", "DE"], "share": [0.6, 0.4]}), how="cross")
            .join(pl.DataFrame({"platform": ["ios", "android"]}), how="cross"))
    hour = grid["ts"].dt.hour().to_numpy()
    daily = 1.0 + 0.5 * np.sin((hour - 14) / 24 * 2 * np.pi)
    promo = (grid["ts"].dt.date() == BLACK_FRIDAY).to_numpy() * 1.0 + 1.0
    impressions = rng.poisson(4000 * grid["share"].to_numpy() * daily * promo)
    clicks = rng.binomial(impressions, 0.05)
    drop = ((grid["ts"].dt.replace_time_zone(None) >= DROP_FROM) & (grid["country"] == "DE")
            & (grid["platform"] == "android")).to_numpy()
    purchases = rng.binomial(clicks, np.where(drop, 0.06 * 0.75, 0.06))
    cost = clicks * rng.gamma(50, 0.8 / 50, clicks.size)
    value = purchases * rng.gamma(20, 45 / 20, clicks.size)
    return grid.select("ts", "country", "platform").with_columns(
        imps=impressions, clicks=clicks, cost=np.round(cost, 2), purchases=purchases, value=np.round(value, 2))


def write_foreign_folder(folder: Path, *, seed: int = 11) -> ForeignFolder:
    """Write the advertiser's files into ``folder`` (see the module docstring)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    hourly = _hourly(rng)
    export = hourly.select(
        pl.col("ts").dt.convert_time_zone("America/New_York").dt.strftime("%Y-%m-%d %H:%M:%S%:z").alias("Event Time"),
        pl.col("country").alias("Country"), pl.col("platform").alias("Platform"),
        pl.col("imps").alias("Impressions"), pl.col("clicks").alias("Clicks"), pl.col("cost").alias("Cost (USD)"),
        pl.col("purchases").alias("Purchases"), pl.col("value").alias("Purchase Value"))
    kpis = folder / KPIS_FILE
    export.write_csv(kpis)
    n = 20_000
    seconds = rng.integers(0, int((END - START).total_seconds()), n)
    scored_at = pl.Series([START + dt.timedelta(seconds=int(s)) for s in np.sort(seconds)]).dt.replace_time_zone("UTC")
    p = np.clip(rng.beta(2, 30, n), 0.001, 0.999)
    converted = rng.binomial(1, p).astype(float)
    late = (scored_at.dt.replace_time_zone(None) >= END - dt.timedelta(days=2)).to_numpy()
    scores = pl.DataFrame({
        "scored_at": scored_at.dt.convert_time_zone("Europe/Berlin"),
        "country": rng.choice(["US", "DE"], n, p=[0.6, 0.4]), "platform": rng.choice(["ios", "android"], n),
        "p_convert": p, "converted": pl.Series(np.where(late, np.nan, converted)).fill_nan(None).cast(pl.Int8),
        "bid_usd": np.round(rng.gamma(3, 0.4, n), 3), "model": rng.choice(["gbm-7", "gbm-8"], n),
    })
    scores_path = folder / SCORES_FILE
    scores.write_parquet(scores_path)
    notes = folder / NOTES_FILE
    pl.DataFrame({"author": ["ana", "bo"], "text": ["check Q4 budget", "new creatives on Monday"]}).write_csv(notes)
    return ForeignFolder(folder, kpis, scores_path, notes)


# --------------------------------------------------------------------------- folders of Parquet part files


def foreign_kpis(days: int = 6) -> pl.DataFrame:
    """Hourly KPIs per country and device under an exporter's own column names."""
    rng = np.random.default_rng(3)
    ts = pl.datetime_range(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 1) + dt.timedelta(days=days), "1h",
                           closed="left", eager=True)
    grid = pl.DataFrame({"event_time": ts}).join(pl.DataFrame({"country": ["US", "DE", "FR"]}), how="cross") \
        .join(pl.DataFrame({"device": ["ios", "web"]}), how="cross")
    n = grid.height
    return grid.with_columns(imps=pl.Series(rng.integers(1000, 5000, n)), conv=pl.Series(rng.integers(0, 40, n)),
                             spend_usd=pl.Series(rng.gamma(20, 5, n)))


def spark_dataset(root: Path, frame: pl.DataFrame, by: list[str]) -> Path:
    """``frame`` as Spark writes it: key=value folders, part files with uuids, _SUCCESS, .crc and _temporary."""
    pq.write_to_dataset(frame.to_arrow(), root, partition_cols=by,
                        basename_template=f"part-00000-{uuid.UUID(int=5)}-{{i}}.c000.snappy.parquet")
    (root / "_SUCCESS").write_text("")
    first = next(root.rglob("*.parquet"))
    (first.parent / f".{first.name}.crc").write_bytes(b"not parquet")
    (root / "_temporary" / "0").mkdir(parents=True)
    (root / "_temporary" / "0" / "part-9.parquet").write_bytes(b"half written")
    return root


def with_date(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("event_time").dt.date().cast(pl.String).alias("date"))


def write_part_file_folder(folder: Path) -> tuple[Path, pl.DataFrame]:
    """A folder of two tables written by Spark: ``ads_export/date=.../part-*.parquet`` (kpis under foreign names,
    partitioned by day) and ``scored/part-*.parquet`` (decisions); returns the folder and the kpis rows."""
    frame = foreign_kpis()
    spark_dataset(folder / "ads_export", with_date(frame), ["date"])
    scores = folder / "scored"
    scores.mkdir()
    rng = np.random.default_rng(4)
    n = 3000
    p = rng.uniform(0.01, 0.9, n)
    requests = pl.DataFrame({
        "scored_at": pl.datetime_range(dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 6), eager=True,
                                       interval="144s").head(n),
        "p_convert": p, "converted": (rng.uniform(size=n) < p).astype(np.int8), "country": rng.choice(["US", "DE"], n)})
    for i, part in enumerate(requests.iter_slices(1000)):
        part.write_parquet(scores / f"part-{i:05d}-{uuid.UUID(int=i)}-c000.snappy.parquet")
    (scores / "_SUCCESS").write_text("")
    return folder, frame


# --------------------------------------------------------------------------- folders of CSV exports


def write_csv_folder(root: Path, frame: pl.DataFrame, *, by: str = "event_time", hive: str | None = None,
                     name: str = "kpis.csv", separator: str = ",", decimal_comma: bool = False) -> list[Path]:
    """``frame`` as a daily export writes it: one CSV per day of ``by`` under ``root`` (``2026-11-01.csv``), or with
    ``hive`` one ``{hive}=2026-11-01`` folder per day holding ``name``; ``separator=";"`` with ``decimal_comma`` as
    a German locale writes. Timestamps are written as text (ISO 8601), as exporters write them. Returns the files,
    in day order."""
    root.mkdir(parents=True, exist_ok=True)
    files = []
    for (day,), part in frame.group_by(pl.col(by).dt.date(), maintain_order=True):
        path = root / f"{hive}={day}" / name if hive else root / f"{day}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        part.write_csv(path, separator=separator, decimal_comma=decimal_comma)
        files.append(path)
    return files


def write_ungateable_folder(folder):
    """A decisions log with no feature column (nothing a starter gate watches) and an incident log."""
    from driftdesk.contract import load_dataset

    folder.mkdir(exist_ok=True)
    rng = np.random.default_rng(3)
    n = 3000
    minutes = np.sort(rng.integers(0, 14 * 1440, n))
    score = rng.random(n)
    pl.DataFrame({"ts": [dt.datetime(2026, 3, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=int(m)) for m in minutes],
                  "score": score, "label": (rng.random(n) < score).astype(int),
                  "region": rng.choice(["north", "south"], n)}).write_parquet(folder / "decisions.parquet")
    (folder / "incidents.csv").write_text("incident_id,start,end,layer,severity,segment,cause\n"
                                          "INC-1,2026-03-10T06:00:00Z,2026-03-10T16:00:00Z,model,P2,region=north,x\n")
    return load_dataset(folder)



GAP_DAYS = (dt.date(2026, 6, 9), dt.date(2026, 6, 10), dt.date(2026, 6, 11))  # the export has no rows on these


def write_gap_folder(folder: Path) -> Path:
    """A kpis export with a gap of three days: five-minute rows per ``Markt`` (DE, AT) from 2026-06-01 to 2026-06-21
    under the exporter's names (``Zeitpunkt``, ``Einblendungen``, ``Klicks``, ``Kaeufe``, ``Kosten_EUR``, ``Kanal``), nothing on
    ``GAP_DAYS``; a ``driftdesk.toml`` maps the names."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(11)
    ts = pl.datetime_range(dt.datetime(2026, 6, 1), dt.datetime(2026, 6, 22), "5m", closed="left", eager=True)
    grid = pl.DataFrame({"Zeitpunkt": ts}).join(pl.DataFrame({"Markt": ["DE", "AT"]}), how="cross")
    grid = grid.filter(~pl.col("Zeitpunkt").dt.date().is_in(GAP_DAYS))
    n = grid.height
    frame = grid.with_columns(Einblendungen=pl.Series(rng.integers(80, 120, n)),
                              Klicks=pl.Series(rng.integers(2, 9, n)), Kaeufe=pl.Series(rng.integers(0, 3, n)),
                              Kosten_EUR=pl.Series(rng.gamma(20, 0.1, n)),
                              Kanal=pl.Series(rng.choice(["Suche", "Social"], n)))
    frame.with_columns(pl.col("Zeitpunkt").dt.strftime("%Y-%m-%d %H:%M:%S")).write_csv(folder / "export_juni.csv")
    (folder / "driftdesk.toml").write_text(
        '[mapping.kpis]\nfile = "export_juni.csv"\nts = "Zeitpunkt"\nimpressions = "Einblendungen"\n'
        'clicks = "Klicks"\nconversions = "Kaeufe"\nspend = "Kosten_EUR"\nsegments = ["Markt", "Kanal"]\n')
    return folder
