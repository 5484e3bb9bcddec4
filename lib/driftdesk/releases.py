"""Releases: what a release contains (its manifest), a stable release id, what changed between two releases, and
what was live at any moment.

A **manifest** names every part that ships together (``MANIFEST_FIELDS``): model version, prompt version,
provider model, feature-view version, retrieval index, embedding model, thresholds, config, git commit and data
snapshot id. Every field must be present; ``null`` says "this system has no such part". Its **release id** is
``rel-`` and the first 12 hex digits of the SHA-256 of its canonical JSON (keys sorted, no spaces, whole floats
written as integers), so the same content always gets the same id whatever the key order or file format.

The **releases table** (one row per change of one component: ts, release_id, component, version,
traffic_share, ...) says what was live when. A row with ``traffic_share`` 1 (or empty) replaces its component's
live version; a row with a share below 1 is a canary that runs beside it until the component's next full
release. Two rows of one component at the same time, or canaries of one component whose shares add up to more
than 1, are ambiguous and refused.

Model and prompt versions and their aliases (champion, challenger) live in the MLflow registry:
``driftdesk.tracking.register_version`` / ``set_alias`` / ``version_by_alias``.
"""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from driftdesk.bounds import TOML_BYTES, check_depth, check_size
from driftdesk.errors import ReleaseError
from driftdesk.jsonsafe import jsonable
from driftdesk.textfiles import read_toml

MANIFEST_FIELDS: tuple[str, ...] = (
    "model_version", "prompt_version", "provider_model", "feature_view_version", "retrieval_index",
    "embedding_model", "thresholds", "config", "git_commit", "data_snapshot_id",
)
# the releases table's component -> the manifest field it sets
COMPONENT_FIELDS: dict[str, str] = {
    "model": "model_version", "prompt": "prompt_version", "llm_model": "provider_model",
    "feature_view": "feature_view_version", "index": "retrieval_index", "retriever": "retrieval_index",
    "embedding": "embedding_model", "threshold": "thresholds", "config": "config",
}
ID_PREFIX = "rel-"
ID_HEX = 12


# --------------------------------------------------------------------------- manifests


def _normalised(value: Any, where: str) -> Any:
    """A JSON value with whole floats as integers; NaN, infinity and non-JSON types are ReleaseErrors."""
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ReleaseError(f"{where}: {value!r} is not a number JSON can hold")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, Mapping):
        return {str(k): _normalised(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalised(v, f"{where}[{i}]") for i, v in enumerate(value)]
    raise ReleaseError(f"{where}: {type(value).__name__} {value!r} is not a JSON value (text, number, list, table)")


def canonical_json(values: Mapping[str, Any]) -> str:
    """The manifest's canonical text: keys sorted at every level, no whitespace, UTF-8 kept."""
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def release_id_of(values: Mapping[str, Any]) -> str:
    """``rel-`` and 12 hex digits of the SHA-256 of the canonical JSON.

    >>> a = manifest_from_dict(dict.fromkeys(MANIFEST_FIELDS) | {"model_version": "v2.0", "git_commit": "6a5a"})
    >>> b = manifest_from_dict(dict(reversed(list(a.values.items()))))  # the same fields in the opposite order
    >>> a.release_id == b.release_id, a.release_id
    (True, 'rel-...')
    """
    return ID_PREFIX + hashlib.sha256(canonical_json(values).encode("utf-8")).hexdigest()[:ID_HEX]


@dataclass(frozen=True)
class Manifest:
    """What one release contains: every field of ``MANIFEST_FIELDS`` (None where the system has no such part)."""

    values: Mapping[str, Any]
    source: str = "<manifest>"

    @property
    def release_id(self) -> str:
        return release_id_of(self.values)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def to_dict(self) -> dict:
        return jsonable({"release_id": self.release_id, **{k: self.values[k] for k in MANIFEST_FIELDS}})

    def to_frame(self) -> pl.DataFrame:
        return pl.DataFrame({"field": list(MANIFEST_FIELDS),
                             "value": [None if self.values[k] is None else canonical_json({"v": self.values[k]})[5:-1]
                                       for k in MANIFEST_FIELDS]})

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{html.escape(f)}</td><td>{html.escape(str(v))}</td></tr>"
                       for f, v in self.to_frame().iter_rows())
        return f"<p><b>Release {html.escape(self.release_id)}</b></p><table>{rows}</table>"


