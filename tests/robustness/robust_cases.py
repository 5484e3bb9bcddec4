"""Every kind of bad input the robustness suite tries, per face (a unique module name, unlike conftest).

A kind is one way input can be wrong (a window of 10**20 days, a CSV that is not UTF-8, a link naming a folder
outside the allowed roots). Each case names its kind; ``all_kinds()`` is what the README's reliability section
counts. Placeholders in a CLI case's arguments: ``{tiny}`` (a small good folder), ``{sample}`` (the bundled sample),
``{bad[name]}`` (a broken file of robust_data.bad_files), ``{tmp}`` (a fresh temporary folder).
"""

from __future__ import annotations

from dataclasses import dataclass

W_OUT = "2026-01-01T00:00/2026-01-02T00:00"  # a window before the tiny data
W_OUT2 = "2026-01-02T00:00/2026-01-03T00:00"
W_IN = "2026-09-08T00:00/2026-09-09T00:00"
W_IN2 = "2026-09-09T00:00/2026-09-10T00:00"


@dataclass(frozen=True)
class CliCase:
    """``driftdesk <args>`` must exit 2 with one line on stderr that contains ``needle``."""

    kind: str
    args: tuple[str, ...]
    needle: str


def cli(kind: str, command: str, needle: str) -> CliCase:
    return CliCase(kind, tuple(command.split()), needle)


