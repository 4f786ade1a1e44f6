"""The embedder runs under ONNX Runtime or torch with the same vectors; the ONNX file is
exported from the installed weights and checked against torch before it is used.

Real parts only: the installed MiniLM, torch, onnxruntime, and child processes for each
runtime (a process loads one runtime once).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import accord.graders._embed as embed_module
from accord.errors import AccordError

_LONG = "The ferry to the island leaves at noon and returns before dark each day. " * 30
TEXTS = ["Hi.", "I'm sorry, but I can't help with that.", _LONG,
         "Sure! Preheat the oven to 180 C, mix the flour and eggs, then bake for 40 minutes."]

_CHILD = """
import json, sys
import numpy as np
from accord.graders._embed import embed_pairs, embedder_runtime
texts = json.loads(sys.argv[1])
np.save(sys.argv[2], np.stack([embed_pairs(texts, 128), embed_pairs(texts, 256)]))
print(embedder_runtime())
"""


def _vectors(runtime: str, out: Path) -> tuple[str, np.ndarray]:
    env = {**os.environ, "ACCORD_EMBEDDER_RUNTIME": runtime, "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(TEXTS), str(out)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip().splitlines()[-1], np.load(out)


def test_onnx_and_torch_give_the_same_vectors(tmp_path):
    pytest.importorskip("onnxruntime")
    onnx_runtime, a = _vectors("onnx", tmp_path / "onnx.npy")
    torch_runtime, b = _vectors("torch", tmp_path / "torch.npy")
    assert (onnx_runtime, torch_runtime) == ("onnxruntime", "torch")
    assert a.shape == (2, len(TEXTS), 2, embed_module.DIM)
    np.testing.assert_allclose(a, b, atol=1e-5)
    # The long text is cut: its 128- and 256-token vectors differ; short ones do not.
    assert not np.allclose(a[0, 2], a[1, 2], atol=1e-3)
    np.testing.assert_allclose(a[0, 0], a[1, 0], atol=1e-5)


def test_the_export_is_checked_against_torch_before_it_is_kept(tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    path = embed_module.export_onnx(tmp_path / "m.onnx")
    assert path.is_file()
    note = json.loads(path.with_suffix(".json").read_text())
    assert note["weights_sha256"] == embed_module.embedder_sha256()
    assert 0 <= note["max_abs_diff"] <= embed_module._ONNX_TOLERANCE
    # An export that differs from torch at all is refused under a zero tolerance (float
    # sums in another order differ in the last bits) and leaves no file behind.
    monkeypatch.setattr(embed_module, "_ONNX_TOLERANCE", 0.0)
    with pytest.raises(AccordError, match="differs from torch"):
        embed_module.export_onnx(tmp_path / "refused.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json", "m.onnx"]


def test_an_unknown_runtime_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("ACCORD_EMBEDDER_RUNTIME", "tpu")
    with pytest.raises(AccordError, match="give one of auto, onnx, torch"):
        embed_module.runtime_choice()
    (tmp_path / "in.jsonl").write_text(json.dumps({"response": "Hi."}) + "\n")
    done = subprocess.run([sys.executable, "-m", "accord", "graders", "score", "refusal",
                           "--input", str(tmp_path / "in.jsonl")],
                          capture_output=True, text=True, env={**os.environ}, timeout=300)
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert "ACCORD_EMBEDDER_RUNTIME='tpu'" in done.stderr + done.stdout


def test_auto_falls_back_to_torch_when_the_export_cannot_be_kept(tmp_path):
    """A cache that cannot hold the export (here a file where the folder should be): the
    default runtime says why and embeds under torch, with the same vectors."""
    pytest.importorskip("onnxruntime")
    blocked = tmp_path / "cache"
    blocked.write_text("not a folder")
    env = {**os.environ, "ACCORD_EMBEDDER_RUNTIME": "auto", "ACCORD_CACHE": str(blocked),
           "OMP_NUM_THREADS": "2"}
    done = subprocess.run([sys.executable, "-c", _CHILD, json.dumps(TEXTS),
                           str(tmp_path / "auto.npy")],
                          capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "torch"
    assert "ONNX export failed" in done.stderr and "using torch" in done.stderr
    _, reference = _vectors("torch", tmp_path / "torch.npy")
    np.testing.assert_allclose(np.load(tmp_path / "auto.npy"), reference, atol=1e-6)
