"""The test suite's own conventions, checked over every test module so they stay true."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


Function = ast.FunctionDef | ast.AsyncFunctionDef


def collected(tree: ast.Module) -> list[Function]:
    """The functions pytest collects: `test*` at module level and in `Test*` classes."""
    found = []
    for node in tree.body:
        in_class = isinstance(node, ast.ClassDef) and node.name.startswith("Test")
        for item in node.body if in_class else [node]:  # type: ignore[attr-defined]
            if isinstance(item, Function) and item.name.startswith("test"):
                found.append(item)
    return found


def undocumented() -> list[str]:
    """`path:line name` of every test without a docstring of exactly one line."""
    missing = []
    for path in sorted(TESTS.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for function in collected(tree):
            doc = ast.get_docstring(function)
            if not doc or "\n" in doc:
                missing.append(f"{path.relative_to(TESTS)}:{function.lineno} {function.name}")
    return missing


def test_every_test_states_its_behaviour_in_a_one_line_docstring() -> None:
    """Each test function opens with one line saying what behaviour it checks."""
    assert undocumented() == []


def test_the_docstring_check_sees_tests_in_modules_and_classes() -> None:
    """The walk finds module-level and class-level tests, async or not, and nothing else."""
    source = '''
def test_plain():
    """One line."""
async def test_async():
    pass
def helper():
    pass
class TestGroup:
    def test_method(self):
        """Two
        lines."""
class Helper:
    def test_not_collected(self):
        pass
'''
    names = [f.name for f in collected(ast.parse(source))]
    assert names == ["test_plain", "test_async", "test_method"]
