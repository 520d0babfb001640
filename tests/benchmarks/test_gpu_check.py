"""benchmarks/gpu_check.py: its CPU form on tiny settings, and its verdict."""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "gpu_check.py"
ESTIMATORS = ["SeCuClustering", "HardRegClustering", "PIPCDRClustering", "EntropyClustering"]
#: Every row of the CPU form, and the status it must have.
EXPECTED = {
    "environment": "pass",
    **{f"fit + resume: {e}, amp={a}": "pass" for a in ("None", "auto", "bf16") for e in ESTIMATORS},
    **{f"fit + resume: {e}, amp=fp16": "skip" for e in ESTIMATORS},
    **{
        f"pickle to a CPU process: {e}, amp={a}": "pass"
        for a in ("None", "auto", "bf16")
        for e in ESTIMATORS
    },
    "torchrun --nproc_per_node=1 (gloo)": "pass",
    "torchrun: every collective on gloo at world size 1": "pass",
    "training step: SeCu on MNIST images, batch 256": "pass",
    "training step: CUDA speed-up over the CPU": "skip",
    "data_placement='host': SeCu labels as with the data on the device": "pass",
    "MNIST vectors (256 x 784): SeCu, MLP": "pass",
    "MNIST images (256): SeCu, small CNN": "pass",
    "pickle to a CPU process: MNIST vectors SeCu": "pass",
    "pickle to a CPU process: MNIST images SeCu": "pass",
}


@pytest.fixture
def gpu_check(monkeypatch):
    """The script as a module (registered, as its dataclasses need)."""
    spec = importlib.util.spec_from_file_location("gpu_check", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "gpu_check", module)
    spec.loader.exec_module(module)
    return module


def test_the_tiny_cpu_form_passes_every_check(tmp_path):
    out = tmp_path / "result.json"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    cmd = [sys.executable, str(SCRIPT), "--tiny", "--device", "cpu", "--threads", "1"]
    cmd += ["--out", str(out), "--workdir", str(tmp_path / "work")]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    lines = [line for line in proc.stdout.splitlines() if line.startswith("|")]
    assert lines[:2] == ["| check | device | result | status |", "|---|---|---|---|"]
    rows = [line[2:-2].split(" | ") for line in lines[2:]]
    assert {r[0]: r[3] for r in rows} == EXPECTED
    assert len(rows) == len(EXPECTED) and {r[1] for r in rows} == {"cpu"}
    saved = json.loads(out.read_text())
    assert saved["passed"] and saved["device"] == "cpu"
    assert [r["check"] for r in saved["rows"]] == [r[0] for r in rows]
    assert "all checks passed" in proc.stdout


def test_a_failed_check_fails_the_run(gpu_check, monkeypatch, tmp_path, capsys):
    def broken(report, *args):
        report.add("fit + resume: broken", "cpu", "labels differ", ok=False)
        return []

    monkeypatch.setattr(gpu_check, "check_resume", broken)
    for name in ("check_torchrun", "check_steps", "check_pickles"):
        monkeypatch.setattr(gpu_check, name, lambda *args: None)
    monkeypatch.setattr(gpu_check, "check_mnist_vectors", lambda *args: None)
    monkeypatch.setattr(gpu_check, "check_mnist_images", lambda *args: None)
    out = tmp_path / "table.md"
    assert gpu_check.main(["--tiny", "--device", "cpu", "--out", str(out)]) == 1
    printed = capsys.readouterr().out
    assert "| fit + resume: broken | cpu | labels differ | FAIL |" in printed
    assert "FAILED" in printed and "| FAIL |" in out.read_text()


def test_gpu_predictions_may_differ_from_the_cpu_only_on_near_ties(gpu_check):
    here = np.array([0, 1, 1, 2])
    proba = np.array([[0.9, 0.05, 0.05], [0.1, 0.85, 0.05], [0.1, 0.46, 0.44], [0, 0.1, 0.9]])
    cpu = proba.argmax(1)  # differs from ``here`` on sample 0 (clear) or 2 (a near-tie)
    near_tie = np.array([0, 1, 2, 2])
    cuda, cpu_device = torch.device("cuda"), torch.device("cpu")
    assert gpu_check._compare_predictions(near_tie, here, near_tie, proba, cuda)[1]
    assert not gpu_check._compare_predictions(near_tie, here, near_tie, proba, cpu_device)[1]
    clear = np.array([2, 1, 1, 2])
    assert not gpu_check._compare_predictions(clear, here, clear, proba, cuda)[1]
    # the fresh process must match the same pickle loaded here exactly
    assert not gpu_check._compare_predictions(cpu, here, near_tie, proba, cuda)[1]
