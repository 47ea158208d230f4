"""The walk-through of docs/python.md, run as written (from the repository root), so that the
guide stays true. Blocks marked `doctest: +SKIP` are left out (they take minutes)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_the_walkthrough_runs(monkeypatch, capsys):
    if os.environ.get("RURALGOV_REQUIRE_CLI") != "1":
        pytest.importorskip("matplotlib")
    text = (ROOT / "docs" / "python.md").read_text()
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if "doctest: +SKIP" not in b]
    assert len(blocks) >= 3
    monkeypatch.chdir(ROOT)
    (ROOT / "target").mkdir(exist_ok=True)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "docs/python.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "[('paths.legal.intensity', '0.0', '1.0')]" in out
    assert (ROOT / "target" / "python-walkthrough.png").stat().st_size > 10_000
    # The legal path raises the index in every paired replication (docs/validation.md).
    assert (namespace["effects"]["legal"] > 0).all()
