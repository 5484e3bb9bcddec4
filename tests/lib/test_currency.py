"""The data's currency, declared once in driftdesk.toml, on every amount: the formatter's context, the folder settings
(read, checked, written back), and the CLI's text and JSON."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from driftdesk.cli import main
from driftdesk.contract import (
    MAPPING_FILE,
    load_dataset,
    read_settings,
    remember_tables,
    write_mappings,
)
from driftdesk.errors import ContractError, DriftdeskError
from driftdesk.format import (
    axis_format,
    currency_code,
    currency_in_effect,
    format_difference,
    format_value,
    money_in,
    unit_words,
)

BEFORE_C = "2026-09-28T00:00/2026-10-05T00:00"
DURING_C = "2026-10-05T00:00/2026-10-12T00:00"


def run(args: list[str], fmt: str = "json") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*args, "--format", fmt])
    return code, out.getvalue(), err.getvalue()


def declare(folder: Path, currency: str) -> None:
    """Put ``currency = ...`` (raw TOML) at the top of the folder's driftdesk.toml, keeping the rest."""
    path = folder / MAPPING_FILE
    rest = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text(f"currency = {currency}\n{rest}", encoding="utf-8")


@pytest.fixture(scope="module")
def eur_folder(sample_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("eur") / "data"
    shutil.copytree(sample_dir, folder)
    declare(folder, '"EUR"')
    return folder


# --------------------------------------------------------------------------- the formatter's context


def test_money_in_sets_the_currency_for_the_block_and_restores_it():
    assert currency_in_effect() == "USD" and format_value(22.8, "usd") == "$22.80"
    with money_in("eur"):
        assert currency_in_effect() == "EUR"
        assert format_value(22.8, "usd") == "€22.80" and format_difference(-1.5, "usd") == "-€1.50"
        assert format_value(0.029, "rate") == "2.90%"  # other units are not money
        assert format_value(22.8, "usd", currency="GBP") == "£22.80"  # an explicit currency wins
        with money_in("CHF"):
            assert format_value(1234.5, "usd") == "1,234 CHF"  # no symbol known: the code after the amount
        assert format_value(1, "usd") == "€1.00"
    assert format_value(22.8, "usd") == "$22.80"


def test_money_in_is_restored_after_an_error_inside_the_block():
    with pytest.raises(RuntimeError), money_in("JPY"):
        raise RuntimeError("boom")
    assert currency_in_effect() == "USD"


def test_axis_ticks_and_words_follow_the_currency():
    assert axis_format("usd", span=10)["tickformat"].startswith("$")  # dollars: plotly's own currency format
    with money_in("EUR"):
        eur = axis_format("usd", span=10)
        assert eur["tickprefix"] == "€" and "$" not in eur["tickformat"] and unit_words("usd") == "euros"
    with money_in("CHF"):
        chf = axis_format("usd", span=10)
        assert chf["ticksuffix"] == " CHF" and "tickprefix" not in chf and unit_words("usd") == "CHF"
    assert axis_format("rate") == axis_format("rate", currency="EUR")  # only money changes
    assert unit_words("usd") == "dollars"


@pytest.mark.parametrize("bad", ["EURO", "E1", "€", "", "US D", 978, None, ["EUR"]])
def test_a_code_that_is_not_three_letters_is_refused_naming_the_value(bad):
    with pytest.raises(DriftdeskError, match="is not a currency code") as exc:
        currency_code(bad, where="settings.toml: currency")
    assert str(exc.value).startswith("settings.toml: currency: ") and repr(bad) in str(exc.value)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3),
       st.floats(min_value=-1e12, max_value=1e12, allow_nan=False))
def test_inside_money_in_every_amount_reads_as_with_its_explicit_currency(code, value):
    with money_in(code):
        text = format_value(value, "usd")
        assert text == format_value(value, "usd", currency=code)
    assert format_value(value, "usd") == format_value(value, "usd", currency="USD")
    if code not in ("USD", "BRL"):  # R$ is the real's own symbol
        assert "$" not in text


# --------------------------------------------------------------------------- the folder's setting


def test_the_folder_declares_its_currency_once(tmp_path: Path, sample_dir: Path):
    assert read_settings(tmp_path).currency == "USD"  # no driftdesk.toml
    shutil.copy(sample_dir / "kpis.parquet", tmp_path / "kpis.parquet")
    declare(tmp_path, '"eur"')
    assert read_settings(tmp_path).currency == "EUR"
    assert load_dataset(tmp_path).currency == "EUR"
    (tmp_path / MAPPING_FILE).unlink()
    assert load_dataset(tmp_path).currency == "USD"


