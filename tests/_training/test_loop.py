import pytest
import torch

from skdeepcluster._training import Hook, ParamGroup, build_optimizer, run_training
from skdeepcluster.data import TensorBatchLoader


class _Regression:
    """Least squares on a fixed linear target: the loop must drive the loss down."""

    def __init__(self):
        self.model = torch.nn.Linear(3, 1)
        self.ends = []

    def on_epoch_start(self, epoch):
        pass

    def training_step(self, index, x, epoch):
        target = x @ torch.tensor([[1.0], [-2.0], [0.5]])
        loss = ((self.model(x) - target) ** 2).mean()
        return loss, {"loss": loss.item()}

    def after_optimizer_step(self, epoch):
        pass

    def on_epoch_end(self, epoch):
        self.ends.append(epoch)
        return {"extra": epoch * 10}


class _Recorder(Hook):
    def __init__(self):
        self.calls = []

    def on_fit_start(self, n_epochs, n_batches):
        self.calls.append(("start", n_epochs, n_batches))

    def on_epoch_end(self, record):
        self.calls.append(("epoch", record["epoch"]))

    def on_fit_end(self):
        self.calls.append(("end",))


def test_loop_trains_records_history_and_calls_hooks():
    g = torch.Generator().manual_seed(0)
    data = torch.randn(64, 3, generator=g)
    loader = TensorBatchLoader(data, 16, generator=g)
    task = _Regression()
    opt, sched = build_optimizer(
        [ParamGroup(list(task.model.parameters()), lr=0.1, schedule="constant")], 20 * 4
    )
    rec = _Recorder()
    history = run_training(task, loader, range(20), opt, sched, hooks=[rec])
    assert [h["epoch"] for h in history] == list(range(20))
    assert history[-1]["loss"] < 0.01 * history[0]["loss"]
    assert history[3]["extra"] == 30
    assert rec.calls[0] == ("start", 20, 4)
    assert rec.calls[-1] == ("end",)


def test_param_groups_have_their_own_schedules():
    a = torch.nn.Parameter(torch.zeros(1))
    b = torch.nn.Parameter(torch.zeros(1))
    opt, sched = build_optimizer(
        [
            ParamGroup([a], lr=1.0, schedule="cosine", warmup_steps=2, start_step=3, name="enc"),
            ParamGroup([b], lr=0.5, schedule="constant", name="centers"),
        ],
        total_steps=13,
    )
    lrs = []
    for _ in range(13):
        lrs.append([g["lr"] for g in opt.param_groups])
        opt.step()
        sched.step()
    assert [x[0] for x in lrs[:3]] == [0.0, 0.0, 0.0]  # frozen before start_step
    assert lrs[3][0] == pytest.approx(0.5) and lrs[4][0] == pytest.approx(1.0)
    assert all(x[1] == 0.5 for x in lrs)
    assert lrs[-1][0] < 0.1


def test_unknown_schedule_rejected():
    with pytest.raises(ValueError, match="schedule"):
        build_optimizer([ParamGroup([torch.nn.Parameter(torch.zeros(1))], 1.0, schedule="x")], 5)
