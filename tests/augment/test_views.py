import torch

from skdeepcluster.augment import (
    Identity,
    NeighborSwap,
    RandomAffine,
    RandomResizedCrop,
    RandomShift,
    default_self_labeling_views,
    neighbor_image_views,
)


def test_neighbor_image_views_walk_then_warp():
    g = torch.Generator().manual_seed(0)
    X = torch.rand(40, 1, 8, 8, generator=g)
    views = neighbor_image_views(cluster_size=200).fit(X)
    walk, warp = views.view1.transforms
    assert walk.max_hops == 4 and walk.neighbors_.shape == (40, 5)
    assert isinstance(warp, RandomAffine) and warp.degrees == 15.0 and warp.shear == 10.0
    custom = RandomAffine(degrees=5.0)
    assert neighbor_image_views(affine=custom).view1.transforms[1] is custom
    assert neighbor_image_views(cluster_size=20).view1.transforms[0].max_hops == 1
    a, b = views(X[:6], torch.arange(6), g)
    assert a.shape == b.shape == (6, 1, 8, 8) and not torch.equal(a, b)
    # before the warp, a view lies between the image and the walk's end
    assert walk.mix_low == 0.0
    v = walk(X[:6], torch.arange(6), g)
    assert not torch.equal(v, X[:6]) and float(v.min()) >= 0 and float(v.max()) <= 1


def test_default_self_labeling_views_by_kind():
    grey_tiny = default_self_labeling_views((1, 8, 8))
    assert isinstance(grey_tiny.view1, Identity)
    assert isinstance(grey_tiny.view2, RandomResizedCrop)
    grey = default_self_labeling_views((1, 28, 28))
    assert isinstance(grey.view1, RandomShift) and grey.view1.max_shift == 1 / 16
    colour = default_self_labeling_views((3, 32, 32))
    assert [type(t).__name__ for t in colour.view1.transforms] == [
        "RandomShift",
        "RandomHorizontalFlip",
    ]
    assert "RandomErasing" in [type(t).__name__ for t in colour.view2.transforms]
    vectors = default_self_labeling_views((5,)).fit(torch.randn(30, 5))
    assert isinstance(vectors.view1, Identity) and isinstance(vectors.view2, NeighborSwap)
    x = torch.randn(4, 5)
    weak, strong = vectors(x, torch.arange(4), torch.Generator().manual_seed(0))
    assert torch.equal(weak, x) and strong.shape == (4, 5)
