"""Documented calls run: the Python examples in the Markdown docs and every ``>>>`` example in a docstring.

Markdown: each file's ```python blocks run in order in one namespace, from the repository root (so
``load_dataset("sample_data")`` reads the sample), and a traceback names the file and its line. A comment that
quotes what an expression gives (``r.summary  # "CPA fell 4.6% ..."``, on its line or alone on the next) is
checked too: ``...`` stands for any text, a quoted string is compared with the value itself, a ``[...]`` with its
repr. A block that truly cannot run (it needs a server or the reader's own files) is preceded by
``<!-- not run: the reason -->``. Docstrings: every module of the library with a ``>>>`` example runs through
doctest.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "driftdesk"
DOCS = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!--\s*not run:\s*(?P<reason>[^>]*?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # line of the first line of code
    code: str
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def python_blocks(doc: Path) -> list[Block]:
    text = doc.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n")
        marker = NOT_RUN.search(before.splitlines()[-1]) if before else None
        blocks.append(Block(doc, text.count("\n", 0, match.start(1)) + 1, match.group(1),
                            marker.group("reason") if marker else None))
    return blocks


BLOCKS = [block for doc in DOCS if doc.exists() for block in python_blocks(doc)]


@pytest.fixture(scope="module")
def namespaces() -> dict[Path, dict]:
    """One namespace per document, shared by its blocks in order (a later block may use an earlier one's names)."""
    return {}


def quoted_outputs(source: str) -> dict[int, str]:
    """Line -> a comment that quotes an output (starts with a quote or a bracket), for the lines that have one."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        text = tok.string.lstrip("#").strip()
        if tok.type == tokenize.COMMENT and text[:1] in ("'", '"', "["):
            out[tok.start[0]] = text
    return out


def matches_quote(value, quote: str) -> bool:
    """A value against a quoted output: the string itself for a quoted string, the repr for a [list]."""
    if quote[0] in "'\"":
        if len(quote) < 2 or quote[-1] != quote[0] or not isinstance(value, str):
            return False
        expected, actual = quote[1:-1], value
    else:
        expected, actual = quote, repr(value)
    pattern = ".*?".join(re.escape(part) for part in expected.split("..."))
    return re.fullmatch(pattern, actual, re.DOTALL) is not None


def run_block(block: Block, namespace: dict) -> None:
    filename = str(block.doc.relative_to(ROOT))
    source = "\n" * (block.line - 1) + block.code  # padded so that line numbers are the document's own
    lines = source.splitlines()
    quotes = quoted_outputs(source)
    for stmt in ast.parse(source, filename).body:
        if not isinstance(stmt, ast.Expr):
            exec(compile(ast.Module([stmt], type_ignores=[]), filename, "exec"), namespace)  # noqa: S102
            continue
        value = eval(compile(ast.Expression(stmt.value), filename, "eval"), namespace)  # noqa: S307
        end = stmt.end_lineno
        quote = quotes.get(end)
        if quote is None and end < len(lines) and lines[end].lstrip().startswith("#"):
            quote = quotes.get(end + 1)  # the output quoted alone on the next line
        if quote is not None:
            assert matches_quote(value, quote), f"{filename}:{end}: the comment shows {quote}, the code gives {value!r}"


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
def test_markdown_python_block_runs(block: Block, namespaces, monkeypatch):
    if block.skip_reason is not None:
        assert block.skip_reason, f"{block.id}: say why a block is not run (<!-- not run: the reason -->)"
        pytest.skip(block.skip_reason)
    monkeypatch.chdir(ROOT)
    run_block(block, namespaces.setdefault(block.doc, {"__name__": "__docs__"}))


def test_a_quoted_output_is_checked():
    assert matches_quote("CPA fell 4.6% week over week", '"CPA fell 4.6% ..."')
    assert not matches_quote("CPA rose 4.6% week over week", '"CPA fell 4.6% ..."')
    assert matches_quote(["a b", "c"], "['a ...', 'c']") and not matches_quote(["a b"], "['a ...', 'c']")
    assert not matches_quote(0.5, "'0.5'")
    block = Block(ROOT / "README.md", 1, "x = 'level shift of +15%'\nx  # 'level shift of +10%'\n", None)
    with pytest.raises(AssertionError, match="the code gives"):
        run_block(block, {})


def test_the_readme_has_runnable_python_examples():
    readme = [b for b in BLOCKS if b.doc.name == "README.md"]
    assert len(readme) >= 3 and all(b.skip_reason is None for b in readme[:3])


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(LIB.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            parts = path.relative_to(LIB.parent).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


MODULES = _modules_with_examples()


def test_central_functions_show_an_example():
    assert {"driftdesk.windows", "driftdesk.jsonsafe"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    tests = doctest.DocTestFinder(exclude_empty=True).find(module, name)
    for test in tests:
        runner.run(test, out=report.append)
    result = runner.summarize(verbose=False)
    assert result.attempted > 0, f"{name} mentions >>> but doctest found no example"
    assert result.failed == 0, "".join(report)


def test_a_block_can_be_marked_not_run(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("Intro.\n\n```python\nx = 1\n```\n\n<!-- not run: needs your warehouse -->\n```python\nconnect()\n```\n",
                   encoding="utf-8")
    first, second = python_blocks(doc)
    assert (first.line, first.code, first.skip_reason) == (4, "x = 1\n", None)
    assert (second.line, second.skip_reason) == (9, "needs your warehouse")


def test_setting_up_takes_the_two_documented_commands():
    """README's "Set up" names two commands (run the app, run the tests); both scripts exist."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Set up\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"^```bash\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    commands = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    assert [c for c in commands if c] == ["bash scripts/app.sh", "bash scripts/test.sh"]
    assert all((ROOT / c.split()[1]).is_file() for c in commands if c)
    assert "(CONTRIBUTING.md)" in readme
