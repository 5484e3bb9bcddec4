"""One direction of dependency: app -> library, never back; heavy imports stay in the one module that needs them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "lib" / "driftdesk"

# who may import what (paths relative to lib/driftdesk)
ALLOWED = {
    "mlflow": lambda rel: rel == "tracking.py",
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
        "light = sorted(m for m in ('streamlit', 'plotly', 'mlflow') if m in sys.modules)\n"
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
