"""The code stays Python 3.10 code (ROS 2 Humble's Python) while development runs 3.11: every file parses under a 3.10
interpreter, and every standard-library name it imports exists there (``tomllib``, ``typing.Self`` would not)."""

from __future__ import annotations

import ast
import glob
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(p for d in ("fpo_core", "fpo_ros", "sim", "launch", "bench", "tests", "scripts")
                 for p in (ROOT / d).rglob("*.py")) + [ROOT / "setup.py"]
CHECK = """
import ast, importlib, json, sys
problems = []
for path in sys.argv[1:]:
    try:
        ast.parse(open(path, encoding="utf-8").read(), path)
    except SyntaxError as e:
        problems.append(f"{path}:{e.lineno}: {e.msg}")
for module, name, where in json.load(sys.stdin):
    try:
        found = importlib.import_module(module)
    except ImportError:
        problems.append(f"{where}: no module {module}")
        continue
    if name and not hasattr(found, name):
        try:
            importlib.import_module(f"{module}.{name}")
        except ImportError:
            problems.append(f"{where}: {module} has no {name}")
print("\\n".join(problems))
"""


def _python310() -> str | None:
    """A working Python 3.10: on PATH (pyenv's shim may refuse), or one pyenv installed."""
    for candidate in [shutil.which("python3.10"), *sorted(glob.glob(str(Path.home() / ".pyenv/versions/3.10*/bin/python3.10")))]:
        if candidate and subprocess.run([candidate, "-c", "import sys; sys.exit(sys.version_info[:2] != (3, 10))"],
                                        capture_output=True).returncode == 0:
            return candidate
    return None


def _stdlib_imports() -> list[tuple[str, str, str]]:
    """``(module, name or "", "file:line")`` for each standard-library import in the project's code."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                found += [(a.name, "", where) for a in node.names if a.name.split(".")[0] in sys.stdlib_module_names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                    and node.module.split(".")[0] in sys.stdlib_module_names and node.module != "__future__":
                found += [(node.module, a.name, where) for a in node.names]
    return found


def test_the_code_parses_and_its_standard_library_imports_exist_on_python_310():
    python = _python310()
    if python is None:
        pytest.skip("needs a Python 3.10 interpreter (python3.10 on PATH, or pyenv's) to check the code against it")
    imports = _stdlib_imports()
    assert any(m == "typing" for m, _, _ in imports), "no standard-library import found: the scan is broken"
    r = subprocess.run([python, "-c", CHECK, *(str(p.relative_to(ROOT)) for p in SOURCES)], input=json.dumps(imports),
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "", f"not Python 3.10 (ROS 2 Humble):\n{r.stdout}"
