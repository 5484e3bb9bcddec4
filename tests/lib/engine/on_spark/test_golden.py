"""Every CLI command that offers ``--engine spark`` prints on Spark what it printed on the sample before there were
engines (the golden answers, numbers to 1e-9)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.spark
GOLDEN = Path(__file__).resolve().parents[3] / "golden"
sys.path.insert(0, str(GOLDEN))

from cli_cases import BEFORE_C, DURING_C, _anonymise, cases, run_case, write_inputs  # noqa: E402
from test_cli_golden import _compare  # noqa: E402

__all__ = ["BEFORE_C", "DURING_C", "run_case"]
ON_SPARK = ["drift_quiet", "calibration_all", "calibration_quantile", "impact_b", "impact_c", "impact_c_cr",
            "llm_prompt", "llm_model_windows", "gates_backtest"]


@pytest.fixture(scope="module")
def golden_inputs(sample_dir, tmp_path_factory):
    return write_inputs(sample_dir, tmp_path_factory.mktemp("spark-golden"))


@pytest.mark.parametrize("name", ON_SPARK)
def test_golden_cases_on_spark(name, spark, sample_dir, golden_inputs):
    golden = json.loads((GOLDEN / "cli" / f"{name}.json").read_text())
    code, doc = run_case([*cases(sample_dir, golden_inputs)[name], "--engine", "spark"])
    assert code == golden["exit_code"]
    problems: list[str] = []
    _compare(golden["output"], _anonymise(doc, str(next(iter(golden_inputs.values())).parent), sample_dir), name,
             problems)
    assert not problems, "\n".join(problems)