def manifest_from_dict(doc: Any, *, source: str = "<manifest>") -> Manifest:
    """A Manifest from a mapping (optionally under a ``release`` table); every field is required, none unknown.

    A ``release_id`` in the document must be the id its content hashes to (a hand-edited manifest is caught).
    """
    if isinstance(doc, Mapping) and set(doc) == {"release"} and isinstance(doc["release"], Mapping):
        doc = doc["release"]
    if not isinstance(doc, Mapping):
        raise ReleaseError(f"{source}: a manifest is a table of fields ({', '.join(MANIFEST_FIELDS)}), got {doc!r}")
    stated = doc.get("release_id")
    fields = {k: v for k, v in doc.items() if k != "release_id"}
    missing = [f for f in MANIFEST_FIELDS if f not in fields]
    unknown = sorted(set(fields) - set(MANIFEST_FIELDS))
    if missing or unknown:
        parts = ([f"missing field(s) {missing} (write null for a part this system does not have)"] if missing else [])
        parts += [f"unknown field(s) {unknown}"] if unknown else []
        raise ReleaseError(f"{source}: " + "; ".join(parts) + f"; a manifest has {list(MANIFEST_FIELDS)}")
    values = {k: _normalised(fields[k], f"{source}: {k}") for k in MANIFEST_FIELDS}
    manifest = Manifest(values, source)
    if stated is not None and stated != manifest.release_id:
        raise ReleaseError(f"{source}: release_id says {stated!r} but the content hashes to {manifest.release_id!r}; "
                           "remove release_id or fix the fields")
    return manifest


def load_manifest(path: str | Path) -> Manifest:
    """Read a manifest file (.json or .toml)."""
    path = Path(path)
    if not path.is_file():
        raise ReleaseError(f"{path}: no such manifest file")
    if path.suffix.lower() == ".toml":
        return manifest_from_dict(read_toml(path, error=ReleaseError), source=str(path))
    if path.suffix.lower() != ".json":
        raise ReleaseError(f"{path}: a manifest is a .json or .toml file")
    try:
        check_size(path.stat().st_size, what=str(path), limit=TOML_BYTES)
        doc = check_depth(json.loads(path.read_text(encoding="utf-8")), what=str(path))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ReleaseError(f"{path}: cannot read the manifest: {exc}") from exc
    return manifest_from_dict(doc, source=str(path))


@dataclass(frozen=True)
class ManifestDiff:
    """What changed from one release to another: one row per changed field (dotted paths inside tables)."""

    baseline: Manifest
    candidate: Manifest
    changed: pl.DataFrame  # field, baseline, candidate (JSON text)

    @property
    def same(self) -> bool:
        return self.changed.height == 0

    def to_frame(self) -> pl.DataFrame:
        return self.changed

    def to_dict(self) -> dict:
        return jsonable({"baseline": self.baseline.release_id, "candidate": self.candidate.release_id,
                         "same": self.same, "changed": self.changed})

    def _repr_html_(self) -> str:
        return (f"<p><b>{html.escape(self.baseline.release_id)} → {html.escape(self.candidate.release_id)}</b>: "
                f"{self.changed.height} field(s) changed</p>" + self.changed._repr_html_())


def _flat(value: Any, prefix: str) -> dict[str, Any]:
    if isinstance(value, Mapping) and value:
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flat(v, f"{prefix}.{k}"))
        return out
    return {prefix: value}


