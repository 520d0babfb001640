import torch

from skdeepcluster.data import TensorBatchLoader


def test_each_epoch_is_a_permutation_and_reproducible():
    data = torch.arange(50.0)[:, None]
    a = TensorBatchLoader(data, 8, generator=torch.Generator().manual_seed(3))
    b = TensorBatchLoader(data, 8, generator=torch.Generator().manual_seed(3))
    ia = torch.cat([i for i, _ in a])
    ib = torch.cat([i for i, _ in b])
    assert torch.equal(ia, ib)
    assert sorted(ia.tolist()) == list(range(50))
    for idx, x in a:
        assert torch.equal(x[:, 0], idx.float())


def test_drop_last_and_batch_larger_than_data():
    data = torch.zeros(10, 2)
    assert len(TensorBatchLoader(data, 4, drop_last=True)) == 2
    assert len(TensorBatchLoader(data, 4)) == 3
    loader = TensorBatchLoader(data, 100, drop_last=True)
    assert len(loader) == 1 and len(next(iter(loader))[0]) == 10
