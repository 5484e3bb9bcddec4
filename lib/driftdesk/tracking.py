"""MLflow: adopted gate policies (versioned files logged as runs), release manifests, and the model and prompt
registry (versions and their champion / challenger aliases).

Adopting a policy writes a new versioned file that never overwrites an earlier one and logs it to MLflow.

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

from driftdesk.errors import DriftdeskError, TrackingError
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
        check_reachable(uri)
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
        with _quick_requests():
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


# --------------------------------------------------------------------------- registry: model and prompt versions

REGISTRY_KINDS = ("model", "prompt")
ALIASES = ("champion", "challenger")  # the aliases driftdesk reads; any other alias name works too
VERSION_TAG = "driftdesk.version"  # the team's own version label (v1.9), beside MLflow's version number
RELEASES_EXPERIMENT = "driftdesk-releases"
REACH_SECONDS = 3.0
_NAME_OK = re.compile(r"^[A-Za-z0-9_.\-]+$")


@dataclass(frozen=True)
class RegistryVersion:
    """One registered model or prompt version: MLflow's version number, the team's label and its aliases."""

    kind: str
    name: str
    version: int
    label: str | None
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "name": self.name, "version": self.version, "label": self.label,
                "aliases": list(self.aliases)}


def check_reachable(uri: str, *, timeout: float = REACH_SECONDS) -> None:
    """Fail within ``timeout`` seconds when an http(s) tracking server does not answer (MLflow itself retries for
    minutes). Local stores (sqlite, file) are always reachable."""
    if not uri.startswith(("http://", "https://")):
        return
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=timeout):  # noqa: S310 - the user's own server
            return
    except urllib.error.HTTPError:
        return  # it answered: the server is there (a proxy may not expose /health)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise TrackingError(f"the MLflow server at {uri} did not answer within {timeout:g} s ({reason}); check "
                            "MLFLOW_TRACKING_URI or unset it to use the local store") from exc


class _quick_requests:
    """MLflow's HTTP client retries for minutes by default: a few seconds and no retries, unless the user set them."""

    _DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "10"}

    def __enter__(self):
        self.saved = {k: os.environ.get(k) for k in self._DEFAULTS}
        for k, v in self._DEFAULTS.items():
            os.environ.setdefault(k, v)

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)


def _registry(uri: str | None):
    uri = uri or tracking_uri()
    check_reachable(uri)
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri), uri


def _check_names(kind: str, name: str, alias: str | None = None) -> None:
    if kind not in REGISTRY_KINDS:
        raise TrackingError(f"kind must be one of {list(REGISTRY_KINDS)}, got {kind!r}")
    for what, value in (("name", name), ("alias", alias)):
        if value is not None and (not isinstance(value, str) or not _NAME_OK.match(value)):
            raise TrackingError(f"a registry {what} is letters, digits, '_', '-' or '.', got {value!r}")


def _fail(action: str, uri: str, exc: Exception) -> TrackingError:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return TrackingError(f"could not {action} in the MLflow registry at {uri}: {first}")


def _version(kind: str, name: str, mv) -> RegistryVersion:
    tags = getattr(mv, "tags", None) or {}
    aliases = tuple(sorted(getattr(mv, "aliases", None) or ()))
    return RegistryVersion(kind, name, int(mv.version), tags.get(VERSION_TAG), aliases)


