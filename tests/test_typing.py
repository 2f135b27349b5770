"""The stubs, checked both ways (issue item 5): tests/typing/usage.py, whose annotations
`make typecheck` checks with mypy --strict and pyright, really runs and gives what it says; and
both checkers reject each wrong assignment of tests/typing/bad_usage.py, and nothing else. The
executor classes of the stub declare the public methods of the implementation's, and no other."""

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import parallel

TYPING = Path(__file__).parent / "typing"
BAD = TYPING / "bad_usage.py"
sys.path.insert(0, str(TYPING))

import usage  # noqa: E402  (tests/typing/usage.py)


def test_typed_usage_runs():
    usage.main()


def test_typed_usage_decorate_ex_keyword():
    usage.decorated_with_ex()


def marked_lines():
    lines = BAD.read_text().splitlines()
    marked = {n for n, line in enumerate(lines, 1) if line.endswith("# rejected")}
    assert len(marked) >= 20, marked
    return marked


def mypy_error_lines():
    out = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(TYPING / "mypy.ini"), str(BAD)],
        capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 1, out.stdout + out.stderr  # 1: type errors found (2 would be a crash)
    return {int(m[1]) for m in re.finditer(r"^[^:\n]*bad_usage\.py:(\d+): error:", out.stdout, re.M)}, out.stdout


def pyright_error_lines():
    pyright = Path(sys.executable).with_name("pyright")
    out = subprocess.run(
        [str(pyright), "--outputjson", "-p", str(TYPING / "pyrightconfig.json"), "--pythonpath", sys.executable, str(BAD)],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYRIGHT_PYTHON_GLOBAL_NODE": "0", "PYRIGHT_PYTHON_IGNORE_WARNINGS": "1"},  # as in the Makefile
    )
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert all(d["file"].endswith("bad_usage.py") for d in errors), errors
    return {d["range"]["start"]["line"] + 1 for d in errors}, out.stdout


@pytest.mark.parametrize("checker", [mypy_error_lines, pyright_error_lines], ids=["mypy", "pyright"])
def test_checkers_reject_each_wrong_use(checker):
    reported, output = checker()
    marked = marked_lines()
    assert sorted(marked - reported) == [], f"wrong uses the checker accepted:\n{output}"
    assert sorted(reported - marked) == [], f"errors on lines not marked `# rejected`:\n{output}"


def stub_methods(name):
    """The public methods the stub declares on its class `name`."""
    stub = ast.parse((Path(parallel.__file__).parent / "__init__.pyi").read_text())
    (cls,) = [node for node in stub.body if isinstance(node, ast.ClassDef) and node.name == name]
    return {node.name for node in cls.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")}


@pytest.mark.parametrize("name", ["_Executor", "_BoundExecutor", "ParallelCallable"])
def test_the_stub_declares_the_public_methods_of_each_executor_class_and_no_other(name):
    cls = getattr(parallel, name)
    implemented = {n for n in dir(cls) if not n.startswith("_") and callable(getattr(cls, n))}
    assert stub_methods(name) == implemented
