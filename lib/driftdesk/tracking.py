"""Adopting gate policies: a new versioned file that never overwrites an earlier one, logged to MLflow.

The only module that imports mlflow (lazily, so ``import driftdesk`` stays fast). The tracking store is an
embedded SQLite database under ``driftdesk.paths.state_dir()`` unless ``MLFLOW_TRACKING_URI`` names another
(a team's server). Adopted policies live in ``<state_dir>/policies/<policy name>/v0001.toml, v0002.toml, ...``
with a ``.json`` beside each holding the MLflow run id and the backtest figures.

Adopting is all-or-nothing for the new version and harmless for the old ones: the new file is written to a
temporary name and linked to its version name only if that name is free (``os.link`` never replaces), then the
MLflow run is logged; if logging fails, the new version's files are removed and AdoptError is raised.
Earlier versions are never opened for writing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from driftdesk.errors import DriftdeskError
from driftdesk.gates.policy import Policy, load_policy
from driftdesk.jsonsafe import jsonable
from driftdesk.paths import state_dir

EXPERIMENT = "driftdesk-gates"
_VERSION = re.compile(r"^v(\d{4,})\.toml$")
FIGURES = ("precision", "recall", "alerts_per_week", "median_delay_hours")


class AdoptError(DriftdeskError):
    """Adopting a policy failed; earlier versions are untouched."""


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI, else an SQLite store in the project's state folder."""
    return os.environ.get("MLFLOW_TRACKING_URI") or f"sqlite:///{state_dir() / 'mlflow.db'}"


def policies_dir() -> Path:
    return state_dir() / "policies"


def _artifact_location(uri: str) -> str | None:
    """Artifacts next to a local SQLite store (MLflow's default would be ./mlruns in the working folder)."""
    if uri.startswith("sqlite:///"):
        return (Path(uri.removeprefix("sqlite:///")).parent / "mlartifacts").resolve().as_uri()
    return None


@dataclass(frozen=True)
class AdoptedVersion:
    """One adopted version of a policy."""

    name: str
    version: int
    path: Path
    adopted_at: dt.datetime
    run_id: str | None
    figures: dict
    note: str = ""

    def to_dict(self) -> dict:
        return jsonable({"name": self.name, "version": self.version, "path": str(self.path),
                         "adopted_at": self.adopted_at, "run_id": self.run_id, "note": self.note, **self.figures})


def _versions(folder: Path) -> list[int]:
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _VERSION.match(p.name)))


def _log_run(policy: Policy, version: int, text: str, figures: dict, backtest: dict | None, note: str,
             uri: str) -> str:
    """One MLflow run per adopted version: the policy's gates as params, the backtest figures as metrics."""
    try:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        exp = client.get_experiment_by_name(EXPERIMENT)
        exp_id = exp.experiment_id if exp else client.create_experiment(EXPERIMENT, _artifact_location(uri))
        run = client.create_run(exp_id, run_name=f"{policy.name} v{version}", tags={
            "driftdesk.policy": policy.name, "driftdesk.version": str(version), "driftdesk.note": note[:500]})
        rid = run.info.run_id
        for i, g in enumerate(policy.gates):
            for key, value in g.to_dict().items():
                client.log_param(rid, f"gate{i + 1}.{key}"[:250], json.dumps(value) if not isinstance(value, str)
                                 else value)
        for key, value in figures.items():
            if isinstance(value, int | float) and value == value:
                client.log_metric(rid, key, float(value))
        client.log_text(rid, text, "policy.toml")
        if backtest is not None:
            client.log_dict(rid, backtest, "backtest.json")
        client.set_terminated(rid)
        return rid
    except Exception as exc:  # noqa: BLE001 - any store failure must leave earlier versions intact
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise AdoptError(f"could not log the policy to MLflow at {uri}: {first}") from exc


