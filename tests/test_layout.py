"""The test tree stays collectable: pytest's default import mode needs unique basenames."""

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def test_test_module_names_are_unique() -> None:
    names = Counter(p.name for p in TESTS.rglob("test_*.py"))
    clashes = sorted(name for name, n in names.items() if n > 1)
    assert clashes == [], f"rename these so pytest can collect both: {clashes}"
