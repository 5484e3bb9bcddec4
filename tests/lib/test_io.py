"""Readers: format by extension, sniffed CSV dialects, clear errors for files that cannot be read."""

from __future__ import annotations

import contextlib
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftdesk.errors import DriftdeskError, InputFileError
from driftdesk.io import collect_table, file_format, scan_table, sniff_decimal_comma, sniff_delimiter

ROWS = [("2026-10-05T13:00:00Z", "US", 3, 10.5), ("2026-10-05T14:00:00Z", "DE", 4, 11.25)]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("sep", [",", ";", "\t", "|"])
def test_csv_delimiter_is_sniffed_and_read_correctly(tmp_path, sep):
    text = sep.join(["ts", "geo", "conversions", "spend"]) + "\n"
    text += "".join(sep.join(str(x) for x in row) + "\n" for row in ROWS)
    path = write(tmp_path / "kpis.csv", text)
    assert sniff_delimiter(path) == sep
    frame = scan_table(path).collect()
    assert frame.columns == ["ts", "geo", "conversions", "spend"]
    assert frame["spend"].to_list() == [10.5, 11.25]
    assert frame["geo"].to_list() == ["US", "DE"]


def test_semicolon_csv_with_decimal_comma(tmp_path):
    path = write(tmp_path / "k.csv", "ts;geo;conversions;spend\n2026-10-05T13:00:00Z;US;3;10,5\n2026-10-05T14:00:00Z;DE;4;1234,75\n")
    assert sniff_decimal_comma(path, ";")
    assert scan_table(path).collect()["spend"].to_list() == [10.5, 1234.75]


def test_a_point_anywhere_means_no_decimal_comma(tmp_path):
    path = write(tmp_path / "k.csv", "a;b\n1,5;2.5\n")
    assert not sniff_decimal_comma(path, ";")
    assert not sniff_decimal_comma(path, ",")


def test_tsv_extension_and_crlf_and_bom(tmp_path):
    path = tmp_path / "k.tsv"
    path.write_bytes("\ufeffts\tgeo\r\n2026-10-05\tUS\r\n".encode())
    frame = scan_table(path).collect()
    assert frame.columns == ["ts", "geo"]
    assert frame.row(0) == ("2026-10-05", "US")


@pytest.mark.parametrize("suffix,writer", [(".parquet", "write_parquet"), (".arrow", "write_ipc"), (".feather", "write_ipc")])
def test_binary_formats_by_extension(tmp_path, suffix, writer):
    frame = pl.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    path = tmp_path / f"t{suffix}"
    getattr(frame, writer)(path)
    assert isinstance(scan_table(path), pl.LazyFrame)
    assert scan_table(path).collect().equals(frame)


def test_unknown_extension_names_the_ones_we_read(tmp_path):
    with pytest.raises(InputFileError, match=r"t\.xlsx: cannot tell the format .*'\.xlsx'.*\.csv"):
        file_format(tmp_path / "t.xlsx")


def test_missing_empty_folder_and_corrupt_files(tmp_path):
    with pytest.raises(InputFileError, match="nope.csv: no such file"):
        scan_table(tmp_path / "nope.csv")
    with pytest.raises(InputFileError, match="empty.csv: the file is empty"):
        scan_table(write(tmp_path / "empty.csv", ""))
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(InputFileError, match="is a folder"):
        scan_table(tmp_path / "dir.csv")
    with pytest.raises(InputFileError, match="bad.parquet: cannot read as parquet"):
        scan_table(write(tmp_path / "bad.parquet", "this is not parquet"))


def test_late_type_change_in_a_csv_falls_back_to_text(tmp_path):
    lines = ["x,y"] + [f"{i},a" for i in range(10_050)] + ["oops,b"]
    path = write(tmp_path / "late.csv", "\n".join(lines) + "\n")
    frame = collect_table(path)
    assert frame.schema["x"] == pl.String  # read as text: the contract will name row 10051
    assert frame["x"][-1] == "oops"


def test_ragged_csv_is_an_input_error(tmp_path):
    path = write(tmp_path / "ragged.csv", "a,b\n1,2\n3,4,5,6\n")
    with pytest.raises(InputFileError, match="ragged.csv: cannot read"):
        collect_table(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".tsv", ".parquet", ".arrow"]))
def test_random_bytes_never_raise_anything_but_a_driftdesk_error(tmp_path, data, suffix):
    path = tmp_path / f"garbage{suffix}"
    path.write_bytes(data)
    with contextlib.suppress(DriftdeskError):
        frame = collect_table(path)
        assert isinstance(frame, pl.DataFrame)
