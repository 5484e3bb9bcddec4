"""Generated bad input (hypothesis, bounded examples so the suite stays fast): tables of any shape for the contract
readers, and URL parameters of any value for every page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from driftdesk.errors import DriftdeskError

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "app"))
sys.path.insert(0, str(ROOT / "app"))

from app_helpers import make_app  # noqa: E402

from ui import params  # noqa: E402

HEADERS = ("ts", "geo", "spend", "conversions", "score", "label", "x", "", " ", "Spend (USD)", "ts")
CELLS = ("", "1", "-1", "0", "1e400", "nan", "inf", "-inf", "2026-09-01T00:00:00Z", "2026-09-01", "yesterday",
         "1788000000", "50000000000", "München", '"a,b"', '"', "true", "x" * 60, "2026-09-01T00:00:00+02:00")
BYTES = st.one_of(st.sampled_from([c.encode() for c in CELLS]), st.binary(max_size=4))


@st.composite
def csv_files(draw) -> bytes:
    """A CSV of up to 6 columns and 8 rows: repeated and blank names, text in numbers, odd bytes, ragged rows."""
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    rows = draw(st.lists(st.lists(BYTES, min_size=0, max_size=len(header) + 1), max_size=8))
    lines = [sep.join(header).encode()] + [sep.encode().join(row) for row in rows]
    return b"\n".join(lines) + draw(st.sampled_from([b"\n", b"", b"\r\n"]))


READERS = {
    "read": lambda path: __import__("driftdesk.io", fromlist=["x"]).read_table(path),
    "contract": lambda path: __import__("driftdesk.contract", fromlist=["x"]).load_table(path, "kpis"),
    "proposal": lambda path: __import__("driftdesk.proposal", fromlist=["x"]).propose_file(path),
    "folder": lambda path: __import__("driftdesk.contract", fromlist=["x"]).load_dataset(path.parent),
}


@pytest.mark.parametrize("reader", sorted(READERS))
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=csv_files())
def test_the_readers_answer_any_csv_with_a_result_or_a_clear_error(reader, content, tmp_path):
    path = tmp_path / "kpis.csv"
    path.write_bytes(content)
    try:
        READERS[reader](path)
    except DriftdeskError as exc:
        assert str(exc).strip()


PAGES = ("overview", "data", "drift", "calibration", "impact", "seasonality", "llm", "gates", "rollouts", "incidents")
NAMES = sorted(v for k, v in vars(params).items() if k.isupper() and isinstance(v, str) and v != params.DATA)
VALUES = st.one_of(
    st.sampled_from(["", "0", "-1", "99999999999999999999", "1e400", "nan", "0001-01-01", "9999-12-31", "2026-09-08",
                     "../../etc/passwd", "~", "<img src=x onerror=alert(1)>", "**bold**", "(none)", "geo", "geo=US",
                     "custom", "pinned", "2026-09-08T00:00/2026-09-09T00:00", "9999-12-30T00:00/9999-12-31T00:00",
                     "true", "A" * 3000]),
    st.text(max_size=12),
    st.integers(-10**20, 10**20).map(str),
)


@pytest.mark.parametrize("page", PAGES)
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.dictionaries(st.sampled_from(NAMES), VALUES, min_size=1, max_size=4))
def test_every_page_opens_on_any_url_parameters(page, query, tiny):
    at = make_app(**{"data": str(tiny), **query}).switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, (query, [e.value for e in at.exception])
