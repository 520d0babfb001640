import numpy as np
import pytest
import torch
from PIL import Image

from skdeepcluster.data import (
    ImageFolder,
    InMemoryData,
    StreamedData,
    TensorBatchLoader,
    as_training_data,
    data_placement,
    place_training_tensor,
)


@pytest.fixture(scope="module")
def images_on_disk(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (11, 5, 4), dtype=np.uint8)
    for i, p in enumerate(pixels):
        Image.fromarray(p).save(root / f"{i:02d}.png")
    return root, torch.from_numpy(pixels).float()[:, None] / 255


def _epochs(loader, n=2):
    return [[(i.clone(), x.clone()) for i, x in loader] for _ in range(n)]


@pytest.mark.parametrize("workers", [0, 1])
def test_streamed_matches_in_memory_batch_for_batch(images_on_disk, workers):
    root, tensor = images_on_disk
    streamed = StreamedData(ImageFolder(root, num_workers=workers))
    memory = InMemoryData(tensor, is_image=True)
    assert streamed.shape == memory.shape == (11, 1, 5, 4)
    a = _epochs(streamed.loader(4, generator=torch.Generator().manual_seed(1), drop_last=True))
    b = _epochs(memory.loader(4, generator=torch.Generator().manual_seed(1), drop_last=True))
    assert len(a[0]) == 2
    for epoch_a, epoch_b in zip(a, b, strict=True):
        for (ia, xa), (ib, xb) in zip(epoch_a, epoch_b, strict=True):
            assert torch.equal(ia, ib) and torch.allclose(xa, xb)
    assert not torch.equal(a[0][0][0], a[1][0][0])  # reshuffled each epoch


def test_take_map_and_example(images_on_disk):
    root, tensor = images_on_disk
    for data in (StreamedData(ImageFolder(root, num_workers=0)), InMemoryData(tensor, True)):
        idx = torch.tensor([7, 2, 9])
        assert torch.allclose(data.take(idx), tensor[idx])
        assert torch.allclose(data.example(), tensor[:2])
        sums = data.map(lambda x: x.sum(dim=(1, 2, 3)), 4, indices=idx)
        assert torch.allclose(sums, tensor[idx].sum(dim=(1, 2, 3)))
        assert torch.allclose(data.map(lambda x: x, 3), tensor)


def test_in_memory_loader_is_the_tensor_loader():
    data = InMemoryData(torch.arange(10.0)[:, None])
    assert isinstance(data.loader(3), TensorBatchLoader) and data.is_vector and len(data) == 10
    assert data.tensor is not None


def test_as_training_data():
    assert as_training_data(torch.zeros(3, 2)).is_vector
    assert as_training_data(torch.zeros(3, 1, 2, 2)).is_image
    data = InMemoryData(torch.zeros(3, 2))
    assert as_training_data(data) is data
    with pytest.raises(TypeError):
        as_training_data(np.zeros((3, 2)))


def test_loader_delivers_batches_on_its_device_from_data_elsewhere():
    data = torch.arange(20.0).reshape(10, 2)
    g = [torch.Generator().manual_seed(3) for _ in range(2)]
    here = list(TensorBatchLoader(data, 4, generator=g[0]))
    moved = TensorBatchLoader(data, 4, generator=g[1], device="cpu")
    assert moved.shard(0, 2).device == torch.device("cpu")
    for (i, x), (j, y) in zip(here, moved, strict=True):
        assert torch.equal(i, j) and torch.equal(x, y) and y.device.type == "cpu"


def test_placement_auto_keeps_data_on_the_cpu_device_and_on_a_gpu_while_it_fits(monkeypatch):
    import skdeepcluster.data._training_data as training_data

    x = torch.zeros(100, 10)  # 4,000 bytes
    assert data_placement(x, torch.device("cpu")) == "device"
    monkeypatch.setattr(training_data, "_free_device_memory", lambda device: 8_000)
    assert data_placement(x, torch.device("cuda")) == "device"
    monkeypatch.setattr(training_data, "_free_device_memory", lambda device: 7_999)
    assert data_placement(x, torch.device("cuda")) == "host"
    assert data_placement(x, torch.device("cuda"), "device") == "device"
    assert data_placement(x, torch.device("cpu"), "host") == "host"


def test_place_training_tensor_reads_the_setting():
    from skdeepcluster import config_context

    x = torch.arange(6.0).reshape(3, 2)
    with config_context(data_placement="host"):
        data = place_training_tensor(x, torch.device("cpu"))
    assert data.tensor is x and data.device == torch.device("cpu")
    batches = [b for _, b in data.loader(2, shuffle=False)]
    assert torch.equal(torch.cat(batches), x)
