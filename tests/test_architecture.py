"""One direction of dependency: app -> library, never back; heavy imports stay in the one module that needs them."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "driftdesk"

# who may import what (paths relative to lib/driftdesk)
ALLOWED = {
    "mlflow": lambda rel: rel == "tracking.py",
    "pyspark": lambda rel: rel.startswith("engine/spark/"),
    "plotly": lambda rel: rel.startswith("viz/"),
    "streamlit": lambda rel: False,
}
STL_MODULES = ("statsmodels.tsa.seasonal", "statsmodels.tsa.stl")


def imports(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every import in a file, including those inside functions."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module, [alias.name for alias in node.names]))
    return found


def lib_files() -> list[Path]:
    return sorted(LIB.rglob("*.py"))


def test_library_imports_without_streamlit_in_a_fresh_interpreter():
    code = (
        "import importlib, pkgutil, sys\n"
        "import driftdesk\n"
        "light = sorted(m for m in ('streamlit', 'plotly', 'mlflow', 'pyspark') if m in sys.modules)\n"
        "for info in pkgutil.walk_packages(driftdesk.__path__, 'driftdesk.'):\n"
        "    importlib.import_module(info.name)\n"
        "print(light, 'streamlit' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    light, streamlit_loaded = out.stdout.strip().rsplit(" ", 1)
    assert streamlit_loaded == "False", "importing driftdesk and its submodules pulled in streamlit"
    assert light == "[]", f"`import driftdesk` alone should not load {light}: import them where they are used"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_only_the_allowed_module_imports(package):
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in lib_files()
        for line, module, _ in imports(path)
        if (module == package or module.startswith(package + ".")) and not ALLOWED[package](path.relative_to(LIB).as_posix())
    ]
    assert not offenders, f"{package} imported outside its one module: {offenders}"


def test_only_seasonality_stl_imports_statsmodels_stl():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in lib_files()
        for line, module, names in imports(path)
        if (module.startswith(STL_MODULES) or (module.startswith("statsmodels") and {"STL", "MSTL"} & set(names)))
        and path.relative_to(LIB).as_posix() != "seasonality/stl.py"
    ]
    assert not offenders, f"statsmodels' STL imported outside seasonality/stl.py: {offenders}"


def test_library_never_imports_the_app():
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in lib_files()
        for line, module, _ in imports(path)
        if module.split(".")[0] in ("app", "ui", "app_pages")
    ]
    assert not offenders, offenders


def test_app_pages_are_not_in_a_folder_streamlit_would_auto_list():
    assert not (ROOT / "app" / "pages").exists()
    assert (ROOT / "app" / "app_pages").is_dir()


# --------------------------------------------------------------------------- no import cycles in the library


def module_name(path: Path) -> str:
    parts = list(path.relative_to(LIB.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """driftdesk module -> the driftdesk modules it imports, at module level or inside functions (a function-level
    import defers a dependency, it does not untangle it). ``from driftdesk.x import y`` is an edge to the submodule
    x.y when y is one, else to x (its ``__init__``)."""
    modules = {module_name(p): p for p in lib_files()}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = package.rsplit(".", node.level - 1)[0] if node.level else ""
                target = ".".join(p for p in (base, node.module or "") if p)
                if target.split(".")[0] != "driftdesk":
                    continue
                edges |= {f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target for a in node.names}
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                found.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def test_the_library_has_no_import_cycles():
    graph = import_graph()
    assert {"driftdesk.drift.compare", "driftdesk.quality"} <= graph["driftdesk.drift.view"]  # the graph is read
    found = cycles(graph)
    assert not found, "import cycles: " + "; ".join(" -> ".join(c) for c in found)


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


# --------------------------------------------------------------------------- thin pages, one formatter, no HTML

APP = ROOT / "app"
PAGES = sorted((APP / "app_pages").glob("*.py"))
RENDER = sorted((APP / "ui" / "render").glob("*.py"))
# a number's format spec in an f-string ({x:.2f}, {n:,}, {p:.1%}); dates ({d:%Y-%m-%d}) are not numbers
NUMBER_SPEC = re.compile(r"^[<>=^]?[+\- ]?#?0?\d*[,_]?(\.\d+)?[eEfFgGn%d]?$")
COMPUTING_CALLS = ("agg", "group_by", "pivot", "unpivot", "rolling", "value_counts", "quantile", "mean", "median",
                   "std", "sum")


def test_pages_compute_nothing():
    offenders = []
    for path in PAGES:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for line, module, _ in imports(path):
            if module.split(".")[0] in ("polars", "numpy", "scipy", "statsmodels", "pandas") or module in (
                    "driftdesk.stats", "driftdesk.format", "driftdesk.metrics"):
                offenders.append(f"{path.name}:{line} imports {module}")
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in COMPUTING_CALLS:
                offenders.append(f"{path.name}:{node.lineno} calls .{node.func.attr}(")
    assert not offenders, f"pages call one loader and one render; statistics live in the library: {offenders}"


def test_pages_and_renderers_format_no_number_themselves():
    offenders = []
    for path in [*PAGES, *RENDER, APP / "ui" / "sidebar.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            if isinstance(node, ast.FormattedValue) and node.format_spec is not None:
                spec = "".join(v.value for v in node.format_spec.values if isinstance(v, ast.Constant))
                if NUMBER_SPEC.match(spec):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {{…:{spec}}}")
    assert not offenders, f"numbers are formatted by driftdesk.format.format_value: {offenders}"


def test_no_html_from_the_app():
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted(APP.rglob("*.py"))
                 for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if "unsafe_allow_html" in text or "st.html(" in text]
    assert not offenders, f"values from data are never rendered as HTML: {offenders}"


def test_every_cache_is_in_the_loaders():
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted(APP.rglob("*.py"))
                 if path != APP / "ui" / "loaders.py"
                 for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"st\.cache_(data|resource)", text)]
    assert not offenders, f"cached calls live in app/ui/loaders.py: {offenders}"


def test_every_table_goes_through_the_one_table_renderer():
    """st.dataframe draws a missing cell as "None" unless told its placeholder: ui.render.text.table tells it."""
    offenders = [f"{path.relative_to(ROOT)}:{n}" for path in sorted(APP.rglob("*.py"))
                 if path != APP / "ui" / "render" / "text.py"
                 for n, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                 if re.search(r"st\.(dataframe|data_editor|table)\(", text)]
    assert not offenders, f"tables are drawn by ui.render.text.table: {offenders}"
