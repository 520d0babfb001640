"""Training under torch.distributed: sharding, and two CPU ranks (gloo) agreeing."""

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from skdeepcluster._training._distributed import (
    DistributedContext,
    current_context,
    first_occurrences,
    local_cuda_index,
)
from skdeepcluster._training._session import FitSession
from skdeepcluster.data import (
    ImageFolder,
    InMemoryData,
    ShardedBatchSampler,
    StreamedData,
    TensorBatchLoader,
    shard_index,
)
from skdeepcluster.metrics import clustering_accuracy

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("distributed_worker.py")


def _worker_module():
    spec = importlib.util.spec_from_file_location("distributed_worker", WORKER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ------------------------------------------------------------------ sharding
@pytest.mark.parametrize("n", [1, 2, 5, 8])
@pytest.mark.parametrize("world", [1, 2, 3])
def test_shards_cover_the_batch_with_equal_sizes(n, world):
    idx = torch.randperm(n) + 10
    parts = [shard_index(idx, r, world) for r in range(world)]
    assert len({len(p) for p in parts}) == 1
    assert set(torch.cat(parts).tolist()) == set(idx.tolist())
    assert sum(len(p) for p in parts) - n < world  # padding below one per rank


def test_sharded_tensor_loaders_split_the_same_batches():
    data = torch.arange(23.0)[:, None]
    full = TensorBatchLoader(data, 8, generator=torch.Generator().manual_seed(3))
    ranks = [
        TensorBatchLoader(data, 8, generator=torch.Generator().manual_seed(3)).shard(r, 2)
        for r in range(2)
    ]
    for _ in range(2):  # two epochs: the ranks keep drawing the same orders
        batches = list(full)
        parts = [list(loader) for loader in ranks]
        assert len(parts[0]) == len(parts[1]) == len(batches) == len(ranks[0])
        for (idx, _), (i0, x0), (i1, _) in zip(batches, *parts, strict=True):
            assert set(torch.cat([i0, i1]).tolist()) == set(idx.tolist())
            assert torch.equal(x0[:, 0], i0.float()) and len(i0) == len(i1)


def test_sharded_folder_loader_splits_the_same_batches(tmp_path):
    for i in range(7):
        Image.new("L", (2, 2), color=i).save(tmp_path / f"{i}.png")
    data = StreamedData(ImageFolder(tmp_path, num_workers=0))
    full = [i.tolist() for i, _ in data.loader(3, generator=torch.Generator().manual_seed(0))]
    shards = [
        data.loader(3, generator=torch.Generator().manual_seed(0)).shard(r, 2) for r in range(2)
    ]
    parts = [[(i.tolist(), x) for i, x in loader] for loader in shards]
    for batch, (i0, x0), (i1, _) in zip(full, *parts, strict=True):
        assert set(i0 + i1) == set(batch) and len(i0) == len(i1)
        assert torch.allclose(x0[:, 0, 0, 0] * 255, torch.tensor(i0, dtype=torch.float))


def test_sharded_batch_sampler_and_first_occurrences():
    batches = torch.utils.data.BatchSampler(range(5), 4, drop_last=False)
    assert list(ShardedBatchSampler(batches, 1, 2)) == [[1, 3], [4]]
    assert first_occurrences(torch.tensor([3, 3, 1, 3, 1])).tolist() == [2, 0]


def test_a_plain_process_has_no_context():
    assert current_context() is None
    assert InMemoryData(torch.zeros(3, 2)).loader(2).shard(0, 1).world_size == 1


@pytest.mark.parametrize(
    "local_rank, visible, index",
    [(None, 4, 2), ("1", 4, 1), ("3", 1, 0), ("0", 1, 0)],
)
def test_cuda_is_the_local_rank_among_the_visible_devices(monkeypatch, local_rank, visible, index):
    # ("3", 1): a launcher that shows each process its own GPU, which is then cuda:0
    monkeypatch.setattr(torch.cuda, "device_count", lambda: visible)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: min(2, visible - 1))
    if local_rank is None:
        monkeypatch.delenv("LOCAL_RANK", raising=False)
    else:
        monkeypatch.setenv("LOCAL_RANK", local_rank)
    context = DistributedContext.__new__(DistributedContext)  # no process group needed
    context.backend, context.comm_device = "gloo", torch.device("cpu")
    assert context.training_device(torch.device("cuda")) == torch.device("cuda", index)
    assert context.training_device(torch.device("cuda", 5)) == torch.device("cuda", 5)
    assert context.training_device(torch.device("cpu")) == torch.device("cpu")