def diff_manifests(baseline: Manifest, candidate: Manifest) -> ManifestDiff:
    """The fields whose values differ; tables (thresholds, config) are compared key by key."""
    a = {k: v for f in MANIFEST_FIELDS for k, v in _flat(baseline[f], f).items()}
    b = {k: v for f in MANIFEST_FIELDS for k, v in _flat(candidate[f], f).items()}
    missing = object()
    rows = [{"field": k, "baseline": _text(a.get(k)), "candidate": _text(b.get(k))}
            for k in sorted(set(a) | set(b), key=lambda k: (MANIFEST_FIELDS.index(k.split(".")[0]), k))
            if a.get(k, missing) != b.get(k, missing)]
    schema = {"field": pl.String, "baseline": pl.String, "candidate": pl.String}
    return ManifestDiff(baseline, candidate, pl.DataFrame(rows, schema=schema))


def _text(value: Any) -> str | None:
    return None if value is None else value if isinstance(value, str) else canonical_json({"v": value})[5:-1]


# --------------------------------------------------------------------------- the releases table

RELEASE_COLUMNS = ("ts", "release_id", "component", "version", "git_commit", "traffic_share", "note")


def prepare_releases(frame: pl.DataFrame | None, *, source: str = "releases") -> pl.DataFrame:
    """The releases table sorted by time, every optional column present, shares filled (empty = 1).

    Refuses what makes "what was live" ambiguous: two releases of one component at the same time, and canaries of
    one component running together with shares above 1 in all.
    """
    if frame is None or frame.height == 0:
        return pl.DataFrame(schema={"ts": pl.Datetime("us"), "release_id": pl.String, "component": pl.String,
                                    "version": pl.String, "git_commit": pl.String, "traffic_share": pl.Float64,
                                    "note": pl.String})
    for col in ("ts", "release_id"):
        if col not in frame.columns:
            raise ReleaseError(f"{source}: the releases table needs a {col} column; it has {frame.columns}")
    df = frame.select(
        pl.col("ts").cast(pl.Datetime("us")),
        pl.col("release_id").cast(pl.String),
        *[(pl.col(c).cast(pl.String) if c in frame.columns else pl.lit(None, pl.String)).alias(c)
          for c in ("component", "version", "git_commit")],
        (pl.col("traffic_share").cast(pl.Float64) if "traffic_share" in frame.columns else pl.lit(None, pl.Float64))
        .fill_null(1.0).alias("traffic_share"),
        (pl.col("note").cast(pl.String) if "note" in frame.columns else pl.lit(None, pl.String)).alias("note"),
    ).with_columns(pl.col("component").fill_null("release")).sort("ts", "release_id")
    same_time = df.filter(pl.len().over("component", "ts") > 1)
    if same_time.height:
        ex = same_time.group_by("component", "ts", maintain_order=True).agg(pl.col("release_id")).head(3)
        desc = "; ".join(f"{c} at {t.isoformat()}: {', '.join(ids)}" for c, t, ids in ex.iter_rows())
        raise ReleaseError(f"{source}: overlapping releases of the same component start at the same time ({desc}); "
                           "which one was live is ambiguous: give them distinct times or drop one")
    for comp, part in df.partition_by("component", as_dict=True, maintain_order=True).items():
        _check_canary_shares(part, comp[0], source)
    return df


def _check_canary_shares(part: pl.DataFrame, component: str, source: str) -> None:
    running: list[tuple[str, float]] = []
    for rid, share in part.select("release_id", "traffic_share").iter_rows():
        if share >= 1.0:
            running = []
            continue
        running.append((rid, share))
        if sum(s for _, s in running) > 1.0 + 1e-9:
            desc = ", ".join(f"{r} ({s:g})" for r, s in running)
            raise ReleaseError(f"{source}: overlapping {component} canaries take more than all traffic together: {desc}; "
                               "a canary runs until the component's next full release (traffic_share 1)")