@pytest.mark.parametrize("raw, shown", [('"EURO"', "'EURO'"), ("978", "978"), ('"€"', "'€'"), ('""', "''")])
def test_a_bad_code_in_driftdesk_toml_names_the_file_and_the_value(tmp_path: Path, raw, shown):
    declare(tmp_path, raw)
    with pytest.raises(ContractError) as exc:
        read_settings(tmp_path)
    assert str(exc.value).startswith(f"{tmp_path / MAPPING_FILE}: currency: {shown} is not a currency code")


def test_remembering_a_mapping_keeps_the_currency(tmp_path: Path, sample_dir: Path):
    shutil.copy(sample_dir / "kpis.parquet", tmp_path / "ads.parquet")
    declare(tmp_path, '"GBP"')
    remember_tables(tmp_path, {"kpis": {"file": "ads.parquet", "segments": ["geo"]}})
    assert read_settings(tmp_path).currency == "GBP"
    write_mappings(tmp_path, {"kpis": {"file": "ads.parquet"}})
    assert read_settings(tmp_path).currency == "GBP"
    assert read_settings(tmp_path).files == {"kpis": "ads.parquet"}


def test_map_write_force_keeps_the_currency(tmp_path: Path, sample_dir: Path):
    shutil.copy(sample_dir / "kpis.parquet", tmp_path / "kpis.parquet")
    declare(tmp_path, '"JPY"')
    code, out, _ = run(["map", "--data", str(tmp_path), "--write", "--force"])
    assert code == 0 and 'currency = "JPY"' in json.loads(out)["toml"]
    assert read_settings(tmp_path).currency == "JPY" and read_settings(tmp_path).mappings


# --------------------------------------------------------------------------- the CLI


@pytest.mark.parametrize("args", [
    ["overview"],
    ["impact", "--baseline", BEFORE_C, "--current", DURING_C, "--by", "geo"],
    ["llm", "--by", "prompt_version", "--baseline", BEFORE_C, "--current", DURING_C],
])
def test_cli_text_is_in_the_folders_currency(eur_folder: Path, sample_dir: Path, args):
    """Amounts in sentences carry the symbol; a table's plain numbers are under a header naming the code."""
    code, eur, _ = run([args[0], "--data", str(eur_folder), *args[1:]], "table")
    assert code == 0 and ("€" in eur or "cost EUR" in eur) and "$" not in eur and "USD" not in eur
    code, usd, _ = run([args[0], "--data", str(sample_dir), *args[1:]], "table")
    assert code == 0 and ("$" in usd or "cost USD" in usd)  # the default is dollars
    assert "€" not in usd and "EUR" not in usd


@pytest.mark.parametrize("args", [
    ["overview"],
    ["impact", "--baseline", BEFORE_C, "--current", DURING_C, "--by", "geo"],
    ["llm", "--by", "prompt_version"],
])
def test_cli_json_says_the_currency_and_keeps_the_numbers(eur_folder: Path, sample_dir: Path, args):
    _, eur, _ = run([args[0], "--data", str(eur_folder), *args[1:]])
    _, usd, _ = run([args[0], "--data", str(sample_dir), *args[1:]])
    eur, usd = json.loads(eur), json.loads(usd)
    assert eur.pop("currency") == "EUR" and usd.pop("currency") == "USD"
    numbers = {k: v for k, v in eur.items() if k not in ("answer", "summary", "source", "layers")}
    assert numbers == {k: v for k, v in usd.items() if k not in ("answer", "summary", "source", "layers")}


def test_an_input_file_takes_the_currency_of_the_driftdesk_toml_beside_it(eur_folder: Path):
    code, out, _ = run(["impact", "--input", str(eur_folder / "kpis.parquet"), "--baseline", BEFORE_C,
                        "--current", DURING_C, "--by", "geo"])
    doc = json.loads(out)
    assert code == 0 and doc["currency"] == "EUR" and "€" in doc["summary"] and isinstance(doc["total"]["current"],
                                                                                             float)


def test_cli_refuses_a_bad_code_with_the_file_and_the_value(tmp_path: Path, sample_dir: Path):
    shutil.copy(sample_dir / "kpis.parquet", tmp_path / "kpis.parquet")
    declare(tmp_path, '"dollars"')
    code, out, err = run(["overview", "--data", str(tmp_path)])
    assert code == 2 and out == ""
    assert err.startswith(f"driftdesk: {tmp_path / MAPPING_FILE}: currency: 'dollars' is not a currency code")
    assert "\n" not in err.rstrip("\n")


def test_the_postmortem_export_says_its_currency(eur_folder: Path, tmp_path: Path):
    code, out, _ = run(["incident", "--data", str(eur_folder), "--id", "INC-c", "--export", str(tmp_path)])
    assert code == 0 and json.loads(out)["currency"] == "EUR"
    exported = json.loads((tmp_path / "INC-c.json").read_text(encoding="utf-8"))
    assert exported["currency"] == "EUR"
