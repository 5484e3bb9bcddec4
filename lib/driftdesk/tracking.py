"""MLflow: adopted gate policies (versioned files logged as runs, kept per dataset), release manifests, and the model
and prompt registry (versions and their champion / challenger aliases).

The only module that imports mlflow (lazily, so ``import driftdesk`` stays fast). The tracking store is an
embedded SQLite database under ``driftdesk.paths.state_dir()`` unless ``MLFLOW_TRACKING_URI`` names another
(a team's server); a server that does not answer fails within seconds (``check_reachable``), not after MLflow's
minutes of retries.

**Adopted policies belong to a dataset.** ``dataset_key(folder)`` names a dataset by its folder, resolved (the
bundled sample, an upload's folder in the upload store, a folder on the server): the folder's name and a hash of
its absolute path. Not by its content: an export refreshed in place every day is still the same dataset and keeps
its adopted policy; whether an adopted version still fits the data is checked where it is opened (the Gates page
then falls back and says why). Versions live in ``<state_dir>/policies/<dataset key>/<policy name>/v0001.toml,
v0002.toml, ...`` with a ``.json`` beside each (the MLflow run id, the backtest figures, the reason given), so a
listing of one dataset never shows another's.

**Adopting is all or nothing.**

1. The version number is reserved by linking the new file to ``vNNNN.toml``: ``os.link`` never replaces a file,
   so two adopts, even in two processes, never get the same number.
2. One MLflow run is created with that number; the gates, figures and files are logged to it.
3. The ``.json`` is written (atomically). A version without it is incomplete: never listed, never loaded.
4. The run is marked FINISHED.

If a step fails, the new files are removed and the run, if one was made, is marked FAILED, loses its version tag
and is deleted, so no run keeps a number that a later adopt takes; AdoptError says what failed. Earlier versions
are never opened for writing. Writes to a local SQLite store hold a lock file beside it, so two first adopts on a
fresh store do not both create its tables.

Names that become folder and file names (dataset keys, policy names) and version numbers are checked before any
path is built: no ``.`` or ``..``, no separators, NUL or control characters, no leading dot, no reserved device
names (``path_part``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
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
COUNTS = ("alerts", "incidents_caught", "incidents")
RUN_TAGS = ("driftdesk.policy", "driftdesk.version", "driftdesk.dataset", "driftdesk.note")
_RESERVED = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(10)), *(f"lpt{i}" for i in range(10))})
_MLFLOW_BATCH = 100  # MLflow takes at most 100 params per log_batch


class AdoptError(DriftdeskError):
    """Adopting a policy failed; nothing of the new version is left, earlier versions are untouched."""


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


# --------------------------------------------------------------------------- names that become paths


def path_part(value: object, what: str) -> str:
    """``value`` as one folder or file name that stays inside its folder; a TrackingError naming ``what`` otherwise."""
    if not isinstance(value, str) or not value:
        raise TrackingError(f"{what} must be a non-empty name, got {value!r}")
    if value in (".", "..") or value.startswith("."):
        raise TrackingError(f"{what} {value!r} cannot start with a dot: it would name a folder above or a hidden file")
    bad = sorted({c for c in value if c in "/\\:" or ord(c) < 32})
    if bad:
        raise TrackingError(f"{what} {value!r} contains {', '.join(repr(c) for c in bad)}: separators, NUL and control "
                            "characters cannot be part of a file name")
    if value.split(".")[0].lower() in _RESERVED:
        raise TrackingError(f"{what} {value!r} is a reserved device name on some systems; choose another")
    if len(value.encode()) > 200:
        raise TrackingError(f"{what} is {len(value.encode())} bytes long; at most 200 bytes make a file name")
    return value


def check_version(value: object) -> int:
    """A version number: a whole number from 1 (never a text that could become a path)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TrackingError(f"a policy version is a whole number from 1, got {value!r}")
    return value


def dataset_key(folder: str | Path) -> str:
    """The identity adopted policies are kept under: the folder's name and a hash of its resolved path."""
    path = Path(folder).expanduser().resolve()
    slug = re.sub(r"[^a-z0-9_-]+", "-", path.name.lower()).strip("-")[:40] or "data"
    return f"{slug}-{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"


def _policy_folder(root: Path, dataset: str, name: str) -> Path:
    return root / path_part(dataset, "dataset key") / path_part(name, "policy name")


# --------------------------------------------------------------------------- adopted versions


@dataclass(frozen=True)
class AdoptedVersion:
    """One adopted version of a policy, for one dataset."""

    name: str
    version: int
    path: Path
    adopted_at: dt.datetime
    run_id: str | None
    figures: dict
    note: str = ""
    dataset: str = ""

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"

    def load(self) -> Policy:
        """The adopted policy itself."""
        return load_policy(self.path)

    def to_dict(self) -> dict:
        return jsonable({"dataset": self.dataset, "name": self.name, "version": self.version, "path": str(self.path),
                         "adopted_at": self.adopted_at, "run_id": self.run_id, "note": self.note, **self.figures})