CLI_CASES: tuple[CliCase, ...] = (
    # usage
    cli("unknown command", "nonsense", "invalid choice"),
    cli("missing required option", "sample", "required: --out"),
    cli("option that is not a number", "overview --data {tiny} --span many", "invalid int value"),
    cli("value outside an option's choices", "calibration --data {tiny} --strategy magic", "invalid choice"),
    # sizes and numbers out of bounds
    cli("number too large for any computer", "overview --data {tiny} --span 99999999999999999999",
        "span must be between 1 and 3,660 days"),
    cli("span of 10**12 days", "overview --data {tiny} --span 1000000000000", "span must be between 1 and 3,660"),
    cli("zero or negative span", "overview --data {tiny} --span 0", "span must be between 1 and 3,660"),
    cli("day in the year 1", "overview --data {tiny} --day 0001-01-01", "between 1900-01-01 and 2199-12-31"),
    cli("day in the year 9999", "overview --data {tiny} --day 9999-12-31", "between 1900-01-01 and 2199-12-31"),
    cli("day that is not a date", "overview --data {tiny} --day 2026-13-45", "as a day"),
    cli("zero bins", "calibration --data {tiny} --bins 0", "bins must be between 1 and 1,000"),
    cli("a hundred million bins", "calibration --data {tiny} --bins 100000000", "bins must be between 1 and 1,000"),
    cli("label delay of 10**20 days", "calibration --data {tiny} --label-delay 99999999999999999999d",
        "label delay must be between 0 and 3,660 days"),
    cli("label delay that is not a duration", "calibration --data {tiny} --label-delay soon", "must look like"),
    cli("seasonal period of 10**14 steps", "seasonality --data {tiny} --table kpis --metric cpa --period "
        "99999999999999", "seasonal period must be between 2 and 10,000 steps"),
    cli("seasonal period under two steps", "seasonality --data {tiny} --table kpis --metric cpa --period 1",
        "at least 2 steps"),
    cli("time bucket that is not a duration", "seasonality --data {tiny} --table kpis --metric cpa --every often",
        "time bucket like"),
    cli("time bucket of 10**20 days", "seasonality --data {tiny} --table kpis --metric cpa --every "
        "99999999999999999999d", "between 1 minute and 3,660 days"),
    cli("sample of 10**9 days", "sample --out {tmp}/s --days 1000000000", "--days must be between 14 and 3,660"),
    cli("sample scale of zero", "sample --out {tmp}/s --scale 0", "--scale must be between 1 and 1,000"),
    cli("negative seed", "sample --out {tmp}/s --seed -1", "--seed must be between 0 and"),
    cli("too many segment columns", "impact --data {tiny} --baseline " + W_IN + " --current " + W_IN2
        + " --by a,b,c,d,e,f,g,h,i", "segment columns must be between 0 and 8"),
    cli("negative minimum conversions", "impact --data {tiny} --baseline " + W_IN + " --current " + W_IN2
        + " --by geo --min-conversions -5", "min_conversions"),
    # windows
    cli("window that is not START/END", "impact --data {tiny} --baseline yesterday --current " + W_IN2 + " --by geo",
        "must be 'START/END'"),
    cli("window that ends before it starts", "impact --data {tiny} --baseline 2026-09-09T00:00/2026-09-08T00:00 "
        "--current " + W_IN2 + " --by geo", "must be after its start"),
    cli("window in the year 9999", "impact --data {tiny} --baseline 9999-12-30T00:00/9999-12-31T00:00 --current "
        + W_IN2 + " --by geo", "between 1900-01-01 and 2199-12-31"),
    cli("window outside the data", "impact --data {tiny} --baseline " + W_OUT + " --current " + W_IN2 + " --by geo",
        "has no rows; the data spans"),
    cli("both windows outside the data with null costs", "llm --data {tiny} --baseline " + W_OUT + " --current "
        + W_OUT2, "has calls; the data spans"),
    cli("timestamp that is not ISO 8601", "releases live --data {tiny} --at noonish", "ISO 8601"),
    # columns
    cli("segment column named twice", "impact --data {tiny} --baseline " + W_IN + " --current " + W_IN2
        + " --by geo,geo", "named twice"),
    cli("column to compare named twice", "drift --data {tiny} --baseline " + W_IN + " --current " + W_IN2
        + " --columns score,score", "named twice"),
    cli("segment column that does not exist", "impact --data {tiny} --baseline " + W_IN + " --current " + W_IN2
        + " --by planet", "planet"),
    cli("timestamp column that does not exist", "seasonality --input {bad[good_csv]} --ts when --value spend",
        "when"),
    # folders and files
    cli("data folder that does not exist", "overview --data {tmp}/nowhere", "no such folder"),
    cli("data folder that is a file", "overview --data {bad[a_file]}", "no such folder"),
    cli("folder without any table", "overview --data {tmp}", "no contract tables found"),
    cli("input file that does not exist", "llm --input {tmp}/calls.parquet", "no such file"),
    cli("input file with an unknown extension", "llm --input {bad[no_extension]}", "cannot tell the format"),
    cli("empty input file", "llm --input {bad[empty_csv]}", "the file is empty"),
    cli("input that is a folder", "llm --input {bad[folder_as_file]}", "is a folder"),
    cli("CSV that is not UTF-8", "impact --input {bad[non_utf8_csv]} --baseline " + W_IN + " --current "
        + W_IN2 + " --by geo", "not UTF-8 text: line 2"),
    cli("CSV header naming a column twice", "impact --input {bad[dup_header_csv]} --baseline " + W_IN
        + " --current " + W_IN2 + " --by geo", "more than once"),
    cli("Parquet file naming a column twice", "llm --input {bad[dup_parquet]}", "more than one occurrence"),
    cli("file that is not Parquet", "llm --input {bad[garbage_parquet]}", "cannot read as parquet"),
    cli("truncated Parquet file", "llm --input {bad[truncated_parquet]}", "cannot read as parquet"),
    cli("table with a header and no rows", "impact --input {bad[header_only_csv]} --baseline " + W_IN
        + " --current " + W_IN2 + " --by geo", "empty"),
    cli("export folder inside a file", "incident --data {tiny} --id INC-1 --export {bad[a_file]}/sub",
        "cannot create the export folder"),
    cli("sample written over a file", "sample --out {bad[a_file]}", "exists and is not a folder"),
    # the data contract
    cli("epoch time outside the stated range", "impact --input {bad[epoch_out_of_range]} --baseline "
        + W_IN + " --current " + W_IN2 + " --by geo", "epoch time out of range"),
    cli("numbers that are no epoch time", "impact --input {bad[epoch_too_small]} --baseline " + W_IN
        + " --current " + W_IN2 + " --by geo", "Unix epoch time"),
    cli("negative spend", "impact --input {bad[negative_spend]} --baseline " + W_IN + " --current " + W_IN2
        + " --by geo", ">= 0"),
    cli("infinite spend", "impact --input {bad[infinite_spend]} --baseline " + W_IN + " --current "
        + W_IN2 + " --by geo", "not finite"),
    cli("timestamp that does not parse", "impact --input {bad[unparsable_ts]} --baseline " + W_IN
        + " --current " + W_IN2 + " --by geo", "unparsable timestamp"),
    cli("timestamps with and without offsets", "impact --input {bad[mixed_time_zones]} --baseline " + W_IN
        + " --current " + W_IN2 + " --by geo", "mixed time zones"),
    cli("required column missing", "impact --input {bad[missing_role]} --baseline " + W_IN + " --current "
        + W_IN2 + " --by geo", "missing required column"),
    cli("duplicate key rows", "impact --input {bad[duplicate_key]} --baseline " + W_IN + " --current "
        + W_IN2 + " --by geo", "duplicate key"),
    cli("text in a number column", "impact --input {bad[text_in_number]} --baseline " + W_IN + " --current "
        + W_IN2 + " --by geo", "expected a number"),
    cli("score outside 0..1", "calibration --input {bad[score_out_of_range]}", "score"),
    cli("label that is not 0/1", "calibration --input {bad[label_not_binary]}", "label"),
    # a folder's settings (driftdesk.toml)
    cli("settings file that is not UTF-8", "map --data {bad[toml_non_utf8]}", "not UTF-8 text"),
    cli("settings file that is a folder", "map --data {bad[toml_is_folder]}", "is a folder"),
    cli("settings file that is not TOML", "map --data {bad[toml_malformed]}", "not valid TOML"),
    cli("settings nested thousands deep", "map --data {bad[toml_deep]}", "nested deeper than"),
    cli("settings nested past the bound", "map --data {bad[toml_too_deep]}", "nested deeper than 8"),
    cli("settings file of a megabyte", "map --data {bad[toml_too_large]}", "the limit is"),
    cli("one column mapped to two roles", "overview --data {bad[toml_two_roles]}", "mapped to 2 roles"),
    cli("mapping an unknown role", "overview --data {bad[toml_unknown_role]}", "unknown role"),
    cli("mapping a column the file lacks", "overview --data {bad[toml_missing_column]}", "cost"),
    cli("mapping an unknown table", "overview --data {bad[toml_unknown_table]}", "unknown table"),
    cli("mapped file outside its folder", "overview --data {bad[toml_file_outside]}", "name of a file in the folder"),
    cli("encoding Python does not know", "overview --data {bad[toml_bad_encoding_name]}", "not an encoding"),
    # gate policies
    cli("policy file that does not exist", "gates backtest --policy {tmp}/p.toml --data {tiny}", "no such policy file"),
    cli("policy that is not TOML", "gates backtest --policy {bad[policy_malformed]} --data {tiny}", "TOML syntax error"),
    cli("policy name that leaves its folder", "gates backtest --policy {bad[policy_dotdot_name]} --data {tiny}",
        "cannot be used as a file name"),
    cli("gate window of 10**20 days", "gates backtest --policy {bad[policy_window_overflow]} --data {tiny}",
        "at most 3,660 days"),
    cli("10**12 consecutive breaches", "gates backtest --policy {bad[policy_consecutive_huge]} --data {tiny}",
        "consecutive must be between 1 and 1,000"),
    cli("policy of 102 gates", "gates backtest --policy {bad[policy_too_many_gates]} --data {tiny}",
        "number of gates must be between 1 and 100"),
    cli("policy with an unknown field", "gates backtest --policy {bad[policy_unknown_field]} --data {tiny}",
        "unknown field"),
    cli("gate on an unknown metric", "gates backtest --policy {bad[policy_unknown_metric]} --data {tiny}", "happiness"),
    cli("policy without gates", "gates backtest --policy {bad[policy_no_gates]} --data {tiny}", "no gates"),
    cli("policy nested thousands deep", "gates backtest --policy {bad[policy_deep]} --data {tiny}", "nested deeper"),
    cli("threshold that is not a number", "gates backtest --policy {bad[policy_nan_threshold]} --data {tiny}",
        "must be finite"),
    cli("policy file that is not UTF-8", "gates backtest --policy {bad[policy_non_utf8]} --data {tiny}",
        "cannot read the policy"),
    cli("policy path that is a folder", "gates backtest --policy {bad[policy_is_folder]} --data {tiny}", "is a folder"),
    # releases, incidents, rollouts, spans
    cli("manifest that is not JSON", "releases id --manifest {bad[manifest_bad_json]}", "cannot read the manifest"),
    cli("manifest nested thousands deep", "releases id --manifest {bad[manifest_deep]}", "cannot read the manifest"),
    cli("manifest missing fields", "releases id --manifest {bad[manifest_missing_field]}", "missing field"),
    cli("incident id not in the log", "incident --data {tiny} --id INC-404", "INC-404"),
    cli("rollout version not in the data", "canary --data {tiny} --control v1 --candidate v9", "v9"),
    cli("JSON that is not spans", "otel import --input {bad[not_spans]} --out {tmp}/o", "no spans found"),
)


