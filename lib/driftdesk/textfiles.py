"""Text files as driftdesk reads them: UTF-8 or the encoding a folder's driftdesk.toml declares (bytes that decode
in neither are refused, never replaced), and TOML settings files read within their bounds."""

from __future__ import annotations

import codecs
import functools
import tomllib
from pathlib import Path

from driftdesk.errors import DriftdeskError, InputFileError

UTF8 = "utf-8"
SETTINGS_FILE = "driftdesk.toml"  # the folder's settings (driftdesk.contract reads the rest of it)
_CHUNK = 1 << 20


def text_encoding(path: str | Path, *, within: str | Path | None = None) -> str:
    """The encoding a CSV file is read with: UTF-8 when its bytes are UTF-8, else the one its folder's driftdesk.toml
    names (``[read] encoding = "cp1252"``). Bytes that are neither are refused, never replaced: the InputFileError
    names the first line and byte that is not UTF-8 and how to read the file.

    ``within``: the file is a part of the table folder ``within`` (``kpis/2026-11-01.csv``), so the nearest
    driftdesk.toml from the file's folder up to the folder holding ``within`` (the data folder) is the one read."""
    path = Path(path)
    stat = path.stat()
    bad = _first_non_utf8(str(path), stat.st_size, stat.st_mtime_ns)
    if bad is None:
        return UTF8
    folders = [path.parent]
    if within is not None:
        top = Path(within).parent
        folders = [path.parent, *(p for p in path.parent.parents if p == top or top in p.parents)]
    settings = next((f for f in folders if (f / SETTINGS_FILE).is_file()), None)
    declared = _declared_encoding(settings) if settings is not None else None
    if declared is not None:
        return declared
    line, column, byte = bad
    where = "beside it" if within is None else "in the data folder"
    raise InputFileError(f"{path}: not UTF-8 text: line {line}, column {column} has the byte 0x{byte:02x}; save the "
                         f"file as UTF-8, or name its encoding in {SETTINGS_FILE} {where} ([read] encoding = "
                         "\"cp1252\", \"latin-1\", ...)")


@functools.lru_cache(maxsize=4096)  # a folder of daily CSV exports holds hundreds of files
def _first_non_utf8(path: str, size: int, mtime_ns: int) -> tuple[int, int, int] | None:
    """(line, column, byte) of the first byte that is not UTF-8, or None; read in chunks, cached per file version."""
    decoder = codecs.getincrementaldecoder(UTF8)()
    line, last_newline, offset = 1, -1, 0
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                head = chunk[:max(exc.start, 0)]
                newline = head.rfind(b"\n")
                column_start = offset + newline + 1 if newline >= 0 else last_newline + 1
                return (line + head.count(b"\n"), offset + exc.start - column_start + 1,
                        chunk[exc.start] if exc.start < len(chunk) else 0)
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                last_newline = offset + newline
            line += chunk.count(b"\n")
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return (line, offset - last_newline, 0)
    return None


def _declared_encoding(folder: Path) -> str | None:
    """The ``[read] encoding`` of the folder's driftdesk.toml, checked to be an encoding Python knows."""
    settings = folder / SETTINGS_FILE
    if not settings.is_file():
        return None
    section = read_toml(settings).get("read", {})
    encoding = section.get("encoding") if isinstance(section, dict) else None
    if encoding is None:
        return None
    try:
        return codecs.lookup(str(encoding)).name
    except LookupError as exc:
        raise InputFileError(f"{settings}: [read] encoding {encoding!r} is not an encoding Python knows "
                             "(e.g. \"cp1252\", \"latin-1\", \"utf-16\")") from exc


def read_toml(path: str | Path, *, error: type[DriftdeskError] = InputFileError) -> dict:
    """A TOML settings file (driftdesk.toml, a manifest) read whole, within its bounds; every way it can be unreadable
    (a folder, not UTF-8, too large, nested too deep, bad syntax) is ``error`` naming the file."""
    from driftdesk.bounds import NESTING_DEPTH, TOML_BYTES, check_depth, check_size

    path = Path(path)
    if path.is_dir():
        raise error(f"{path}: is a folder, expected a TOML file")
    try:
        check_size(path.stat().st_size, what=str(path), limit=TOML_BYTES)
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        return check_depth(tomllib.loads(text), what=str(path))
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise error(f"{path}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it as UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from exc
    except RecursionError as exc:
        raise error(f"{path}: nested deeper than {NESTING_DEPTH} levels of tables and lists") from exc
    except DriftdeskError as exc:
        raise error(str(exc)) from exc
    except OSError as exc:
        raise error(f"{path}: cannot read: {exc.strerror or exc}") from exc