def _reserved_versions(folder: Path) -> list[int]:
    """Every version number taken in a policy folder, complete or not (a number is never handed out twice)."""
    if not folder.is_dir():
        return []
    return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _VERSION.match(p.name)))


def _read_meta(path: Path) -> dict | None:
    """The ``.json`` beside a version file; None while the version is incomplete (or the file is unreadable)."""
    try:
        meta = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def _written_ns(path: Path) -> int:
    try:
        return path.with_suffix(".json").stat().st_mtime_ns
    except OSError:
        return 0


def _figures(backtest) -> dict:
    if backtest is None:
        return {}
    inc = backtest.incidents
    return jsonable({**{k: getattr(backtest, k) for k in FIGURES}, "alerts": backtest.score.alerts,
                     "incidents_caught": int(inc["caught"].sum()) if inc.height else 0, "incidents": inc.height})


@contextlib.contextmanager
def _store_lock(uri: str):
    """An exclusive lock beside a local SQLite store while writing to it (another process waits); nothing for a
    server, which serialises its own writes. A lock that cannot be taken is skipped: the store reports the cause."""
    if not uri.startswith("sqlite:///"):
        yield
        return
    try:
        import fcntl
    except ImportError:  # not a POSIX system
        yield
        return
    db = Path(uri.removeprefix("sqlite:///"))
    try:
        db.parent.mkdir(parents=True, exist_ok=True)
        handle = open(db.with_name(db.name + ".lock"), "a+b")  # noqa: SIM115 - held across the yield
    except OSError:
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _experiment_id(client, uri: str) -> str:
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is not None:
        return exp.experiment_id
    try:
        return client.create_experiment(EXPERIMENT, _artifact_location(uri))
    except Exception:  # noqa: BLE001 - another process created it first: use theirs
        exp = client.get_experiment_by_name(EXPERIMENT)
        if exp is None:
            raise
        return exp.experiment_id


def _log_policy(client, rid: str, policy: Policy, text: str, figures: dict, backtest: dict | None) -> None:
    """The gates as params, the backtest figures as metrics, the policy file and the backtest as artifacts."""
    from mlflow.entities import Metric, Param

    params = [Param(f"gate{i + 1}.{key}"[:250], value if isinstance(value, str) else json.dumps(value))
              for i, g in enumerate(policy.gates) for key, value in g.to_dict().items()]
    now = int(dt.datetime.now(dt.UTC).timestamp() * 1000)
    metrics = [Metric(key, float(value), now, 0) for key, value in figures.items()
               if isinstance(value, int | float) and not isinstance(value, bool) and value == value]
    for start in range(0, max(len(params), 1), _MLFLOW_BATCH):
        client.log_batch(rid, metrics=metrics if start == 0 else [], params=params[start:start + _MLFLOW_BATCH])
    client.log_text(rid, text, "policy.toml")
    if backtest is not None:
        client.log_dict(rid, backtest, "backtest.json")


def _abandon_run(client, rid: str) -> None:
    """A run whose adopt failed: FAILED, without a version number, deleted (each step tried on its own)."""
    for step in (lambda: client.delete_tag(rid, "driftdesk.version"), lambda: client.set_terminated(rid, "FAILED"),
                 lambda: client.delete_run(rid)):
        with contextlib.suppress(Exception):
            step()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _reserve(target: Path, tmp: Path, text_of) -> tuple[int, Path, str]:
    """The next free version number of a policy folder, taken by linking ``tmp`` (written with ``text_of(n)``)."""
    version = (_reserved_versions(target) or [0])[-1] + 1
    while True:
        text = text_of(version)
        tmp.write_text(text, encoding="utf-8")
        candidate = target / f"v{version:04d}.toml"
        try:
            os.link(tmp, candidate)  # fails if the name exists: never overwrites
            return version, candidate, text
        except FileExistsError:
            version += 1