def test_a_local_rank_beyond_several_visible_devices_is_refused(monkeypatch):
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setenv("LOCAL_RANK", "3")
    with pytest.raises(ValueError, match="LOCAL_RANK=3 but this process sees 2 CUDA devices"):
        local_cuda_index()


class _FakeContext:
    rank, world_size, is_main = 0, 2, True


def test_a_task_without_distributed_support_is_refused():
    module = torch.nn.Linear(2, 1)
    session = FitSession(module, torch.Generator(), "cpu", {}, context=_FakeContext())

    class Task:
        pass

    with pytest.raises(ValueError, match="does not support training under torch.distributed"):
        session.run(Task(), [], range(1), torch.optim.SGD(module.parameters(), lr=0.1))


def test_solvers_are_free_of_torch_distributed():
    for path in (ROOT / "skdeepcluster" / "assignment").glob("*.py"):
        assert "distributed" not in path.read_text(), path.name


# ------------------------------------------------------------- two processes
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(extra: dict) -> dict:
    env = dict(os.environ)
    path = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(OMP_NUM_THREADS="1", PYTHONPATH=path)
    if sys.platform.startswith("linux"):
        env["GLOO_SOCKET_IFNAME"] = "lo"  # stay on the loopback interface
    env.update({k: str(v) for k, v in extra.items()})
    return env


def _launch_ranks(out: Path, world: int = 2) -> None:
    """Start ``world`` ranks with the environment torchrun gives them (rank, world size,
    master address and port) and wait for them."""
    port = _free_port()
    procs = []
    for rank in range(world):
        env = _env(
            dict(
                RANK=rank,
                LOCAL_RANK=rank,
                WORLD_SIZE=world,
                LOCAL_WORLD_SIZE=world,
                MASTER_ADDR="127.0.0.1",
                MASTER_PORT=port,
            )
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, str(WORKER), str(out)],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
        )
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=240)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, log in zip(procs, logs, strict=True):
        assert p.returncode == 0, log[-4000:]


def _check_ranks_agree_and_match_one_process(out: Path) -> None:
    ranks = [np.load(out / f"rank{r}.npz") for r in range(2)]
    worker = _worker_module()
    for name, est, data in worker.estimators(folder=out / "pngs"):
        X, y = data()
        assert np.array_equal(ranks[0][name], ranks[1][name]), name
        assert np.array_equal(ranks[0][name + "_params"], ranks[1][name + "_params"]), name
        assert ranks[0][name].shape == (len(X),)
        if name == "secu":  # quality as in one process (ACC varies ~0.15 between seeds)
            single = clustering_accuracy(y, est.fit(X).labels_)
            distributed = clustering_accuracy(y, ranks[0][name])
            assert distributed > 0.65 and single > 0.65
            assert abs(distributed - single) < 0.15
    saved = torch.load(out / "checkpoint" / "checkpoint.pt", weights_only=True)
    assert saved["signature"]["world_size"] == 2 and saved["n_done"] == saved["n_epochs"]


def test_two_cpu_ranks_agree_and_match_a_single_process(tmp_path):
    torch.set_num_threads(1)
    _worker_module().write_digit_folder(tmp_path / "pngs")
    _launch_ranks(tmp_path)
    _check_ranks_agree_and_match_one_process(tmp_path)


def _torchrun(out: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node=2",
        "--nnodes=1",
        "--master_addr=127.0.0.1",
        f"--master_port={_free_port()}",
        str(WORKER),
        str(out),
    ]
    proc = subprocess.run(cmd, env=_env({}), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_under_torchrun_and_resumed_from_the_checkpoint(tmp_path):
    _worker_module().write_digit_folder(tmp_path / "pngs")
    _torchrun(tmp_path)
    _check_ranks_agree_and_match_one_process(tmp_path)
    first = np.load(tmp_path / "rank1.npz")["secu"]
    stamp = (tmp_path / "checkpoint" / "checkpoint.pt").stat().st_mtime_ns
    _torchrun(tmp_path)  # the same job again: SeCu resumes its finished checkpoint
    assert (tmp_path / "checkpoint" / "checkpoint.pt").stat().st_mtime_ns == stamp
    for r in range(2):
        assert np.array_equal(np.load(tmp_path / f"rank{r}.npz")["secu"], first)