def adopt_policy(policy: Policy, *, backtest=None, note: str = "", folder: str | Path | None = None,
                 uri: str | None = None) -> AdoptedVersion:
    """Save `policy` as its next version and log it (with `backtest`'s figures, if given) to MLflow."""
    root = Path(folder) if folder is not None else policies_dir()
    target = root / policy.name
    uri = uri or tracking_uri()
    figures = {k: getattr(backtest, k) for k in FIGURES} if backtest is not None else {}
    if backtest is not None:
        figures["alerts"] = backtest.score.alerts
        figures["incidents_caught"] = int(backtest.incidents["caught"].sum()) if backtest.incidents.height else 0
        figures["incidents"] = backtest.incidents.height
    note = " ".join(note.split())
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AdoptError(f"cannot create the policy folder {target}: {exc}") from exc
    tmp = target / f".adopt-{os.getpid()}-{now:%Y%m%d%H%M%S%f}.tmp"
    version = (_versions(target) or [0])[-1] + 1
    final = None
    try:
        while True:
            header = (f"# {policy.name} version {version}, adopted {now.isoformat()}Z\n"
                      + "".join(f"# backtest {k}: {v}\n" for k, v in figures.items())
                      + (f"# note: {note}\n" if note else ""))
            text = header + policy.to_toml()
            tmp.write_text(text, encoding="utf-8")
            candidate = target / f"v{version:04d}.toml"
            try:
                os.link(tmp, candidate)  # fails if the name exists: never overwrites
                final = candidate
                break
            except FileExistsError:
                version += 1
        run_id = _log_run(policy, version, text, jsonable(figures),
                          backtest.to_dict() if backtest is not None else None, note, uri)
        meta = {"name": policy.name, "version": version, "adopted_at": now.isoformat() + "Z", "run_id": run_id,
                "tracking_uri": uri if not uri.startswith("sqlite") else "sqlite", "note": note,
                **jsonable(figures)}
        sidecar = final.with_suffix(".json")
        sidecar_tmp = tmp.with_suffix(".json.tmp")
        sidecar_tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(sidecar_tmp, sidecar)
    except AdoptError:
        if final is not None:
            final.unlink(missing_ok=True)
        raise
    except OSError as exc:
        if final is not None:
            final.unlink(missing_ok=True)
        raise AdoptError(f"cannot write the new policy version in {target}: {exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return AdoptedVersion(policy.name, version, final, now, run_id, jsonable(figures), note)


def policy_history(name: str | None = None, *, folder: str | Path | None = None) -> pl.DataFrame:
    """Every adopted version (newest first): name, version, adopted_at, figures, run_id, note, path."""
    root = Path(folder) if folder is not None else policies_dir()
    rows = []
    names = [name] if name else sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for n in names:
        for v in _versions(root / n):
            path = root / n / f"v{v:04d}.toml"
            meta = {}
            side = path.with_suffix(".json")
            if side.exists():
                try:
                    meta = json.loads(side.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    meta = {}
            rows.append({"name": n, "version": v, "adopted_at": meta.get("adopted_at"),
                         **{k: meta.get(k) for k in (*FIGURES, "alerts", "incidents_caught", "incidents")},
                         "run_id": meta.get("run_id"), "note": meta.get("note", ""), "path": str(path)})
    schema = {"name": pl.String, "version": pl.Int64, "adopted_at": pl.String, "precision": pl.Float64,
              "recall": pl.Float64, "alerts_per_week": pl.Float64, "median_delay_hours": pl.Float64,
              "alerts": pl.Int64, "incidents_caught": pl.Int64, "incidents": pl.Int64, "run_id": pl.String,
              "note": pl.String, "path": pl.String}
    return pl.DataFrame(rows, schema=schema).sort(["name", "version"], descending=[False, True])


def load_adopted(name: str, version: int | None = None, *, folder: str | Path | None = None) -> Policy:
    """An adopted version of a policy (the latest by default)."""
    root = (Path(folder) if folder is not None else policies_dir()) / name
    versions = _versions(root)
    if not versions:
        raise DriftdeskError(f"no adopted versions of policy {name!r} in {root}")
    v = versions[-1] if version is None else version
    if v not in versions:
        raise DriftdeskError(f"policy {name!r} has no version {v}; versions are {versions}")
    return load_policy(root / f"v{v:04d}.toml")


def adopted_thresholds(name: str, gate: str, default: Policy | None = None, *,
                       folder: str | Path | None = None) -> dict | None:
    """The threshold and breaches in a row adopted for a gate (what a sweep marks as current): the latest adopted
    version's, else ``default``'s when no version is adopted; None when that policy has no such gate."""
    try:
        policy = load_adopted(name, folder=folder)
    except DriftdeskError:
        policy = default
    if policy is None or gate not in [g.name for g in policy.gates]:
        return None
    g = policy.gate(gate)
    return {"threshold": g.threshold, "consecutive": g.consecutive}