def adopt_policy(policy: Policy, *, dataset: str, backtest=None, note: str = "", folder: str | Path | None = None,
                 uri: str | None = None) -> AdoptedVersion:
    """Save ``policy`` as the next version of its name for ``dataset`` (a ``dataset_key``) and log it, with
    ``backtest``'s figures if given and ``note`` (why it was adopted), to MLflow; all or nothing (module text)."""
    root = Path(folder) if folder is not None else policies_dir()
    target = _policy_folder(root, dataset, policy.name)
    uri = uri or tracking_uri()
    try:
        check_reachable(uri)
    except TrackingError as exc:
        raise AdoptError(f"nothing adopted: {exc}") from exc
    figures = _figures(backtest)
    note = " ".join(note.split())
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise AdoptError(f"cannot create the policy folder {target}: {exc}") from exc

    def text_of(version: int) -> str:
        return (f"# {policy.name} version {version}, adopted {now.isoformat()}Z\n"
                + "".join(f"# backtest {k}: {v}\n" for k, v in figures.items())
                + (f"# note: {note}\n" if note else "") + policy.to_toml())

    tmp = target / f".adopt-{os.getpid()}-{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}.tmp"
    sidecar_tmp = tmp.with_suffix(".json.tmp")
    final = sidecar = None
    stage = "write the new policy version"
    try:
        version, final, text = _reserve(target, tmp, text_of)
        sidecar = final.with_suffix(".json")
        stage = f"log the policy to MLflow at {uri}"
        with _quick_requests(), _store_lock(uri):
            from mlflow.tracking import MlflowClient

            client = MlflowClient(tracking_uri=uri)
            run = client.create_run(_experiment_id(client, uri), run_name=f"{policy.name} v{version}", tags=dict(zip(
                RUN_TAGS, (policy.name, str(version), dataset, note[:500]))))
            run_id = run.info.run_id
            try:
                _log_policy(client, run_id, policy, text, figures, backtest.to_dict() if backtest is not None else None)
                stage = f"write the new policy version's record {sidecar}"
                meta = {"dataset": dataset, "name": policy.name, "version": version,
                        "adopted_at": now.isoformat() + "Z", "run_id": run_id,
                        "tracking_uri": uri if not uri.startswith("sqlite") else "sqlite", "note": note, **figures}
                sidecar_tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
                os.replace(sidecar_tmp, sidecar)
                stage = f"mark the MLflow run {run_id} finished at {uri}"
                client.set_terminated(run_id)
            except BaseException:
                _abandon_run(client, run_id)
                raise
    except BaseException as exc:
        for path in (sidecar, final):
            if path is not None:
                path.unlink(missing_ok=True)
        if not isinstance(exc, Exception):  # an interrupt: cleaned up, and it goes on
            raise
        raise AdoptError(f"could not {stage}: {_first_line(exc)}; nothing was adopted") from exc
    finally:
        tmp.unlink(missing_ok=True)
        sidecar_tmp.unlink(missing_ok=True)
    return AdoptedVersion(policy.name, version, final, now, run_id, figures, note, dataset)


HISTORY_SCHEMA = {"dataset": pl.String, "name": pl.String, "version": pl.Int64, "adopted_at": pl.String,
                  "precision": pl.Float64, "recall": pl.Float64, "alerts_per_week": pl.Float64,
                  "median_delay_hours": pl.Float64, "alerts": pl.Int64, "incidents_caught": pl.Int64,
                  "incidents": pl.Int64, "run_id": pl.String, "note": pl.String, "path": pl.String}


def _subfolders(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if folder.is_dir() else []


def policy_history(name: str | None = None, *, dataset: str | None, folder: str | Path | None = None) -> pl.DataFrame:
    """The complete adopted versions of ``dataset`` (every dataset's with ``dataset=None``), of one policy ``name``
    or all, newest first: dataset, name, version, adopted_at, figures, run_id, note (why), path."""
    root = Path(folder) if folder is not None else policies_dir()
    rows = []
    for key in [path_part(dataset, "dataset key")] if dataset is not None else _subfolders(root):
        for n in [path_part(name, "policy name")] if name is not None else _subfolders(root / key):
            for v in _reserved_versions(root / key / n):
                path = root / key / n / f"v{v:04d}.toml"
                meta = _read_meta(path)
                if meta is None:
                    continue
                rows.append({"dataset": key, "name": n, "version": v, "adopted_at": meta.get("adopted_at"),
                             **{k: meta.get(k) for k in (*FIGURES, *COUNTS)}, "run_id": meta.get("run_id"),
                             "note": meta.get("note", ""), "path": str(path), "order": _written_ns(path)})
    # newest first: by when the record was written (adopted_at is to the second)
    return (pl.DataFrame(rows, schema={**HISTORY_SCHEMA, "order": pl.Int64})
            .sort(["order", "version"], descending=True).drop("order"))


def latest_adopted(dataset: str, *, folder: str | Path | None = None) -> AdoptedVersion | None:
    """The version most recently adopted for ``dataset``, of any policy (None when nothing is adopted)."""
    history = policy_history(dataset=dataset, folder=folder)
    if history.height == 0:
        return None
    row = history.row(0, named=True)
    adopted_at = dt.datetime.fromisoformat(row["adopted_at"].removesuffix("Z")) if row["adopted_at"] else None
    return AdoptedVersion(row["name"], row["version"], Path(row["path"]), adopted_at, row["run_id"],
                          {k: row[k] for k in (*FIGURES, *COUNTS)}, row["note"], dataset)


def load_adopted(name: str, version: int | None = None, *, dataset: str, folder: str | Path | None = None) -> Policy:
    """An adopted version of a policy for ``dataset`` (the latest by default)."""
    root = (Path(folder) if folder is not None else policies_dir())
    where = _policy_folder(root, dataset, name)
    versions = [v for v in _reserved_versions(where) if _read_meta(where / f"v{v:04d}.toml") is not None]
    if not versions:
        raise DriftdeskError(f"no adopted versions of policy {name!r} for dataset {dataset!r} in {root}")
    v = versions[-1] if version is None else check_version(version)
    if v not in versions:
        raise DriftdeskError(f"policy {name!r} has no version {v} for dataset {dataset!r}; versions are {versions}")
    return load_policy(where / f"v{v:04d}.toml")


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