# --------------------------------------------------------------------------- the library

@dataclass(frozen=True)
class LibCase:
    """``call(ctx)`` must raise ``error`` (a DriftdeskError subclass, by name) with ``needle`` in its message."""

    kind: str
    call: object  # (ctx) -> anything
    error: str
    needle: str = ""


def _policy_link(doc: object, *, raw: bytes | None = None) -> str:
    import base64
    import json
    import zlib

    data = raw if raw is not None else json.dumps(doc).encode()
    return base64.urlsafe_b64encode(zlib.compress(data, 9)).decode().rstrip("=")


def _deep(levels: int) -> dict:
    doc: dict = {}
    for _ in range(levels):
        doc = {"x": [doc]}
    return {"policy": {"name": "deep", **doc}, "gate": [{"name": "g", "metric": "cpa", "threshold": 1.0}]}


def _gates(n: int, name: str = "many") -> dict:
    return {"policy": {"name": name}, "gate": [{"name": f"g{i}", "metric": "cpa", "threshold": 1.0} for i in range(n)]}


def _lib_cases() -> tuple[LibCase, ...]:
    import datetime as dt

    import polars as pl

    from driftdesk import bounds, business, calibration, segments, windows
    from driftdesk.budget import budget_burn
    from driftdesk.contract import load_dataset, validate_frame
    from driftdesk.gates.policy import decode_policy, parse_policy, policy_from_dict
    from driftdesk.incidents import incident_view
    from driftdesk.io import as_lazy, scan_table
    from driftdesk.llm import llm_view, metrics_over_time
    from driftdesk.overview import overview
    from driftdesk.paths import safe_name
    from driftdesk.rollout import judge_rollout
    from driftdesk.seasonality.view import seasonality_view

    day = dt.date(2026, 9, 10)
    kpis = pl.DataFrame({"ts": [dt.datetime(2026, 9, 1)], "geo": ["US"], "spend": [1.0], "conversions": [1.0]})
    return (
        LibCase("every that is not a duration", lambda c: business.kpi_table(kpis, every="foo"), "LimitError",
                "time bucket like"),
        LibCase("every of zero length", lambda c: metrics_over_time(c.tiny["llm_calls"].frame, every="0d"),
                "LimitError", "between 1 minute and 3,660 days"),
        LibCase("day that is a number", lambda c: overview(c.tiny, day=1), "WindowError", "must be a date"),
        LibCase("span of 10**12 days", lambda c: overview(c.tiny, span_days=10**12), "WindowError",
                "span must be between 1 and 3,660 days"),
        LibCase("window of 10**12 days", lambda c: windows.Window.ending(day, days=10**12), "WindowError",
                "a window must be between 1 and 3,660 days"),
        LibCase("window in the year 9999", lambda c: windows.Window.parse("9999-12-31T00:00/9999-12-31T01:00"),
                "WindowError", "between 1900-01-01 and 2199-12-31"),
        LibCase("window moved out of the calendar", lambda c: windows.Window.day(dt.date(1900, 1, 1)).shift(
            -dt.timedelta(days=800_000)), "WindowError", "leaves the calendar"),
        LibCase("bins that are not a number", lambda c: calibration.bin_edges([0.5], bins="ten"), "LimitError",
                "bins must be a whole number between 1 and 1,000"),
        LibCase("a hundred million bins", lambda c: calibration.bin_edges([0.5], bins=10**8), "LimitError",
                "bins must be between 1 and 1,000"),
        LibCase("bin strategy that does not exist", lambda c: calibration.bin_edges([0.5], strategy="magic"),
                "DriftdeskError", "strategy must be"),
        LibCase("segment column named twice", lambda c: segments.by_columns(["geo", "geo"]), "DriftdeskError",
                "more than once"),
        LibCase("too many segment columns", lambda c: segments.by_columns(list("abcdefghi")), "LimitError",
                "segment columns must be between 0 and 8"),
        LibCase("segment column that is not text", lambda c: segments.by_columns([1]), "DriftdeskError",
                "must be text"),
        LibCase("budget of infinity", lambda c: llm_view(c.tiny, by=None, end_day=day, budget_per_day=float("inf")),
                "LimitError", "an amount must be between 0 and"),
        LibCase("window of zero days", lambda c: llm_view(c.tiny, by=None, end_day=day, days=0), "LimitError",
                "a window must be between 1 and 3,660 days"),
        LibCase("label delay of a million days", lambda c: calibration.calibration_view(
            c.tiny, end=day, days=7, label_delay_days=10**6), "LimitError", "label delay must be between 0 and 3,660"),
        LibCase("a value that is not a frame", lambda c: as_lazy(42), "DriftdeskError", "expected a polars"),
        LibCase("table that is not in the contract", lambda c: validate_frame(kpis, "sales"), "ContractError",
                "unknown table"),
        LibCase("one column mapped to two roles", lambda c: validate_frame(
            kpis, "kpis", mapping={"spend": "spend", "conversions": "spend"}), "ContractError", "mapped to 2 roles"),
        LibCase("column listed twice in segments", lambda c: validate_frame(
            kpis, "kpis", mapping={"segments": ["geo", "geo"]}), "ContractError", "listed twice"),
        LibCase("column both a segment and a role", lambda c: validate_frame(
            kpis, "kpis", mapping={"segments": ["geo", "spend"]}), "ContractError", "plays spend"),
        LibCase("budget burn with all-null costs", lambda c: budget_burn(
            c.tiny_null_cost["llm_calls"].frame, budget=10.0, day=day), "DriftdeskError", "unknown, not zero"),
        LibCase("CSV that is not UTF-8", lambda c: scan_table(c.bad["non_utf8_csv"]), "InputFileError",
                "line 2, column 23 has the byte 0xfc"),
        LibCase("CSV header naming a column twice", lambda c: scan_table(c.bad["dup_header_csv"]), "InputFileError",
                "'geo' (columns 2, 3)"),
        # a policy in a link (the Gates page's ``policy`` parameter)
        LibCase("policy link that is not base64", lambda c: decode_policy("!!not a policy!!"), "PolicyError",
                "cannot be read"),
        LibCase("policy link longer than its bound", lambda c: decode_policy("A" * 20_000), "PolicyError",
                "the limit is 16,384"),
        LibCase("policy link that inflates to 5 MB", lambda c: decode_policy(_policy_link(None, raw=b" " * 5_000_000)),
                "PolicyError", "inflates to more than 262,144 bytes"),
        LibCase("policy link nested past the bound", lambda c: decode_policy(_policy_link(_deep(10))), "PolicyError",
                "nested deeper than 8"),
        LibCase("policy link of 102 gates", lambda c: decode_policy(_policy_link(_gates(102))), "PolicyError",
                "number of gates must be between 1 and 100"),
        LibCase("policy name that leaves its folder", lambda c: policy_from_dict(_gates(1, "..")), "PolicyError",
                "cannot be used as a file name"),
        LibCase("policy nested thousands deep", lambda c: parse_policy("x = " + "[" * 5000 + "]" * 5000),
                "PolicyError", "nested deeper"),
        LibCase("policy text of two megabytes", lambda c: parse_policy("# " + "x" * 2_000_000), "PolicyError",
                "the limit is"),
        # names that become paths (policy names, upload ids, version numbers, incident ids, manifest names)
        LibCase("name '..'", lambda c: safe_name(".."), "PathError", "starts with a dot"),
        LibCase("name '.'", lambda c: safe_name("."), "PathError", "starts with a dot"),
        LibCase("name with a slash", lambda c: safe_name("a/../../etc"), "PathError", "path separator"),
        LibCase("name with a backslash", lambda c: safe_name("a\\..\\x"), "PathError", "path separator"),
        LibCase("name with a NUL character", lambda c: safe_name("a\x00b"), "PathError", "control character"),
        LibCase("name reserved on Windows", lambda c: safe_name("nul.toml"), "PathError", "reserved"),
        LibCase("empty name", lambda c: safe_name(""), "PathError", "non-empty"),
        LibCase("name ending in a dot", lambda c: safe_name("v1."), "PathError", "ends with"),
        LibCase("name of 200 characters", lambda c: safe_name("x" * 200), "PathError", "longer than 128"),
        LibCase("sample of a billion days", lambda c: __import__("driftdesk.sample", fromlist=["x"]).write_sample(
            c.tmp / "s", days=10**9), "LimitError", "--days must be between 14 and 3,660"),
        LibCase("size that is not a number", lambda c: bounds.SPAN_DAYS.check("28"), "LimitError",
                "span must be a whole number"),
        LibCase("incident id that is not text", lambda c: incident_view(c.tiny, 5), "DriftdeskError",
                "an incident id is text"),
        LibCase("check that is not a Check", lambda c: overview(c.tiny, checks=[1]), "DriftdeskError",
                "checks are Check objects"),
        LibCase("folder path that is a number", lambda c: load_dataset(42), "InputFileError", "takes a folder path"),
        LibCase("mapping that is a list", lambda c: validate_frame(kpis, "kpis", mapping=["spend"]), "ContractError",
                "a mapping is role -> column name"),
        LibCase("rollout rows that are not a frame", lambda c: judge_rollout(42, control="v1", candidate="v2"),
                "DriftdeskError", "expected a polars"),
        LibCase("day that is not a date (seasonality)", lambda c: seasonality_view(
            c.tiny, table="kpis", metric="cpa", day="someday"), "LimitError", "expected YYYY-MM-DD"),
    )