def register_version(kind: str, name: str, label: str, *, source: str | None = None, template: str | None = None,
                     aliases: tuple[str, ...] = (), uri: str | None = None) -> RegistryVersion:
    """Register a model version (``source``: where its artifacts are) or a prompt version (``template``: its text)
    under ``name``, tagged with the team's ``label`` (e.g. "v2.0"), and point ``aliases`` at it."""
    _check_names(kind, name)
    for alias in aliases:
        _check_names(kind, name, alias)
    if kind == "prompt" and not template:
        raise TrackingError(f"prompt {name!r} {label}: a prompt version needs its template text")
    if kind == "model" and not source:
        raise TrackingError(f"model {name!r} {label}: a model version needs the URI of its artifacts (source)")
    with _quick_requests():
        client, uri = _registry(uri)
        try:
            if kind == "model":
                if not client.search_registered_models(filter_string=f"name = '{name}'"):
                    client.create_registered_model(name)
                mv = client.create_model_version(name, source=source, tags={VERSION_TAG: label})
                version = int(mv.version)
            else:
                version = int(client.register_prompt(name=name, template=template, commit_message=label,
                                                     tags={VERSION_TAG: label}).version)
            for alias in aliases:
                _set_alias(client, kind, name, alias, version)
        except TrackingError:
            raise
        except Exception as exc:  # noqa: BLE001 - any store failure is reported in one line
            raise _fail(f"register {kind} {name} {label}", uri, exc) from exc
    return RegistryVersion(kind, name, version, label, tuple(sorted(aliases)))


def _set_alias(client, kind: str, name: str, alias: str, version: int) -> None:
    if kind == "model":
        client.set_registered_model_alias(name, alias, str(version))
    else:
        client.set_prompt_alias(name, alias, version)


def set_alias(kind: str, name: str, alias: str, version: int, *, uri: str | None = None) -> None:
    """Point ``alias`` (champion, challenger, ...) of a registered model or prompt at one of its versions."""
    _check_names(kind, name, alias)
    with _quick_requests():
        client, uri = _registry(uri)
        try:
            _set_alias(client, kind, name, alias, int(version))
        except Exception as exc:  # noqa: BLE001
            raise _fail(f"set {kind} {name}@{alias} to version {version}", uri, exc) from exc


def version_by_alias(kind: str, name: str, alias: str, *, uri: str | None = None) -> RegistryVersion | None:
    """The version an alias points at; None when the name or the alias is not registered."""
    _check_names(kind, name, alias)
    with _quick_requests():
        client, uri = _registry(uri)
        try:
            if kind == "model":
                if not client.search_registered_models(filter_string=f"name = '{name}'"):
                    return None
                mv = client.get_model_version_by_alias(name, alias)
            else:
                mv = client.get_prompt_version_by_alias(name, alias)
        except Exception as exc:  # noqa: BLE001
            text = str(exc)
            if "RESOURCE_DOES_NOT_EXIST" in text or "not found" in text.lower() or "does not exist" in text.lower():
                return None
            raise _fail(f"read {kind} {name}@{alias}", uri, exc) from exc
    if mv is None:
        return None
    found = _version(kind, name, mv)
    return found if alias in found.aliases else RegistryVersion(kind, name, found.version, found.label,
                                                               tuple(sorted({*found.aliases, alias})))


def log_manifest(manifest: dict, *, uri: str | None = None) -> str:
    """Log a release manifest (``Manifest.to_dict()``) as an MLflow run tagged with its release id; the run id."""
    rid = manifest.get("release_id")
    if not isinstance(rid, str):
        raise TrackingError("a manifest to log needs its release_id (use Manifest.to_dict())")
    with _quick_requests():
        client, uri = _registry(uri)
        try:
            exp = client.get_experiment_by_name(RELEASES_EXPERIMENT)
            exp_id = exp.experiment_id if exp else client.create_experiment(RELEASES_EXPERIMENT, _artifact_location(uri))
            run = client.create_run(exp_id, run_name=rid, tags={"driftdesk.release_id": rid})
            for key, value in manifest.items():
                if key != "release_id" and value is not None:
                    client.log_param(run.info.run_id, key, json.dumps(value) if not isinstance(value, str) else value)
            client.log_dict(run.info.run_id, manifest, "manifest.json")
            client.set_terminated(run.info.run_id)
        except Exception as exc:  # noqa: BLE001
            raise _fail(f"log release {rid}", uri, exc) from exc
    return run.info.run_id
