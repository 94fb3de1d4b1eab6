"""Every module imports (catches a broken import in code no other test reaches)."""

import importlib
import pkgutil

import pytest

import oorl

MODULES = sorted(m.name for m in pkgutil.walk_packages(oorl.__path__, "oorl."))


@pytest.mark.parametrize("name", MODULES)
def test_module_imports(name):
    importlib.import_module(name)


def test_cli_starts_without_torch():
    """`oorl --help` and the sandbox commands stay fast: heavy libraries load inside the commands."""
    import subprocess
    import sys

    code = "import sys, oorl.cli; print(sorted({'torch', 'transformers', 'datasets'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
