"""The CLI on every kind of bad input: exit 2 and exactly one line on stderr naming the problem, never a traceback
and never exit 1 (which means a gate failed); a closed pipe ends quietly with the command's own exit code."""

from __future__ import annotations

import subprocess
import sys

import pytest
from robust_cases import CLI_CASES, CliCase

from driftdesk.cli import main


def run_in_process(args: list[str], capsys) -> tuple[int, str, str]:
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.kind for c in CLI_CASES])
def test_bad_input_exits_2_with_one_line(case: CliCase, tiny, sample_dir, bad, tmp_path, capsys):
    args = [a.format(tiny=tiny, sample=sample_dir, bad=bad, tmp=tmp_path) for a in case.args]
    code, out, err = run_in_process(args, capsys)
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert out == ""
    assert len(lines) == 1, err
    assert lines[0].startswith("driftdesk: ") and case.needle in lines[0], lines[0]
    assert "Traceback" not in err


def test_a_closed_pipe_ends_quietly_with_the_commands_own_code(tiny):
    """``driftdesk ... | head -1``: no BrokenPipeError, nothing on stderr, the exit code of the command itself."""
    proc = subprocess.Popen([sys.executable, "-m", "driftdesk.cli", "overview", "--data", str(tiny), "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.readline()
    proc.stdout.close()  # the reader goes away after one line
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0
    assert "Traceback" not in err and "BrokenPipe" not in err, err
