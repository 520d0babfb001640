import pytest
import torch

from skdeepcluster._training import _amp, full_precision, resolve_amp, run_training


@pytest.mark.parametrize("native", [True, False])
def test_auto_on_cpu_follows_native_bf16(monkeypatch, native):
    monkeypatch.setattr(_amp, "cpu_has_native_bf16", lambda: native)
    assert resolve_amp("auto", "cpu") == (torch.bfloat16 if native else None)
    # an explicit request is honoured either way
    assert resolve_amp("bf16", "cpu") == torch.bfloat16


def test_native_bf16_probe_reads_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: False, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: False, raising=False)
    assert _amp.cpu_has_native_bf16() is False
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: True, raising=False)
    assert _amp.cpu_has_native_bf16() is True


def test_resolve_amp_on_cpu():
    assert resolve_amp("auto", torch.device("cpu"), prefer=False) is None
    assert resolve_amp("bf16", "cpu", prefer=False) == torch.bfloat16
    assert resolve_amp(None, "cpu") is None
    with pytest.raises(ValueError, match="amp='fp16' needs a CUDA device"):
        resolve_amp("fp16", "cpu")
    with pytest.raises(ValueError, match="amp must be"):
        resolve_amp("float16", "cpu")


def test_auto_is_float32_on_other_devices():
    assert resolve_amp("auto", "meta") is None


def test_full_precision_switches_autocast_off():
    a = torch.randn(4, 4)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert (a @ a).dtype == torch.bfloat16
        with full_precision(a.device):
            assert (a @ a).dtype == torch.float32
        assert (a @ a).dtype == torch.bfloat16


class _Linear:
    def __init__(self):
        self.model = torch.nn.Linear(3, 1)
        self.dtypes = []

    def on_epoch_start(self, epoch):
        pass

    def training_step(self, index, x, epoch):
        out = self.model(x)
        self.dtypes.append(out.dtype)
        loss = (out.float() - 1).pow(2).mean()
        return loss, {"loss": float(loss.detach())}

    def after_optimizer_step(self, epoch):
        pass

    def on_epoch_end(self, epoch):
        return {}


def test_run_training_autocasts_the_step_in_bf16():
    task = _Linear()
    opt = torch.optim.SGD(task.model.parameters(), lr=0.1)
    data = [(torch.arange(4), torch.randn(4, 3))] * 3
    history = run_training(task, data, range(2), opt, amp_dtype=torch.bfloat16)
    assert set(task.dtypes) == {torch.bfloat16}
    assert all(torch.isfinite(torch.tensor(h["loss"])) for h in history)
    assert task.model.weight.dtype == torch.float32