LIB_CASES: tuple[LibCase, ...] = _lib_cases()


# --------------------------------------------------------------------------- the app

REFUSED = "is not a data folder this server can open"


@dataclass(frozen=True)
class AppCase:
    """``page`` opened with ``query`` shows no exception; with ``needle``, a message (error, warning, info) says it.

    Query values may use ``{tiny}``, ``{root}`` (an allowed root), ``{outside}`` (a folder outside every root),
    ``{link_out}`` (a symlink in a root pointing outside) and ``{bad_policy}`` (a folder whose policy.toml is not
    TOML). Without a needle the page falls back to its defaults and shows its title.
    """

    kind: str
    page: str
    query: tuple[tuple[str, str], ...]
    needle: str | None = None


def app(kind: str, page: str, needle: str | None = None, **query: str) -> AppCase:
    return AppCase(kind, page, tuple(query.items()), needle)


APP_CASES: tuple[AppCase, ...] = (
    # a link naming data the server must not read: one message, whether or not the folder exists
    app("link to a folder outside the allowed roots", "overview", REFUSED, data="{outside}"),
    app("link to /etc", "data", REFUSED, data="/etc"),
    app("link with '..' out of a root", "drift", REFUSED, data="{root}/../.."),
    app("link to the home folder with '~'", "calibration", REFUSED, data="~"),
    app("link to a relative path", "impact", REFUSED, data="sample_data"),
    app("link through a symlink out of a root", "llm", REFUSED, data="{link_out}"),
    app("link to a folder that does not exist", "seasonality", REFUSED, data="{root}/no-such-folder"),
    app("upload id '..'", "gates", REFUSED, data="upload:.."),
    app("upload id leaving the store", "rollouts", REFUSED, data="upload:../../etc"),
    app("upload id that is not a hash", "incidents", REFUSED, data="upload:notahash"),
    app("link with a NUL character", "overview", REFUSED, data="{root}/x\x00y"),
    # a policy in a link, and one in the data folder
    app("policy link that is not base64", "gates", "cannot be used", data="{tiny}", policy="!!not a policy!!"),
    app("policy link longer than its bound", "gates", "the limit is 16,384", data="{tiny}", policy="A" * 20_000),
    app("policy link that inflates to 5 MB", "gates", "inflates to more than", data="{tiny}", policy="{bomb}"),
    app("policy link nested past the bound", "gates", "nested deeper than 8", data="{tiny}", policy="{deep}"),
    app("policy link of 102 gates", "gates", "number of gates must be between 1 and 100", data="{tiny}",
        policy="{many}"),
    app("policy name that leaves its folder", "gates", "cannot be used as a file name", data="{tiny}",
        policy="{dotdot}"),
    app("policy.toml that is not TOML", "gates", "TOML syntax error", data="{bad_policy}"),
    # URL parameters out of range: the page falls back to its defaults (or says why it cannot)
    app("a hundred million bins", "calibration", None, data="{tiny}", bins="100000000"),
    app("window of 10**12 days", "llm", None, data="{tiny}", days="1000000000000"),
    app("day in the year 1", "calibration", None, data="{tiny}", end="0001-01-01"),
    app("day in the year 9999", "overview", None, data="{tiny}", day="9999-12-31"),
    app("day that is not a date", "drift", None, data="{tiny}", day="2026-13-45"),
    app("span of 10**12 days", "overview", None, data="{tiny}", span="1000000000000"),
    app("budget of 1e400", "llm", None, data="{tiny}", budget="1e400"),
    app("hour that does not exist", "llm", None, data="{tiny}", asof="99:00"),
    app("incident id that leaves its folder", "incidents", None, data="{tiny}", incident="../../etc/passwd"),
    app("segment of 5,000 characters", "seasonality", None, data="{tiny}", segment="geo=" + "x" * 5000),
    app("custom window that is not START/END", "drift", "must be 'START/END'", data="{tiny}",
        baselines="custom", custom="last tuesday"),
    app("pinned window in the year 9999", "overview", "between 1900-01-01 and 2199-12-31", data="{tiny}",
        known_good="pinned", pinned="9999-12-30T00:00/9999-12-31T00:00"),
    app("segment column that does not exist", "impact", None, data="{tiny}", by="planet"),
    app("table that does not exist", "drift", None, data="{tiny}", table="sales"),
    app("metric that does not exist", "seasonality", None, data="{tiny}", metric="happiness"),
    app("gate that does not exist", "gates", None, data="{tiny}", gate="nope"),
    app("rollout version not in the data", "rollouts", None, data="{tiny}", control="v9"),
    app("tab that does not exist", "data", None, data="{tiny}", source="Nowhere"),
)


