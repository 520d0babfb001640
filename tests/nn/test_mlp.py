import pytest
import torch

from skdeepcluster.nn import MLP, ProjectionHead, build_backbone, infer_out_features


def test_mlp_shapes_and_out_features():
    net = MLP(5, (7, 3))
    assert net(torch.randn(4, 5)).shape == (4, 3) and net.out_features == 3
    assert MLP(5, (), out_features=2)(torch.randn(4, 5)).shape == (4, 2)


def test_projection_head_is_unit_norm():
    z = ProjectionHead(6, 8, 4)(torch.randn(10, 6))
    assert torch.allclose(z.norm(dim=1), torch.ones(10), atol=1e-6)


def test_build_backbone_copies_user_module():
    user = torch.nn.Linear(3, 2)
    built = build_backbone(user, 3)
    assert built is not user
    with torch.no_grad():
        built.weight.add_(1.0)
    assert not torch.equal(built.weight, user.weight)
    assert infer_out_features(built, torch.zeros(2, 3)) == 2


def test_build_backbone_errors():
    with pytest.raises(ValueError, match="Unknown backbone"):
        build_backbone("nope", 3)
    with pytest.raises(TypeError, match="backbone_params"):
        build_backbone("mlp", 3, {"bogus": 1})
    with pytest.raises(ValueError, match="backbone_params"):
        build_backbone(torch.nn.Linear(3, 2), 3, {"x": 1})
    with pytest.raises(TypeError, match="backbone"):
        build_backbone(3, 3)
