"""Model zoo: exact OpenLTH parameter counts (spec 003 §4), probe lists and placement (spec 002
§3.1), and vmap-ensemble equivalence in train mode. CPU, offline, small widths."""
from __future__ import annotations

import copy

import pytest
import torch
from torch.func import functional_call, stack_module_state

from pointwise.models import FAMILIES, build_model, count_parameters, head_parameter_names
from pointwise.models.densenet import DenseNet
from pointwise.models.layers import WSConv2d, group_count, norm_layer

CIFAR = (3, 32, 32)


@pytest.mark.parametrize("spec, expected", [
    ({"family": "resnet_cifar", "depth": 20}, 272_474),
    ({"family": "resnet_cifar", "depth": 20, "width": 64}, 4_327_754),
    ({"family": "resnet_cifar", "depth": 32}, 466_906),
    ({"family": "vgg", "depth": 16, "batch_norm": True, "head": "avgpool"}, 14_728_266),
    ({"family": "vgg", "depth": 16, "width": 16}, 924_186),
    ({"family": "vgg", "depth": 11}, 9_231_114),
])
def test_openlth_parameter_counts(spec, expected):
    with torch.device("meta"):
        model = build_model(spec, CIFAR, 10)
    assert count_parameters(model) == expected


@pytest.mark.parametrize("spec, in_shape, expected", [
    # spec 003 §5 CPU analogues on 1x8x8 digits
    ({"family": "resnet_cifar", "depth": 8, "width": 8}, (1, 8, 8), 19_810),
    ({"family": "resnet_cifar", "depth": 8, "width": 32}, (1, 8, 8), 308_074),
    ({"family": "resnet_cifar", "depth": 14, "width": 8}, (1, 8, 8), 44_226),
    ({"family": "vgg", "plan": [16, 16, "M", 32, 32, "M", 64, 64, 64]}, (1, 8, 8), 109_946),
    ({"family": "vgg", "plan": [4, 4, "M", 8, 8, "M", 16, 16, 16]}, (1, 8, 8), 7_190),
    ({"family": "vgg", "plan": [16, "M", 32, "M", 64, 64]}, (1, 8, 8), 61_226),
    # the kuangliu/pytorch-cifar references
    ({"family": "densenet121"}, CIFAR, 6_956_298),
    ({"family": "resnet18"}, CIFAR, 11_173_962),
])
def test_other_parameter_counts(spec, in_shape, expected):
    with torch.device("meta"):
        model = build_model(spec, in_shape, 10)
    assert count_parameters(model) == expected


def _check_probes(model, x, expected_dims):
    model.eval()
    with torch.no_grad():
        logits, acts = model.forward_with_probes(x)
        plain = model(x)
    assert list(acts) == model.probe_names
    assert model.probe_names[0] == "input" and model.probe_names[-1] == "softmax"
    assert [a.shape[1] for a in acts.values()] == expected_dims
    assert all(a.ndim == 2 and a.shape[0] == x.shape[0] for a in acts.values())
    torch.testing.assert_close(acts["softmax"].sum(1), torch.ones(x.shape[0]))
    torch.testing.assert_close(logits, plain)
    return acts


def test_paper002_probe_lists():
    """Spec 002 §3.1 probe counts and embedding dimensions at 32x32 (MLP width reduced)."""
    torch.manual_seed(0)
    x = torch.randn(2, *CIFAR)
    mlp = build_model({"family": "mlp", "depth": 7, "width": 32}, CIFAR, 10)
    acts = _check_probes(mlp, x, [3072] + [32] * 7 + [10])
    assert list(acts) == ["input", *(f"fc{i}" for i in range(1, 8)), "softmax"]      # L = 8

    vgg = build_model({"family": "vgg", "depth": 16, "batch_norm": False, "head": "flatten"}, CIFAR, 10)
    assert vgg.head.in_features == 512
    _check_probes(vgg, x, [3072] + [65536] * 2 + [32768] * 2 + [16384] * 3 + [8192] * 3
                  + [2048] * 3 + [10])                                                   # L = 14

    r18 = build_model({"family": "resnet18", "norm": "group_ws"}, CIFAR, 10)
    acts = _check_probes(r18, x, [3072] + [65536] * 3 + [32768] * 2 + [16384] * 2 + [8192] * 2 + [10])
    assert list(acts)[1:4] == ["stem", "layer1.0", "layer1.1"]                           # L = 10


