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


def test_vllm_stop_rule_continues_past_an_opening_fence_only():
    """vLLM stops at the first line-initial fence; only a block that has just *opened* goes on."""
    from oorl.rollout.vllm import stops_on_opening_fence

    assert stops_on_opening_fence("Here it is:\n```")  # an untagged opening fence
    assert stops_on_opening_fence("```")  # the answer starts with its opening fence
    assert not stops_on_opening_fence("```python\nprint(1)\n```")  # closed: done
    assert not stops_on_opening_fence("no code, ended on the end-of-turn token")
