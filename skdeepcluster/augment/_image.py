"""Batched, on-device augmentations of images (N, C, H, W) with values in [0, 1].

Every transform draws its random parameters (one set per image) from the
``generator`` passed to it, on the generator's device, and applies them to
the whole batch at once with tensor operations (the colour, grey-scale and
blur operations come from kornia's functional API). The global RNGs are never
used, so a fit is reproducible from its ``random_state`` and leaves the
caller's random state alone. :class:`KorniaTransform` wraps any kornia
augmentation module under the same guarantee.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch.nn import functional as F

from skdeepcluster.augment._base import BatchTransform, Compose, MultiView, _rand


def _kornia():
    try:
        import kornia
    except ImportError as exc:  # pragma: no cover - kornia is a dependency
        raise ImportError(
            "The image augmentations need kornia: pip install 'kornia>=0.7'."
        ) from exc
    return kornia


def _uniform(n: int, low: float, high: float, x: torch.Tensor, generator) -> torch.Tensor:
    return low + (high - low) * _rand(n, x, generator).to(x.dtype)


def _coin(n: int, p: float, x: torch.Tensor, generator) -> torch.Tensor:
    """Boolean mask of shape (n,), True with probability ``p``."""
    return _rand(n, x, generator) < p


def _check_images(x: torch.Tensor, name: str) -> None:
    if x.dim() != 4:
        raise ValueError(f"{name} expects images of shape (N, C, H, W), got {tuple(x.shape)}.")


def _check_p(p: float) -> float:
    if not 0 <= p <= 1:
        raise ValueError(f"p must be in [0, 1], got {p}.")
    return float(p)


def _check_range(value: Sequence[float], name: str, low: float, high: float) -> tuple:
    lo, hi = (float(v) for v in value)
    if not low <= lo <= hi <= high:
        raise ValueError(f"{name} must satisfy {low} <= min <= max <= {high}, got {value!r}.")
    return lo, hi


def _affine_sample(x, sx, sy, tx, ty, size, padding_mode: str) -> torch.Tensor:
    """Sample ``x`` on the grid ``(sx * u + tx, sy * v + ty)`` in normalised coordinates."""
    n = x.shape[0]
    theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
    theta[:, 0, 0], theta[:, 0, 2] = sx, tx
    theta[:, 1, 1], theta[:, 1, 2] = sy, ty
    grid = F.affine_grid(theta, [n, x.shape[1], *size], align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode=padding_mode, align_corners=False)


class RandomResizedCrop(BatchTransform):
    """Crop a random region of each image and resize it back (Inception-style crop).

    The region covers a fraction of the image area drawn uniformly from
    ``scale`` and has an aspect ratio drawn log-uniformly from ``ratio``
    (clipped to the image), at a uniformly random position; it is resampled
    bilinearly to ``size`` (default: the input size).

    Parameters
    ----------
    scale : (float, float), default=(0.3, 1.0)
        Range of the crop's area fraction; the minimum is the "min scale" of
        SimCLR/BYOL/SeCu (0.08 on ImageNet, 0.3 for SeCu on CIFAR-10, 0.2 on
        STL-10).
    ratio : (float, float), default=(3/4, 4/3)
        Range of the crop's width / height.
    size : (int, int) or None, default=None
        Output (height, width).

    Examples
    --------
    >>> t = RandomResizedCrop(scale=(0.5, 1.0))
    >>> t(torch.rand(4, 3, 16, 16), generator=torch.Generator().manual_seed(0)).shape
    torch.Size([4, 3, 16, 16])
    """

    def __init__(
        self,
        scale: tuple[float, float] = (0.3, 1.0),
        ratio: tuple[float, float] = (3 / 4, 4 / 3),
        size: tuple[int, int] | None = None,
    ) -> None:
        self.scale = _check_range(scale, "scale", 1e-6, 1.0)
        self.ratio = _check_range(ratio, "ratio", 1e-6, math.inf)
        self.size = None if size is None else (int(size[0]), int(size[1]))

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        n, _, h, w = x.shape
        area = _uniform(n, *self.scale, x, generator)
        log_r = _uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), x, generator)
        r = torch.exp(log_r) * (h / w)  # width/height ratio in units of the image's sides
        sx = torch.sqrt(area * r).clamp(max=1.0)
        sy = torch.sqrt(area / r).clamp(max=1.0)
        tx = (2 * _rand(n, x, generator).to(x.dtype) - 1) * (1 - sx)
        ty = (2 * _rand(n, x, generator).to(x.dtype) - 1) * (1 - sy)
        return _affine_sample(x, sx, sy, tx, ty, self.size or (h, w), "reflection")


class RandomShift(BatchTransform):
    """Translate each image by a random whole number of pixels, filling with zeros.

    The batched form of "pad by ``max_shift`` pixels, then crop at random"
    (the weak augmentation of SCAN on CIFAR, with padding 4 of 32).

    Parameters
    ----------
    max_shift : float, default=0.125
        Largest shift as a fraction of the image side (rounded to pixels).

    Examples
    --------
    >>> x = torch.zeros(1, 1, 8, 8)
    >>> x[0, 0, 4, 4] = 1.0
    >>> y = RandomShift(0.25)(x, generator=torch.Generator().manual_seed(0))
    >>> float(y.sum())
    1.0
    """

    def __init__(self, max_shift: float = 0.125) -> None:
        if not 0 <= max_shift < 1:
            raise ValueError(f"max_shift must be in [0, 1), got {max_shift}.")
        self.max_shift = float(max_shift)

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        n, _, h, w = x.shape
        mh, mw = round(self.max_shift * h), round(self.max_shift * w)
        dy = torch.floor(_uniform(n, -mh, mh + 1 - 1e-6, x, generator))
        dx = torch.floor(_uniform(n, -mw, mw + 1 - 1e-6, x, generator))
        ones = torch.ones(n, device=x.device, dtype=x.dtype)
        return _affine_sample(x, ones, ones, 2 * dx / w, 2 * dy / h, (h, w), "zeros")


class RandomAffine(BatchTransform):
    """Rotate, shear, zoom and translate each image by random amounts.

    Per image: a rotation angle uniform in ``[-degrees, degrees]``, a
    horizontal shear angle uniform in ``[-shear, shear]``, a zoom factor
    uniform in ``scale`` (above 1 enlarges the content) and a translation
    uniform in ``[-translate, translate]`` of the width and height, composed
    as ``translate . zoom . rotate . shear`` about the image centre (in
    pixels, so non-square images are not distorted) and resampled
    bilinearly. Rotation and shear make views invariant to the slant of
    handwriting, which otherwise becomes the axis along which look-alike
    digits (4 and 9) are split.

    Parameters
    ----------
    degrees : float, default=15.0
    translate : float, default=0.1
    scale : (float, float), default=(0.9, 1.1)
    shear : float, default=10.0
        In degrees.
    padding_mode : {"zeros", "border", "reflection"}, default="zeros"
        What fills the area moved in from outside the image (zeros: black,
        the background of digits).

    Examples
    --------
    >>> t = RandomAffine(degrees=0.0, translate=0.0, scale=(1.0, 1.0), shear=0.0)
    >>> x = torch.rand(2, 1, 8, 8)
    >>> bool(torch.allclose(t(x, generator=torch.Generator().manual_seed(0)), x, atol=1e-5))
    True
    """

    def __init__(
        self,
        degrees: float = 15.0,
        translate: float = 0.1,
        scale: tuple[float, float] = (0.9, 1.1),
        shear: float = 10.0,
        padding_mode: str = "zeros",
    ) -> None:
        if not 0 <= degrees <= 180:
            raise ValueError(f"degrees must be in [0, 180], got {degrees}.")
        if not 0 <= shear < 90:
            raise ValueError(f"shear must be in [0, 90), got {shear}.")
        if not 0 <= translate <= 1:
            raise ValueError(f"translate must be in [0, 1], got {translate}.")
        if padding_mode not in ("zeros", "border", "reflection"):
            raise ValueError(
                f"padding_mode must be zeros, border or reflection; got {padding_mode!r}."
            )
        self.degrees = float(degrees)
        self.translate = float(translate)
        self.scale = _check_range(scale, "scale", 1e-6, math.inf)
        self.shear = float(shear)
        self.padding_mode = padding_mode

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        n, _, h, w = x.shape
        rad = math.pi / 180
        angle = _uniform(n, -self.degrees * rad, self.degrees * rad, x, generator)
        shear = torch.tan(_uniform(n, -self.shear * rad, self.shear * rad, x, generator))
        zoom = _uniform(n, *self.scale, x, generator)
        tx = _uniform(n, -self.translate, self.translate, x, generator) * 2
        ty = _uniform(n, -self.translate, self.translate, x, generator) * 2
        cos, sin = torch.cos(angle), torch.sin(angle)
        # forward map in pixels: zoom * R(angle) @ [[1, shear], [0, 1]]
        m00, m01 = zoom * cos, zoom * (cos * shear - sin)
        m10, m11 = zoom * sin, zoom * (sin * shear + cos)
        det = m00 * m11 - m01 * m10
        # inverse (output pixel -> input pixel), in normalised coordinates
        i00, i01, i10, i11 = m11 / det, -m01 / det, -m10 / det, m00 / det
        theta = torch.zeros(n, 2, 3, device=x.device, dtype=x.dtype)
        theta[:, 0, 0], theta[:, 0, 1] = i00, i01 * h / w
        theta[:, 1, 0], theta[:, 1, 1] = i10 * w / h, i11
        theta[:, 0, 2] = -(theta[:, 0, 0] * tx + theta[:, 0, 1] * ty)
        theta[:, 1, 2] = -(theta[:, 1, 0] * tx + theta[:, 1, 1] * ty)
        grid = F.affine_grid(theta, [n, x.shape[1], h, w], align_corners=False)
        return F.grid_sample(
            x, grid, mode="bilinear", padding_mode=self.padding_mode, align_corners=False
        )


class RandomHorizontalFlip(BatchTransform):
    """Mirror each image left-right with probability ``p``.

    Parameters
    ----------
    p : float, default=0.5
        Probability that an image is mirrored, drawn per image.

    Examples
    --------
    >>> x = torch.arange(4.0).reshape(1, 1, 1, 4)
    >>> RandomHorizontalFlip(p=1.0)(x).flatten().tolist()
    [3.0, 2.0, 1.0, 0.0]
    """

    def __init__(self, p: float = 0.5) -> None:
        self.p = _check_p(p)

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        flip = _coin(x.shape[0], self.p, x, generator)
        return torch.where(flip[:, None, None, None], x.flip(-1), x)


def _grey(x: torch.Tensor) -> torch.Tensor:
    """Luma of RGB images (N, 1, H, W), or the mean over channels otherwise."""
    if x.shape[1] == 3:
        return _kornia().color.rgb_to_grayscale(x)
    return x.mean(dim=1, keepdim=True)


def _split_alpha(x: torch.Tensor):
    """Colour channels and the alpha channel (None) of RGB(A) images."""
    if x.shape[1] == 4:
        return x[:, :3], x[:, 3:]
    return x, None


def _join_alpha(rgb: torch.Tensor, alpha) -> torch.Tensor:
    return rgb if alpha is None else torch.cat([rgb, alpha], dim=1)


class ColorJitter(BatchTransform):
    """Random brightness, contrast, saturation and hue, applied with probability ``p``.

    With probability ``p`` an image gets a brightness factor in
    ``[1 - brightness, 1 + brightness]`` (multiplying it), a contrast factor in
    ``[1 - contrast, 1 + contrast]`` (blending with its mean grey level), a
    saturation factor in ``[1 - saturation, 1 + saturation]`` (blending with
    its grey version) and a hue shift in ``[-hue, hue]`` turns of the colour
    wheel, in an order drawn once per batch (torchvision's ``ColorJitter``
    semantics). Images with 1 or 2 channels get brightness and contrast only;
    RGBA images keep their alpha channel. Results are clipped to [0, 1].

    Parameters
    ----------
    brightness, contrast, saturation : float, default=0.4, 0.4, 0.2
    hue : float, default=0.1
        At most 0.5.
    p : float, default=0.8

    Examples
    --------
    >>> t = ColorJitter(p=1.0)
    >>> y = t(torch.rand(4, 3, 8, 8), generator=torch.Generator().manual_seed(0))
    >>> y.shape, bool((y >= 0).all() and (y <= 1).all())
    (torch.Size([4, 3, 8, 8]), True)
    """

    def __init__(
        self,
        brightness: float = 0.4,
        contrast: float = 0.4,
        saturation: float = 0.2,
        hue: float = 0.1,
        p: float = 0.8,
    ) -> None:
        for name, value in (
            ("brightness", brightness),
            ("contrast", contrast),
            ("saturation", saturation),
        ):
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}.")
        if not 0 <= hue <= 0.5:
            raise ValueError(f"hue must be in [0, 0.5], got {hue}.")
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.saturation = float(saturation)
        self.hue = float(hue)
        self.p = _check_p(p)

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        n = x.shape[0]
        on = _coin(n, self.p, x, generator).to(x.dtype)
        b = 1 + on * _uniform(n, -self.brightness, self.brightness, x, generator)
        c = 1 + on * _uniform(n, -self.contrast, self.contrast, x, generator)
        s = 1 + on * _uniform(n, -self.saturation, self.saturation, x, generator)
        h = on * _uniform(n, -self.hue, self.hue, x, generator)
        device = generator.device if generator is not None else "cpu"
        order = torch.randperm(4, generator=generator, device=device).tolist()
        colour = x.shape[1] in (3, 4)
        enhance = _kornia().enhance
        for op in order:
            if op == 0 and self.brightness > 0:
                x = (x * b[:, None, None, None]).clamp(0, 1)
            elif op == 1 and self.contrast > 0:
                rgb, alpha = _split_alpha(x)
                mean = _grey(rgb).mean(dim=(1, 2, 3), keepdim=True)
                cf = c[:, None, None, None]
                x = _join_alpha((rgb * cf + mean * (1 - cf)).clamp(0, 1), alpha)
            elif op == 2 and self.saturation > 0 and colour:
                rgb, alpha = _split_alpha(x)
                rgb = enhance.adjust_saturation_with_gray_subtraction(rgb, s)
                x = _join_alpha(rgb, alpha)
            elif op == 3 and self.hue > 0 and colour:
                rgb, alpha = _split_alpha(x)
                rgb = enhance.adjust_hue(rgb, h * 2 * math.pi).clamp(0, 1)
                x = _join_alpha(rgb, alpha)
        return x


class RandomGrayscale(BatchTransform):
    """Replace colour images by their grey version (3 equal channels) with probability ``p``.

    The grey level is the luma of the RGB channels (kornia's
    ``rgb_to_grayscale``); an alpha channel is kept. Images that are not
    RGB(A) are returned unchanged.

    Parameters
    ----------
    p : float, default=0.2
        Probability that an image is turned grey, drawn per image.

    Examples
    --------
    >>> y = RandomGrayscale(p=1.0)(torch.rand(2, 3, 4, 4))
    >>> bool(torch.allclose(y[:, 0], y[:, 1]))
    True
    """

    def __init__(self, p: float = 0.2) -> None:
        self.p = _check_p(p)

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        if x.shape[1] not in (3, 4):
            return x
        on = _coin(x.shape[0], self.p, x, generator)
        rgb, alpha = _split_alpha(x)
        grey = _grey(rgb).expand_as(rgb)
        return _join_alpha(torch.where(on[:, None, None, None], grey, rgb), alpha)


class GaussianBlur(BatchTransform):
    """Blur each image, with probability ``p``, by a Gaussian of random width.

    The standard deviation is drawn uniformly from ``sigma`` (in pixels) per
    image; the kernel spans ``2 * ceil(2 * sigma_max) + 1`` pixels (at most
    ``2 * min(H, W) - 1``), with reflected borders.

    Parameters
    ----------
    sigma : (float, float), default=(0.1, 2.0)
        Range of the standard deviation in pixels (SimCLR/BYOL: 0.1 to 2.0).
    p : float, default=0.5

    Examples
    --------
    >>> x = torch.zeros(1, 1, 9, 9)
    >>> x[0, 0, 4, 4] = 1.0
    >>> y = GaussianBlur(sigma=(1.0, 1.0), p=1.0)(x)
    >>> round(float(y.sum()), 4), bool(y[0, 0, 4, 4] < 1)
    (1.0, True)
    """

    def __init__(self, sigma: tuple[float, float] = (0.1, 2.0), p: float = 0.5) -> None:
        self.sigma = _check_range(sigma, "sigma", 1e-6, math.inf)
        self.p = _check_p(p)

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        n, _, h, w = x.shape
        on = _coin(n, self.p, x, generator)
        sig = _uniform(n, *self.sigma, x, generator)
        if not bool(on.any()):
            return x
        k = min(2 * math.ceil(2 * self.sigma[1]) + 1, 2 * min(h, w) - 1)
        sel = torch.nonzero(on).flatten()
        sigmas = sig[sel, None].expand(-1, 2)
        blurred = _kornia().filters.gaussian_blur2d(x[sel], (k, k), sigmas, border_type="reflect")
        out = x.clone()
        out[sel] = blurred.to(x.dtype)
        return out


class RandomSolarize(BatchTransform):
    """Invert pixels at or above ``threshold`` (``x -> 1 - x``) with probability ``p``.

    Parameters
    ----------
    p : float, default=0.2
        Probability that an image is solarised, drawn per image.
    threshold : float, default=0.5
        Pixel values at or above it are inverted (values in [0, 1]).

    Examples
    --------
    >>> RandomSolarize(p=1.0)(torch.tensor([0.2, 0.7]).reshape(1, 1, 1, 2)).flatten().tolist()
    [0.2, 0.30000001192092896]
    """

    def __init__(self, p: float = 0.2, threshold: float = 0.5) -> None:
        self.p = _check_p(p)
        self.threshold = float(threshold)

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        on = _coin(x.shape[0], self.p, x, generator)[:, None, None, None]
        return torch.where(on & (x >= self.threshold), 1 - x, x)


class RandomErasing(BatchTransform):
    """Set a random rectangle of each image to ``value`` with probability ``p`` (Cutout).

    The rectangle covers an area fraction drawn from ``scale`` with an aspect
    ratio drawn log-uniformly from ``ratio`` (clipped to the image), at a
    uniformly random position inside the image. Every channel is erased.

    Parameters
    ----------
    p : float, default=0.5
        Probability that an image gets a rectangle erased, drawn per image.
    scale : (float, float), default=(0.02, 0.25)
        Range of the rectangle's area as a fraction of the image area.
    ratio : (float, float), default=(0.3, 3.3)
        Range of the rectangle's width / height.
    value : float, default=0.0
        Value written into the rectangle.

    Examples
    --------
    >>> y = RandomErasing(p=1.0, scale=(0.25, 0.25), ratio=(1.0, 1.0))(torch.ones(1, 1, 8, 8))
    >>> int((y == 0).sum())
    16
    """

    def __init__(
        self,
        p: float = 0.5,
        scale: tuple[float, float] = (0.02, 0.25),
        ratio: tuple[float, float] = (0.3, 3.3),
        value: float = 0.0,
    ) -> None:
        self.p = _check_p(p)
        self.scale = _check_range(scale, "scale", 0.0, 1.0)
        self.ratio = _check_range(ratio, "ratio", 1e-6, math.inf)
        self.value = float(value)

    def __call__(self, x, index=None, generator=None):
        _check_images(x, type(self).__name__)
        n, _, h, w = x.shape
        on = _coin(n, self.p, x, generator)
        area = _uniform(n, *self.scale, x, generator) * h * w
        r = torch.exp(_uniform(n, math.log(self.ratio[0]), math.log(self.ratio[1]), x, generator))
        eh = torch.sqrt(area / r).round().clamp(0, h)
        ew = torch.sqrt(area * r).round().clamp(0, w)
        top = torch.floor(_rand(n, x, generator).to(x.dtype) * (h - eh + 1))
        left = torch.floor(_rand(n, x, generator).to(x.dtype) * (w - ew + 1))
        rows = torch.arange(h, device=x.device, dtype=x.dtype)[None, :]
        cols = torch.arange(w, device=x.device, dtype=x.dtype)[None, :]
        in_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None])
        in_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])
        mask = (in_rows[:, :, None] & in_cols[:, None, :]) & on[:, None, None]
        return x.masked_fill(mask[:, None], self.value)


class KorniaTransform(BatchTransform):
    """Run a kornia augmentation module with randomness from our generator.

    kornia draws its parameters from torch's global RNG. Each call draws a
    seed from ``generator`` and runs ``module`` inside
    :func:`torch.random.fork_rng` with the global RNG (CPU, and the batch's
    CUDA devices) seeded from it, so results are reproducible from the fit's
    ``random_state`` and the caller's global random state is restored
    afterwards.

    Parameters
    ----------
    module : torch.nn.Module
        E.g. ``kornia.augmentation.RandomAffine(degrees=10)``.

    Examples
    --------
    >>> import kornia.augmentation as K
    >>> t = KorniaTransform(K.RandomAffine(degrees=30.0, p=1.0))
    >>> x = torch.rand(2, 1, 8, 8)
    >>> a = t(x, generator=torch.Generator().manual_seed(0))
    >>> b = t(x, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.equal(a, b))
    True
    """

    def __init__(self, module) -> None:
        self.module = module

    def __call__(self, x, index=None, generator=None):
        device = generator.device if generator is not None else "cpu"
        seed = int(torch.randint(2**62, (1,), generator=generator, device=device))
        cuda = list(range(torch.cuda.device_count())) if x.is_cuda else []
        with torch.random.fork_rng(devices=cuda):
            torch.default_generator.manual_seed(seed)
            if x.is_cuda:
                torch.cuda.manual_seed_all(seed)
            return self.module(x)


def asymmetric_views(
    crop_scale: tuple[float, float] = (0.3, 1.0),
    flip: bool = True,
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.2, 0.1),
    jitter_p: float = 0.8,
    grayscale_p: float = 0.2,
    blur_sigma: tuple[float, float] = (0.1, 2.0),
    blur_p: tuple[float, float] = (1.0, 0.1),
    solarize_p: float = 0.2,
) -> MultiView:
    """The two asymmetric views of BYOL, used by SeCu (Sec. 4.1 "Augmentation").

    Both views: random resized crop (``crop_scale``), horizontal flip
    (``flip``), colour jitter (``jitter`` = brightness, contrast, saturation,
    hue, applied with probability ``jitter_p``), random grey-scale
    (``grayscale_p``). View 1 is always blurred (``blur_p[0] = 1.0``) and never
    solarised; view 2 is blurred with probability ``blur_p[1] = 0.1`` and
    solarised with probability ``solarize_p``. Colour operations are no-ops on
    single-channel images.

    Parameters
    ----------
    crop_scale : (float, float), default=(0.3, 1.0)
        Area range of :class:`RandomResizedCrop` (0.3 is SeCu's CIFAR setting).
    flip : bool, default=True
        Mirror each view left-right with probability 0.5.
    jitter : (float, float, float, float), default=(0.4, 0.4, 0.2, 0.1)
        Brightness, contrast, saturation and hue of :class:`ColorJitter`.
    jitter_p : float, default=0.8
        Probability of the colour jitter; 0 leaves it out.
    grayscale_p : float, default=0.2
        Probability of :class:`RandomGrayscale`; 0 leaves it out.
    blur_sigma : (float, float), default=(0.1, 2.0)
        Standard deviation range, in pixels, of :class:`GaussianBlur`.
    blur_p : (float, float), default=(1.0, 0.1)
        Probability of the blur in view 1 and in view 2.
    solarize_p : float, default=0.2
        Probability of :class:`RandomSolarize` in view 2.

    Returns
    -------
    MultiView
        Called as ``views(x, index, generator)``, returns the two views.

    Examples
    --------
    >>> views = asymmetric_views(crop_scale=(0.5, 1.0), blur_sigma=(0.1, 0.5))
    >>> a, b = views(torch.rand(4, 3, 16, 16), generator=torch.Generator().manual_seed(0))
    >>> a.shape == b.shape == (4, 3, 16, 16)
    True
    """

    def view(blur: float, solarize: float) -> Compose:
        steps: list[BatchTransform] = [RandomResizedCrop(crop_scale)]
        if flip:
            steps.append(RandomHorizontalFlip(0.5))
        if jitter_p > 0 and any(v > 0 for v in jitter):
            steps.append(ColorJitter(*jitter, p=jitter_p))
        if grayscale_p > 0:
            steps.append(RandomGrayscale(grayscale_p))
        if blur > 0:
            steps.append(GaussianBlur(blur_sigma, p=blur))
        if solarize > 0:
            steps.append(RandomSolarize(solarize))
        return Compose(steps)

    return MultiView(view(blur_p[0], 0.0), view(blur_p[1], solarize_p))


def weak_strong_views(
    max_shift: float = 0.125,
    flip: bool = True,
    crop_scale: tuple[float, float] = (0.5, 1.0),
    jitter: tuple[float, float, float, float] = (0.4, 0.4, 0.2, 0.1),
    grayscale_p: float = 0.2,
    erase_p: float = 0.5,
) -> MultiView:
    """A weak and a strong view, for self-labeling (SCAN-style, SeCu App. C.1).

    Weak: a shift of up to ``max_shift`` of the side (pad-and-crop) and a
    horizontal flip. Strong: a random resized crop (``crop_scale``), flip,
    colour jitter (p=0.8), grey-scale (``grayscale_p``) and Cutout
    (:class:`RandomErasing`, ``erase_p``) -- milder than the training views,
    as the paper notes for self-labeling.

    Parameters
    ----------
    max_shift : float, default=0.125
        Largest shift of the weak view, as a fraction of the image side
        (:class:`RandomShift`).
    flip : bool, default=True
        Mirror both views left-right with probability 0.5.
    crop_scale : (float, float), default=(0.5, 1.0)
        Area range of the strong view's :class:`RandomResizedCrop`.
    jitter : (float, float, float, float), default=(0.4, 0.4, 0.2, 0.1)
        Brightness, contrast, saturation and hue of the strong view's
        :class:`ColorJitter`.
    grayscale_p : float, default=0.2
        Probability of :class:`RandomGrayscale` in the strong view.
    erase_p : float, default=0.5
        Probability of :class:`RandomErasing` in the strong view; 0 leaves it out.

    Returns
    -------
    MultiView
        Returns ``(weak, strong)`` when called on a batch.

    Examples
    --------
    >>> weak, strong = weak_strong_views()(torch.rand(2, 3, 8, 8),
    ...                                    generator=torch.Generator().manual_seed(0))
    >>> weak.shape, strong.shape
    (torch.Size([2, 3, 8, 8]), torch.Size([2, 3, 8, 8]))
    """
    weak: list[BatchTransform] = [RandomShift(max_shift)]
    strong: list[BatchTransform] = [RandomResizedCrop(crop_scale)]
    if flip:
        weak.append(RandomHorizontalFlip(0.5))
        strong.append(RandomHorizontalFlip(0.5))
    strong += [ColorJitter(*jitter, p=0.8), RandomGrayscale(grayscale_p)]
    if erase_p > 0:
        strong.append(RandomErasing(erase_p))
    return MultiView(Compose(weak), Compose(strong))


def default_image_views(sample_shape: Sequence[int]) -> MultiView:
    """The views ``augment="auto"`` uses for images of shape (C, H, W).

    The asymmetric views of :func:`asymmetric_views`, adapted to the size and
    the kind of image (the paper's settings are for colour images of 32 px
    and more):

    * crop min scale 0.6 up to 16 px, 0.3 up to 32 px (SeCu on CIFAR-10),
      0.2 up to 128 px (STL-10), 0.08 above (ImageNet). The 0.6 for tiny
      images is ours: a 30% crop of an 8x8 digit keeps about 4x4 pixels, and
      with SeCu's defaults on ``load_digits`` as 8x8 images the mean accuracy
      over seeds 0-2 rose from 0.843 with 0.3 to 0.868 with 0.6;
    * blur sigma (0.1, 2.0) pixels at 32 px and above, scaled down in
      proportion for smaller images (so 8x8 digits get at most 0.5 px);
    * grey images (1 or 2 channels) -- digits, documents, medical scans -- get
      no horizontal flip (a mirrored digit is another symbol) and no
      solarisation (which erases white-on-black strokes); their colour jitter
      reduces to brightness and contrast.

    Parameters
    ----------
    sample_shape : sequence of 3 int
        (channels, height, width) of one image.

    Returns
    -------
    MultiView
        The two views, as built by :func:`asymmetric_views`.

    Examples
    --------
    >>> views = default_image_views((1, 8, 8))
    >>> a, b = views(torch.rand(3, 1, 8, 8), generator=torch.Generator().manual_seed(0))
    >>> a.shape
    torch.Size([3, 1, 8, 8])
    """
    channels, h, w = (int(s) for s in sample_shape)
    side = min(h, w)
    min_scale = 0.6 if side <= 16 else 0.3 if side <= 32 else 0.2 if side <= 128 else 0.08
    blur_max = 2.0 * min(1.0, side / 32)
    colour = channels >= 3
    return asymmetric_views(
        crop_scale=(min_scale, 1.0),
        flip=colour,
        blur_sigma=(min(0.1, blur_max), blur_max),
        solarize_p=0.2 if colour else 0.0,
    )
