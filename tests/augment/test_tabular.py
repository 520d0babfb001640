import pytest
import torch

from skdeepcluster.augment import (
    Compose,
    FeatureMask,
    GaussianNoise,
    MultiView,
    NeighborSwap,
    nearest_neighbors,
)


def test_nearest_neighbors_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(37, 4, generator=g)
    d = torch.cdist(X, X)
    d.fill_diagonal_(float("inf"))
    expected = d.topk(3, largest=False).indices
    got = nearest_neighbors(X, 3, chunk_size=8)
    assert torch.equal(torch.sort(got, 1).values, torch.sort(expected, 1).values)


def test_neighbor_swap_draws_only_neighbours():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(30, 2, generator=g)
    t = NeighborSwap(n_neighbors=4).fit(X)
    idx = torch.arange(30)
    out = t(X, idx, g)
    for i in range(30):
        match = (X[t.neighbors_[i]] == out[i]).all(dim=1)
        assert match.any()


def test_neighbor_swap_interpolates_and_requires_fit():
    X = torch.tensor([[0.0], [1.0]])
    t = NeighborSwap(n_neighbors=1, mix_low=0.0).fit(X)
    out = t(X, torch.arange(2), torch.Generator().manual_seed(0))
    assert 0.0 <= out[0].item() <= 1.0 and 0.0 <= out[1].item() <= 1.0
    with pytest.raises(RuntimeError, match="fitted"):
        NeighborSwap()(X, torch.arange(2))


def test_noise_scaled_by_feature_std():
    X = torch.cat([torch.randn(2000, 1) * 10, torch.randn(2000, 1) * 0.1], 1)
    t = GaussianNoise(0.5).fit(X)
    noise = t(torch.zeros(5000, 2), generator=torch.Generator().manual_seed(1))
    std = noise.std(0)
    assert 4 < std[0] < 6 and 0.04 < std[1] < 0.06


def test_feature_mask_rate_and_fill():
    X = torch.full((4000, 5), 2.0)
    t = FeatureMask(0.3).fit(torch.zeros(10, 5))
    out = t(X, generator=torch.Generator().manual_seed(0))
    rate = (out == 0).float().mean().item()
    assert 0.27 < rate < 0.33
    assert set(out.unique().tolist()) <= {0.0, 2.0}


def test_views_are_reproducible_from_the_generator():
    X = torch.randn(20, 3)
    views = MultiView(Compose([NeighborSwap(3), FeatureMask(0.2), GaussianNoise(0.1)])).fit(X)
    a = views(X, torch.arange(20), torch.Generator().manual_seed(5))
    b = views(X, torch.arange(20), torch.Generator().manual_seed(5))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], a[1])


@pytest.mark.parametrize(
    "make", [lambda: GaussianNoise(-1), lambda: FeatureMask(2), lambda: NeighborSwap(0)]
)
def test_bad_parameters(make):
    with pytest.raises(ValueError):
        make()
