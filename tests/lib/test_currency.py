"""The data's currency, declared once in driftdesk.toml, on every amount: the formatter's context, the folder settings
(read, checked, written back), and the CLI's text and JSON."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import polars as pl
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
    minor_units,
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


# --------------------------------------------------------------------------- minor units (ISO 4217)


@pytest.mark.parametrize(("value", "currency", "text"), [
    (1234.56, "JPY", "¥1,235"), (123.456, "JPY", "¥123"), (12.5001, "JPY", "¥13"), (10, "JPY", "¥10"),
    (5.5, "JPY", "¥5.50"), (0.42, "JPY", "¥0.42"), (0.05, "JPY", "¥0.050"), (0, "JPY", "¥0"),
    (-0.42, "JPY", "-¥0.42"), (-1234.56, "JPY", "-¥1,235"), (1e-7, "JPY", "< ¥0.000001"),
    (1234.56, "KRW", "1,235 KRW"), (98.7, "KRW", "99 KRW"), (0.42, "KRW", "0.42 KRW"),
    (123.4567, "BHD", "123.457 BHD"), (5.5, "BHD", "5.500 BHD"), (0.0042, "BHD", "0.00420 BHD"),
    (1234.5678, "KWD", "1,235 KWD"), (0.00042, "OMR", "0.00042 OMR"),
    (12.3456, "CLF", "12.3456 CLF"),
    (123.456, "USD", "$123.46"), (0.05, "USD", "$0.0500"), (0.42, "EUR", "€0.42"),  # two decimals as before
])
def test_money_has_its_currencys_decimals(value, currency, text):
    assert format_value(value, "usd", currency=currency) == text


def test_a_signed_amount_of_yen_keeps_the_sign_before_the_symbol():
    assert format_difference(1234.56, "usd", currency="JPY") == "+¥1,235"
    assert format_difference(-0.42, "usd", currency="jpy") == "-¥0.42"
    with money_in("JPY"):
        assert format_value(22.8, "usd") == "¥23"


@given(st.sampled_from(["USD", "EUR", "JPY", "KRW", "ISK", "BHD", "KWD", "TND", "CLF"]),
       st.floats(min_value=-999.99, max_value=999.99, allow_nan=False))
def test_from_ten_minor_units_to_1000_an_amount_has_exactly_the_minor_units(code, value):
    """ISO 4217's minor units: ten yen and up print whole, ten fils (0.010 BHD) and up with three decimals; the
    number read back is the value rounded to them."""
    minor = minor_units(code)
    if abs(value) < 10.0 ** (1 - minor):
        return
    text = format_value(value, "usd", currency=code)
    number = re.search(r"[\d,]+(\.\d+)?", text)
    decimals = len(number.group(1)) - 1 if number.group(1) else 0
    assert decimals == minor
    assert float(number.group(0).replace(",", "")) == pytest.approx(abs(value), abs=0.5 * 10.0 ** -minor + 1e-12)
    assert text.startswith("-") == (value < 0 and float(number.group(0).replace(",", "")) != 0)


@given(st.sampled_from(["USD", "JPY", "BHD"]), st.floats(min_value=1e-6, max_value=1.0))
def test_below_ten_minor_units_an_amount_keeps_two_significant_digits(code, value):
    """Never hide the number: a fraction of a yen reads as such (¥0.42), not as ¥0."""
    if value >= 10.0 ** (1 - minor_units(code)):
        return
    text = format_value(value, "usd", currency=code)
    shown = float(re.search(r"\d[\d,]*\.\d+", text).group(0).replace(",", ""))
    assert shown == pytest.approx(value, rel=0.05)


def test_the_minor_units_table_is_iso_4217s():
    """The codes whose minor unit is not 2 in ISO 4217 (current list): spot checks from the standard."""
    assert [minor_units(c) for c in ("JPY", "KRW", "ISK", "CLP", "VND", "XOF")] == [0] * 6
    assert [minor_units(c) for c in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")] == [3] * 7
    assert [minor_units(c) for c in ("USD", "EUR", "GBP", "CHF", "INR", "CNY", "eur")] == [2] * 7
    assert minor_units("CLF") == 4 and minor_units("XYZ") == 2  # a code ISO does not list: two decimals


# --------------------------------------------------------------------------- chart axes agree with sentences


def test_a_euro_axis_that_goes_below_zero_lists_its_ticks_sign_first():
    """(-1.3, 0.7): a fifth of the span is 0.4, the next round step 0.5: ticks -1, -0.5, 0, 0.5 in cents."""
    ticks = axis_format("usd", currency="EUR", extent=(-1.3, 0.7))
    assert ticks == {"tickmode": "array", "tickvals": [-1.0, -0.5, 0.0, 0.5],
                     "ticktext": ["-€1.00", "-€0.50", "€0.00", "€0.50"]}
    signed = axis_format("usd", currency="EUR", extent=(-1.3, 0.7), signed=True)
    assert signed["ticktext"] == ["-€1.00", "-€0.50", "€0.00", "+€0.50"]
    assert [format_difference(v, "usd", currency="EUR") for v in (-1, -0.5, 0.5)] == ["-€1.00", "-€0.50", "+€0.50"]
    # yen: a fifth of 3,700 is 740, the next round step 1,000; whole yen
    assert axis_format("usd", currency="JPY", extent=(-2500, 1200))["ticktext"] == ["-¥2,000", "-¥1,000", "¥0",
                                                                                   "¥1,000"]
    # 2.5 steps need one more decimal than their power of ten: a fifth of 1.2 is 0.24, step 0.25
    assert axis_format("usd", currency="GBP", extent=(0.0, 1.2), signed=True)["ticktext"] == [
        "£0.00", "+£0.25", "+£0.50", "+£0.75", "+£1.00"]


def test_a_euro_axis_at_or_above_zero_keeps_plotlys_own_format_with_a_prefix():
    with money_in("EUR"):
        assert axis_format("usd", extent=(18.0, 24.0)) == {"tickformat": ",.1~f", "tickprefix": "€"}
        assert axis_format("usd")["tickprefix"] == "€"  # a level of money (a cost, a CPA) is not below zero
        # signed, range unknown: the code after the number (-1.2 EUR), never "€-1.2"
        assert axis_format("usd", signed=True) == {"tickformat": "+,.4~f", "ticksuffix": " EUR"}
    # dollars: plotly's $ writes -$1.2; a fifth of the span 2 is 0.4, ceil(-log10 0.4) + 1 = 2 decimals
    assert axis_format("usd", extent=(-1.3, 0.7)) == {"tickformat": "$,.2~f"}


@given(st.sampled_from(["EUR", "GBP", "JPY", "INR", "BRL"]),
       st.floats(min_value=-1e6, max_value=1e6), st.floats(min_value=1e-4, max_value=1e6), st.booleans())
def test_every_listed_tick_reads_as_a_sentence_writes_its_amount(code, low, width, signed):
    ticks = axis_format("usd", currency=code, extent=(low, low + width), signed=signed)
    if "tickvals" not in ticks:
        assert low >= 0 and not signed and ticks["tickprefix"]
        return
    vals, texts = ticks["tickvals"], ticks["ticktext"]
    assert 2 <= len(vals) <= 11 and vals == sorted(vals) and len(set(texts)) == len(texts)
    assert all(low - 1e-9 * width <= v <= low + width + 1e-9 * width for v in vals)
    symbol = {"EUR": "€", "GBP": "£", "JPY": "¥", "INR": "₹", "BRL": "R$"}[code]
    for v, text in zip(vals, texts):
        sign = "-" if v < 0 else "+" if signed and v > 0 else ""
        assert text.startswith(sign + symbol)  # the sign before the symbol, as in -€1.20
        assert float(text[len(sign + symbol):].replace(",", "")) == pytest.approx(abs(v), abs=1e-9 * width)


def test_the_impact_charts_in_euros_write_no_sign_after_the_symbol():
    from driftdesk.business import segment_impact
    from driftdesk.viz.business import impact_waterfall, segment_heatmap

    t0 = dt.datetime(2026, 3, 2)
    rows = [{"ts": t0 + dt.timedelta(days=7 * w), "geo": geo, "spend": spend, "conversions": 100.0,
             "revenue": 3000.0, "clicks": 2000.0, "impressions": 20000.0}
            for w, us, de in ((0, 2000.0, 2000.0), (1, 1800.0, 3000.0)) for geo, spend in (("US", us), ("DE", de))]
    result = segment_impact(pl.DataFrame(rows), baseline="2026-03-02T00:00/2026-03-09T00:00",
                            current="2026-03-09T00:00/2026-03-16T00:00", by="geo", min_conversions=0)
    with money_in("EUR"):
        bar = segment_heatmap(result).data[0].colorbar
        axis = impact_waterfall(result).layout.yaxis
    # US -€1.00 (CPA 20 -> 18 on half the conversions), DE +€5.00: a colour bar from -5 to 5 in ticks of 2
    assert list(bar.ticktext) == ["-€4.00", "-€2.00", "€0.00", "€2.00", "€4.00"]
    assert axis.tickprefix == "€" and axis.range[0] > 0  # CPAs of 20 to 24: a level, at the prefix
