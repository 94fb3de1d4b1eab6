import sys

import pytest

from oorl.rollout import make_backend


def test_unknown_backend_names_the_known_ones():
    with pytest.raises(ValueError, match="known: hf, vllm"):
        make_backend("tgi", None, None)


def test_vllm_backend_without_the_extra_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # as on a machine without the extra
    with pytest.raises(ImportError, match=r"pip install 'oorl\[vllm\]'"):
        make_backend("vllm", None, None)