def test_probe_options_and_other_families():
    x = torch.randn(3, 1, 8, 8)
    mlp = build_model({"family": "mlp", "depth": 3, "width": 8, "probe_every_op": True}, (1, 8, 8), 10)
    acts = _check_probes(mlp, x, [64] + [8] * 6 + [10])
    assert list(acts)[1:3] == ["fc1", "relu1"]
    assert all((acts[f"relu{i}"] >= 0).all() for i in (1, 2, 3))
    torch.testing.assert_close(acts["relu2"], acts["fc2"].clamp(min=0))

    r18 = build_model({"family": "resnet18", "width": 0.125, "probe_every_conv": True}, (1, 8, 8), 10)
    acts = _check_probes(r18, x, [64, 512, 512, 512, 512, 512, 256, 256, 256, 256,
                                  128, 128, 128, 128, 64, 64, 64, 64, 10])
    assert len(r18.probe_names) - 1 == 18 and list(acts)[2:4] == ["layer1.0.conv1", "layer1.0"]

    r20 = build_model({"family": "resnet_cifar", "depth": 20, "width": 4}, (1, 8, 8), 10)
    _check_probes(r20, x, [64] + [256] * 4 + [128] * 3 + [64] * 3 + [10])

    dn = DenseNet((1, 8, 8), 10, growth=4, blocks=(2, 2, 2, 2))
    acts = _check_probes(dn, x, [64, 8 * 64, 16 * 64, 8 * 16, 16 * 16, 8 * 4, 16 * 4, 8, 16, 10])
    assert list(acts)[1:] == ["stem", "dense1", "trans1", "dense2", "trans2", "dense3", "trans3",
                              "dense4", "softmax"]

    cnn = build_model({"family": "small_cnn", "widths": [4, 8], "convs_per_stage": 2}, (1, 28, 28), 10)
    _check_probes(cnn, torch.randn(2, 1, 28, 28), [784, 4 * 784, 4 * 784, 8 * 196, 8 * 196, 10])


CONV_SPECS = [
    ({"family": "resnet_cifar", "depth": 8, "width": 4}, (3, 8, 8)),
    ({"family": "resnet18", "width": 0.0625}, (3, 16, 16)),
    ({"family": "resnet18", "norm": "group_ws", "width": 0.125}, (3, 16, 16)),
    ({"family": "vgg", "depth": 11, "width": 4}, (3, 16, 16)),
    ({"family": "vgg", "depth": 16, "width": 4, "batch_norm": False, "head": "flatten"}, (3, 32, 32)),
    ({"family": "densenet121", "growth": 4}, (3, 8, 8)),
    ({"family": "small_cnn", "widths": [4, 8], "norm": "batch", "convs_per_stage": 2}, (1, 8, 8)),
    ({"family": "small_cnn", "widths": [4, 8], "norm": "group"}, (1, 8, 8)),
    ({"family": "small_cnn", "widths": [4, 8], "norm": "none"}, (1, 8, 8)),
]
ALL_SPECS = [({"family": "mlp", "depth": 2, "width": 16}, (1, 8, 8))] + CONV_SPECS


@pytest.mark.parametrize("spec, in_shape", CONV_SPECS)
def test_probes_are_pre_relu(spec, in_shape):
    """Every inner conv-family probe sits before a ReLU, so it takes negative values."""
    torch.manual_seed(0)
    model = build_model(spec, in_shape, 10)
    _, acts = model.forward_with_probes(torch.randn(4, *in_shape))
    for name in model.probe_names[1:-1]:
        assert (acts[name] < 0).any(), name


def _ensemble(spec, in_shape, k=3):
    models = []
    for seed in range(k):
        torch.manual_seed(seed)
        models.append(build_model(spec, in_shape, 5).train())
    params, buffers = stack_module_state(models)
    base = copy.deepcopy(models[0]).to("meta")
    return models, params, buffers, base


@pytest.mark.parametrize("spec, in_shape", ALL_SPECS)
def test_vmap_ensemble_matches_members(spec, in_shape):
    models, params, buffers, base = _ensemble(spec, in_shape)
    x = torch.randn(6, *in_shape)

    def call(p, b, inp):
        return functional_call(base, (p, b), (inp,))

    out = torch.vmap(call, in_dims=(0, 0, None))(params, buffers, x)
    for i, m in enumerate(models):
        # fp32 through a deep net in train mode (batch statistics of 6 inputs): the
        # batched and per-member kernels sum in different orders, so ~1e-5 drift is expected
        torch.testing.assert_close(out[i], m(x), rtol=1e-3, atol=1e-4)
        for name, buf in m.named_buffers():
            torch.testing.assert_close(buffers[name][i], buf, rtol=1e-4, atol=1e-6)
    if any("running_mean" in n for n in buffers):
        assert all((buffers[n] == 1).all() for n in buffers if n.endswith("num_batches_tracked"))
    # gradients flow through the stacked parameters
    out.square().mean().backward()
    assert all(p.grad is not None for p in params.values())


