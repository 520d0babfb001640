import pytest
import torch

from skdeepcluster.augment import (
    ColorJitter,
    GaussianBlur,
    KorniaTransform,
    RandomAffine,
    RandomErasing,
    RandomGrayscale,
    RandomHorizontalFlip,
    RandomResizedCrop,
    RandomShift,
    RandomSolarize,
    asymmetric_views,
    default_image_views,
    needs_data,
    weak_strong_views,
)

TRANSFORMS = [
    RandomResizedCrop((0.2, 1.0)),
    RandomShift(0.25),
    RandomHorizontalFlip(),
    ColorJitter(p=1.0),
    RandomGrayscale(0.5),
    GaussianBlur(p=0.5),
    RandomSolarize(0.5),
    RandomErasing(1.0),
    RandomAffine(),
]


def _images(channels=3, n=6, size=16):
    return torch.rand(n, channels, size, size, generator=torch.Generator().manual_seed(5))


@pytest.mark.parametrize("transform", TRANSFORMS, ids=lambda t: type(t).__name__)
@pytest.mark.parametrize("channels", [1, 3, 4])
def test_reproducible_from_generator_range_and_global_rng_untouched(transform, channels):
    x = _images(channels)
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = transform(x, generator=torch.Generator().manual_seed(1))
    b = transform(x, generator=torch.Generator().manual_seed(1))
    c = transform(x, generator=torch.Generator().manual_seed(2))
    assert torch.equal(state, torch.get_rng_state())
    assert a.shape == x.shape and a.dtype == x.dtype
    assert torch.equal(a, b)
    if not (isinstance(transform, RandomGrayscale) and channels == 1):
        assert not torch.equal(a, c)
    assert float(a.min()) >= 0 and float(a.max()) <= 1 + 1e-6


def test_views_reproducible_and_global_rng_untouched():
    x = _images()
    for views in (asymmetric_views(), weak_strong_views(), default_image_views((3, 16, 16))):
        state = torch.get_rng_state()
        a1, a2 = views(x, generator=torch.Generator().manual_seed(0))
        b1, b2 = views(x, generator=torch.Generator().manual_seed(0))
        assert torch.equal(state, torch.get_rng_state())
        assert torch.equal(a1, b1) and torch.equal(a2, b2) and not torch.equal(a1, a2)


def test_asymmetric_views_blur_and_solarise():
    views = asymmetric_views()
    kinds1 = [type(t).__name__ for t in views.view1.transforms]
    kinds2 = [type(t).__name__ for t in views.view2.transforms]
    blur1 = views.view1.transforms[kinds1.index("GaussianBlur")]
    blur2 = views.view2.transforms[kinds2.index("GaussianBlur")]
    assert blur1.p == 1.0 and blur2.p == 0.1
    assert "RandomSolarize" not in kinds1 and "RandomSolarize" in kinds2


def test_default_views_adapt_to_grey_and_small_images():
    grey = default_image_views((1, 8, 8))
    kinds = [type(t).__name__ for t in grey.view1.transforms + grey.view2.transforms]
    assert "RandomHorizontalFlip" not in kinds and "RandomSolarize" not in kinds
    blur = [t for t in grey.view1.transforms if isinstance(t, GaussianBlur)][0]
    assert blur.sigma[1] == pytest.approx(0.5)
    assert grey.view1.transforms[0].scale[0] == 0.6
    assert default_image_views((1, 28, 28)).view1.transforms[0].scale[0] == 0.3
    colour = default_image_views((3, 96, 96))
    assert colour.view1.transforms[0].scale[0] == 0.2
    assert default_image_views((3, 224, 224)).view1.transforms[0].scale[0] == 0.08


def test_crop_full_scale_is_identity():
    x = _images()
    y = RandomResizedCrop(scale=(1.0, 1.0), ratio=(1.0, 1.0))(x)
    assert torch.allclose(x, y, atol=1e-5)


def test_crop_zooms_in():
    x = torch.zeros(1, 1, 16, 16)
    x[..., 7:9, 7:9] = 1.0  # a dot in the centre grows when a centred crop is enlarged
    t = RandomResizedCrop(scale=(0.25, 0.25), ratio=(1.0, 1.0))
    y = t(x.expand(64, -1, -1, -1), generator=torch.Generator().manual_seed(0))
    assert float(y.sum(dim=(1, 2, 3)).max()) > 4 * float(x.sum()) * 0.9