# kinds tried by a test of their own (not a row of the tables above), with the test that tries each
OTHER_KINDS: dict[str, str] = {
    "stdout closed by its reader (| head)": "test_robust_cli.py::test_a_closed_pipe_ends_quietly_with_the_commands_own_code",
    "costs that are all null": "test_robust_library.py::test_all_null_costs_are_unknown_not_zero",
    "revenue that is all null": "test_robust_library.py::test_an_all_null_revenue_is_unknown_not_zero",
    "CSV in another, declared encoding": "test_robust_library.py::test_a_csv_in_a_declared_encoding_reads_every_character",
    "disk full while writing the sample": "test_robust_library.py::test_a_sample_that_fails_halfway_writes_nothing",
    "sample written into a folder with other files": ("test_robust_library.py::"
                                                      "test_a_sample_into_an_existing_folder_keeps_its_other_files"),
    "probing whether a folder exists through a link": ("test_robust_app.py::"
                                                       "test_the_refusal_does_not_say_whether_the_folder_exists"),
    "folder outside the roots typed on the Data page": ("test_robust_app.py::"
                                                        "test_the_folder_tab_accepts_only_allowed_folders"),
    "a reader that panics": "test_robust_app.py::test_an_error_no_page_caught_is_a_message",
    "an error nobody foresaw": "test_robust_app.py::test_an_error_no_page_caught_is_a_message",
    "running out of memory": "test_robust_app.py::test_an_error_no_page_caught_is_a_message",
    "CSV of any shape and bytes": "test_robust_generated.py::test_the_readers_answer_any_csv_with_a_result_or_a_clear_error",
    "URL parameters of any value": "test_robust_generated.py::test_every_page_opens_on_any_url_parameters",
    "values from data that are HTML or markdown": "tests/app/test_untrusted_values.py (every page), tests/browser",
}


def all_kinds() -> set[str]:
    """Every distinct kind of bad input the suite tries, over the three faces."""
    return ({c.kind for c in CLI_CASES} | {c.kind for c in LIB_CASES} | {c.kind for c in APP_CASES}
            | set(OTHER_KINDS))