@pytest.mark.parametrize("spec, in_shape", ALL_SPECS[:2] + ALL_SPECS[-3:-2])
def test_vmap_probes_with_per_member_data(spec, in_shape):
    """forward_with_probes under vmap, each member on its own batch."""
    models, params, buffers, base = _ensemble(spec, in_shape)

    class Probed(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, inp):
            return self.m.forward_with_probes(inp)

    wrapper = Probed(base)
    x = torch.randn(3, 4, *in_shape)
    state = {f"m.{k}": v for k, v in {**params, **buffers}.items()}
    logits, acts = torch.vmap(lambda s, inp: functional_call(wrapper, s, (inp,)))(state, x)
    for i, m in enumerate(models):
        li, ai = m.forward_with_probes(x[i])
        torch.testing.assert_close(logits[i], li, rtol=1e-4, atol=1e-5)
        assert list(acts) == list(ai)
        for n in ai:
            torch.testing.assert_close(acts[n][i], ai[n], rtol=1e-4, atol=1e-5)


def test_head_parameter_names_and_families():
    for family, defaults in FAMILIES.items():
        small = {"mlp": {"width": 8}, "resnet_cifar": {"width": 2}, "resnet18": {"width": 0.0625},
                 "vgg": {"width": 2}, "densenet121": {"growth": 2}, "small_cnn": {"widths": [2]}}
        model = build_model({"family": family, **small[family]}, CIFAR, 7)
        assert head_parameter_names(model) == ["head.weight", "head.bias"]
        assert model.head.out_features == 7
        assert set(small[family]) <= set(defaults)


def test_build_model_errors():
    with pytest.raises(ValueError, match="unknown model family 'resnet50'.*mlp"):
        build_model({"family": "resnet50"}, CIFAR, 10)
    with pytest.raises(ValueError, match="unknown key 'dropout'.*depth"):
        build_model({"family": "mlp", "dropout": 0.1}, CIFAR, 10)
    with pytest.raises(ValueError, match="6n\\+2"):
        build_model({"family": "resnet_cifar", "depth": 18}, CIFAR, 10)
    with pytest.raises(ValueError, match="norm"):
        build_model({"family": "small_cnn", "norm": "layer"}, CIFAR, 10)
    with pytest.raises(ValueError, match="too small"):
        build_model({"family": "vgg", "head": "flatten", "width": 4}, (1, 28, 28), 10)
    with pytest.raises(ValueError, match="not both"):
        build_model({"family": "vgg", "depth": 11, "plan": [4, "M", 8]}, CIFAR, 10)


def test_layers():
    assert [group_count(c) for c in (64, 16, 48, 24, 7)] == [32, 16, 24, 24, 7]
    assert isinstance(norm_layer("none", 8), torch.nn.Identity)
    conv = WSConv2d(4, 6, 3, padding=1)
    with torch.no_grad():
        conv.weight.mul_(5).add_(2)
    ref = torch.nn.Conv2d(4, 6, 3, padding=1)
    w = conv.weight
    with torch.no_grad():
        ref.weight.copy_((w - w.mean((1, 2, 3), keepdim=True)) / w.std((1, 2, 3), keepdim=True, unbiased=False))
        ref.bias.copy_(conv.bias)
    x = torch.randn(2, 4, 5, 5)
    torch.testing.assert_close(conv(x), ref(x), rtol=1e-4, atol=1e-5)


def test_openlth_init():
    torch.manual_seed(0)
    m = build_model({"family": "resnet_cifar", "width": 16, "init": "openlth"}, CIFAR, 10)
    bn = m.stem_bn
    assert (bn.weight >= 0).all() and (bn.weight <= 1).all() and (bn.bias == 0).all()
    assert bn.weight.std() > 0.1                       # U(0,1), not PyTorch's constant 1
    w = m.blocks[3].conv1.weight                       # 16 -> 32 channels, fan_in 144
    assert abs(w.std().item() - (2 / 144) ** 0.5) < 0.02


def test_mlp_depth_zero_is_softmax_regression():
    m = build_model({"family": "mlp", "depth": 0}, (1, 8, 8), 10)
    assert m.probe_names == ["input", "softmax"]
    assert count_parameters(m) == 64 * 10 + 10


def test_mlp_kaiming_init():
    m = build_model({"family": "mlp", "depth": 3, "width": 512, "init": "kaiming"}, (1, 16, 16), 10)
    w = m.hidden[1].weight
    assert abs(w.std().item() - (2 / 512) ** 0.5) < 0.003
    assert all(float(l.bias.abs().max()) == 0.0 for l in m.hidden)