def test_shift_moves_by_whole_pixels():
    x = torch.zeros(32, 1, 8, 8)
    x[:, :, 4, 4] = 1.0
    y = RandomShift(0.25)(x, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y.sum(dim=(1, 2, 3)), torch.ones(32))
    assert set(y.flatten().tolist()) <= {0.0, 1.0}


def test_affine_zoom_about_the_centre():
    # bilinear resampling is exact on a ramp: a 2x zoom shows the middle half of it
    ramp = torch.arange(4.0).expand(1, 1, 4, 4)
    t = RandomAffine(degrees=0.0, translate=0.0, scale=(2.0, 2.0), shear=0.0)
    y = t(ramp, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(y[0, 0], torch.tensor([0.75, 1.25, 1.75, 2.25]).expand(4, 4), atol=1e-5)


def test_affine_rotation_keeps_a_centred_disk():
    r = torch.linspace(-1, 1, 33)
    disk = ((r[:, None] ** 2 + r[None, :] ** 2) < 0.5).float().expand(8, 1, 33, 33)
    t = RandomAffine(degrees=180.0, translate=0.0, scale=(1.0, 1.0), shear=0.0)
    y = t(disk, generator=torch.Generator().manual_seed(0))
    assert float((y - disk).abs().mean()) < 0.05  # only the rim is resampled
    bar = torch.zeros(8, 1, 33, 33)
    bar[..., 14:19, 2:31] = 1.0
    moved = (t(bar, generator=torch.Generator().manual_seed(0)) - bar).abs().mean(dim=(1, 2, 3))
    assert float(moved.mean()) > 0.05


def test_grey_images_colour_ops():
    x = _images(1)
    assert torch.equal(RandomGrayscale(1.0)(x), x)
    y = ColorJitter(brightness=0, contrast=0, saturation=1, hue=0.5, p=1.0)(x)
    assert torch.equal(y, x)  # saturation and hue do nothing on one channel
    y = ColorJitter(brightness=0.5, contrast=0, saturation=0, hue=0, p=1.0)(
        x, generator=torch.Generator().manual_seed(0)
    )
    assert not torch.equal(y, x)


def test_grayscale_and_solarise_semantics():
    x = _images()
    g = RandomGrayscale(1.0)(x)
    assert torch.allclose(g[:, 0], g[:, 2])
    s = RandomSolarize(1.0, threshold=0.5)(x)
    assert torch.allclose(s, torch.where(x >= 0.5, 1 - x, x))
    rgba = _images(4)
    assert torch.equal(RandomGrayscale(1.0)(rgba)[:, 3], rgba[:, 3])


def test_blur_keeps_mass_and_smooths():
    x = torch.zeros(2, 1, 9, 9)
    x[:, :, 4, 4] = 1.0
    y = GaussianBlur(sigma=(1.0, 2.0), p=1.0)(x, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(y.sum(dim=(1, 2, 3)), torch.ones(2), atol=0.01)  # reflected borders
    assert float(y.max()) < 0.5
    assert torch.equal(GaussianBlur(p=0.0)(x), x)


def test_kornia_wrapper_reproducible_and_restores_global_rng():
    import kornia.augmentation as K

    t = KorniaTransform(K.RandomAffine(degrees=45.0, p=1.0))
    x = _images()
    torch.manual_seed(0)
    state = torch.get_rng_state()
    a = t(x, generator=torch.Generator().manual_seed(3))
    b = t(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and torch.equal(state, torch.get_rng_state())
    assert not needs_data(t)


def test_invalid_parameters_and_input():
    with pytest.raises(ValueError):
        RandomResizedCrop(scale=(0.8, 0.2))
    with pytest.raises(ValueError):
        ColorJitter(hue=0.7)
    with pytest.raises(ValueError):
        RandomSolarize(p=2.0)
    with pytest.raises(ValueError, match="N, C, H, W"):
        RandomHorizontalFlip()(torch.zeros(3, 4))
    with pytest.raises(ValueError, match="degrees"):
        RandomAffine(degrees=200.0)
    with pytest.raises(ValueError, match="shear"):
        RandomAffine(shear=90.0)
    with pytest.raises(ValueError, match="padding_mode"):
        RandomAffine(padding_mode="wrap")


def test_needs_data():
    from skdeepcluster.augment import Compose, GaussianNoise, MultiView, NeighborSwap

    assert not needs_data(asymmetric_views())
    assert needs_data(MultiView(NeighborSwap()))
    assert needs_data(Compose([RandomSolarize(), GaussianNoise()]))
    assert not needs_data(lambda x, index=None, generator=None: (x, x))
