import pytest
import torch

from skdeepcluster.nn import (
    BACKBONES,
    ResNet,
    SmallCNN,
    build_backbone,
    default_backbone,
    infer_out_features,
)


@pytest.mark.parametrize("size", [8, 28, 32, 96])
@pytest.mark.parametrize("channels", [1, 3])
def test_small_cnn_shapes(size, channels):
    net = SmallCNN(channels)
    out = net(torch.zeros(2, channels, size, size))
    assert out.shape == (2, net.out_features)


@pytest.mark.parametrize(
    "name, size",
    [("resnet18", 8), ("resnet18", 28), ("resnet18", 32), ("resnet18_stl", 96), ("resnet34", 32)],
)
def test_resnets_registered_and_shapes(name, size):
    net = build_backbone(name, (3, size, size))
    net.eval()
    assert net(torch.zeros(1, 3, size, size)).shape == (1, 512)
    assert infer_out_features(net, torch.zeros(2, 3, size, size)) == 512


def test_resnet_depths_and_stems():
    def n_blocks(net):
        return sum(len(stage) for stage in net.stages)

    assert n_blocks(build_backbone("resnet18", (3, 32, 32))) == 8
    assert n_blocks(build_backbone("resnet34", (3, 32, 32))) == 16
    cifar = ResNet(3, (1, 1, 1, 1), (8, 8, 8, 8))
    stl = ResNet(3, (1, 1, 1, 1), (8, 8, 8, 8), stem="stl")
    assert cifar.stem(torch.zeros(1, 3, 96, 96)).shape[-1] == 96
    assert stl.stem(torch.zeros(1, 3, 96, 96)).shape[-1] == 48
    with pytest.raises(ValueError, match="stem"):
        ResNet(stem="huge")


def test_channels_last_gives_the_same_output():
    net = SmallCNN(3, widths=(8, 16)).eval()
    x = torch.rand(2, 3, 12, 12)
    ref = net(x)
    net_cl = net.to(memory_format=torch.channels_last)
    out = net_cl(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(ref, out, atol=1e-5)


def test_build_backbone_shapes_and_errors():
    assert set(BACKBONES) >= {"mlp", "cnn", "resnet18", "resnet34", "resnet18_stl"}
    assert build_backbone("cnn", (1, 8, 8), {"widths": (4,)}).out_features == 4
    # the MLP takes images too, flattened
    mlp = build_backbone("mlp", (1, 8, 8), {"hidden_dims": (5,)})
    assert mlp(torch.zeros(2, 1, 8, 8)).shape == (2, 5)
    assert build_backbone("mlp", (7,), {"hidden_dims": (5,)}).net[0].in_features == 7
    with pytest.raises(ValueError, match="needs images"):
        build_backbone("cnn", 64)
    with pytest.raises(TypeError, match="backbone_params"):
        build_backbone("cnn", (1, 8, 8), {"depth": 3})
    assert default_backbone((64,)) == "mlp" and default_backbone((3, 32, 32)) == "cnn"


def test_use_channels_last_keeps_values_and_is_idempotent():
    import copy
    import pickle

    from skdeepcluster.nn import use_channels_last

    torch.manual_seed(0)
    net = SmallCNN(1, widths=(4, 8)).eval()
    x = torch.rand(3, 1, 8, 8)
    expected = net(x)
    cl = use_channels_last(copy.deepcopy(net))
    assert use_channels_last(cl) is cl and len(cl._forward_pre_hooks) == 1
    assert cl.features[0].weight.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(cl(x), expected, atol=1e-5)
    loaded = pickle.loads(pickle.dumps(cl))
    assert torch.allclose(loaded(x), expected, atol=1e-5)