def find_release(releases: pl.DataFrame, release_id: str) -> dict:
    """The row of a release id; an unknown id is a ReleaseError listing a few known ones."""
    rows = releases.filter(pl.col("release_id") == release_id)
    if rows.height == 0:
        known = releases["release_id"].to_list()
        close = difflib.get_close_matches(release_id, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else f"; known ids include {', '.join(known[-5:])}"
        raise ReleaseError(f"unknown release id {release_id!r}" + (hint if known else "; the releases table is empty"))
    return rows.row(0, named=True)


def previous_release(releases: pl.DataFrame, release_id: str) -> dict | None:
    """The full release of the same component live before ``release_id`` took traffic: what a rollback returns to."""
    row = find_release(releases, release_id)
    before = releases.filter((pl.col("component") == row["component"]) & (pl.col("ts") < row["ts"])
                             & (pl.col("traffic_share") >= 1.0))
    return before.row(before.height - 1, named=True) if before.height else None


@dataclass(frozen=True)
class LiveState:
    """What was live at one moment: each component's full release and any canaries beside it."""

    at: dt.datetime
    release_id: str | None  # the latest change at or before ``at``
    components: pl.DataFrame  # component, role (live | canary), release_id, version, since, traffic_share, git_commit

    @property
    def manifest(self) -> Manifest:
        """The full releases composed as a manifest (canaries left out; parts the table never names are null)."""
        values: dict[str, Any] = dict.fromkeys(MANIFEST_FIELDS)
        live = self.components.filter(pl.col("role") == "live").sort("since")
        for comp, version, commit in live.select("component", "version", "git_commit").iter_rows():
            field = COMPONENT_FIELDS.get(comp)
            if field is not None:
                values[field] = version
            values["git_commit"] = commit if commit is not None else values["git_commit"]
        return manifest_from_dict(values, source=f"releases live at {self.at.isoformat()}")

    def to_frame(self) -> pl.DataFrame:
        return self.components

    def to_dict(self) -> dict:
        return jsonable({"at": self.at, "release_id": self.release_id, "components": self.components,
                         "manifest": self.manifest.to_dict()})

    def _repr_html_(self) -> str:
        return (f"<p><b>Live at {self.at.isoformat()}Z</b>: latest release {html.escape(str(self.release_id))}</p>"
                + self.components._repr_html_())


def live_at(releases: pl.DataFrame, at: dt.datetime) -> LiveState:
    """What was live at ``at``: per component the latest full release at or before it, and the canaries since.

    ``releases`` is the releases table (prepared here: ambiguous overlaps are refused).
    """
    rel = prepare_releases(releases)
    upto = rel.filter(pl.col("ts") <= at)
    full = upto.filter(pl.col("traffic_share") >= 1.0)
    last_full = full.group_by("component").agg(pl.col("ts").max().alias("__since"))
    canaries = (upto.filter(pl.col("traffic_share") < 1.0).join(last_full, on="component", how="left")
                .filter(pl.col("__since").is_null() | (pl.col("ts") > pl.col("__since"))).drop("__since"))
    live = full.join(last_full, on="component").filter(pl.col("ts") == pl.col("__since")).drop("__since")
    components = pl.concat([live.with_columns(pl.lit("live").alias("role")),
                            canaries.with_columns(pl.lit("canary").alias("role"))]).select(
        "component", "role", "release_id", "version", pl.col("ts").alias("since"), "traffic_share", "git_commit",
    ).sort("component", "since")
    latest = upto["release_id"][-1] if upto.height else None
    return LiveState(at, latest, components)


def changes_between(releases: pl.DataFrame, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
    """The releases that took traffic in [start, end], oldest first, with the release each replaced."""
    rel = prepare_releases(releases)
    rows = rel.filter((pl.col("ts") >= start) & (pl.col("ts") <= end))
    before = [(previous_release(rel, r) or {}).get("release_id") for r in rows["release_id"].to_list()]
    return rows.with_columns(pl.Series("replaces", before, dtype=pl.String))


__all__ = [
    "COMPONENT_FIELDS", "MANIFEST_FIELDS", "LiveState", "Manifest", "ManifestDiff", "canonical_json",
    "changes_between", "diff_manifests", "find_release", "live_at", "load_manifest", "manifest_from_dict",
    "prepare_releases", "previous_release", "release_id_of",
]
