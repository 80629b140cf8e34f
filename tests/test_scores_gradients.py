"""GraNd, EL2N and VoG against per-example autograd loops on tiny models (spec 003 §3.2, §6.4)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pointwise.models import build_model, count_parameters
from pointwise.scores import (VoGAccumulator, el2n, grand, grand_el2n, input_gradients, vog,
                              vog_from_gradients)


def _perturbed_state(model, seed, scale=0.3):
    """A checkpoint that differs from the model's weights, with non-trivial BN statistics."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, v in model.state_dict().items():
        if v.is_floating_point():
            noise = torch.randn(v.shape, generator=g, dtype=v.dtype)
            out[k] = v.abs() + 0.5 if k.endswith("running_var") else v + scale * noise
        else:
            out[k] = v.clone()
    return out


def _loop_reference(model, state, x, y):
    """GraNd and EL2N one example at a time with ordinary autograd (the definition)."""
    model = build_like(model)
    model.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in state.items()})
    model.double().eval()
    norms, logits = [], []
    for i in range(len(y)):
        model.zero_grad()
        out = model(x[i:i + 1].double())
        F.cross_entropy(out, y[i:i + 1]).backward()
        norms.append(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters())).item())
        logits.append(out.detach()[0].numpy())
    return np.array(norms), el2n(np.array(logits), y.numpy())


SPECS = {
    "mlp2": ({"family": "mlp", "depth": 1, "width": 16}, (1, 4, 4)),
    "resnet_bn": ({"family": "resnet_cifar", "depth": 8, "width": 4, "init": "openlth"}, (1, 6, 6)),
}


def build_like(model):
    spec, shape = model._test_spec
    m = build_model(spec, shape, 5)
    m._test_spec = model._test_spec
    return m


def make(name, seed=0):
    torch.manual_seed(seed)
    spec, shape = SPECS[name]
    m = build_model(spec, shape, 5)
    m._test_spec = (spec, shape)
    return m, shape


@pytest.mark.parametrize("name", list(SPECS))
def test_grand_el2n_match_per_example_loop(name):
    model, shape = make(name)
    state = _perturbed_state(model, 1)
    g = torch.Generator().manual_seed(2)
    x = torch.randn((13,) + shape, generator=g)
    y = torch.randint(0, 5, (13,), generator=g)
    ref_g, ref_e = _loop_reference(model, state, x, y)
    model.train()
    got_g, got_e = grand_el2n(model, state, x, y, chunk=5)     # chunks of uneven size
    assert model.training                                        # mode restored
    np.testing.assert_allclose(got_g, ref_g, rtol=1e-10)
    np.testing.assert_allclose(got_e, ref_e, rtol=1e-10)
    # float32 path within float tolerance, and the model's own weights untouched
    before = {k: v.clone() for k, v in model.state_dict().items()}
    g32 = grand(model, state, x, y, dtype=torch.float32, chunk=64)
    np.testing.assert_allclose(g32, ref_g, rtol=2e-4)
    for k, v in model.state_dict().items():
        assert torch.equal(v, before[k])


def test_grand_chunk_limited_by_memory_budget():
    model, shape = make("mlp2")
    state = _perturbed_state(model, 3)
    x = torch.randn((9,) + shape)
    y = torch.randint(0, 5, (9,))
    n = count_parameters(model)
    a = grand(model, state, x, y, chunk=64)
    b = grand(model, state, x, y, chunk=64, max_chunk_bytes=2 * n * 8)   # 2 examples per call
    np.testing.assert_allclose(a, b, rtol=1e-12)


def _vog_reference(model, states, x, y):
    """Direct VoG: per-example input gradients of p_y one example at a time, stacked."""
    grads = []
    for sd in states:
        m = build_like(model)
        m.load_state_dict(sd)
        m.eval()
        per = []
        for i in range(len(y)):
            xi = x[i:i + 1].clone().requires_grad_(True)
            p = torch.softmax(m(xi), 1)[0, y[i]]
            (gi,) = torch.autograd.grad(p, xi)
            per.append(gi[0].numpy())
        grads.append(np.stack(per))
    grads = np.stack(grads).astype(np.float64)                  # [E, N, C, H, W]
    gbar = grads.mean(axis=2)
    return gbar.var(axis=0, ddof=1).mean(axis=(1, 2)), grads


def test_vog_matches_direct_computation():
    model, _ = make("resnet_bn")
    shape = (3, 6, 6)                                           # 3 channels: channel averaging
    spec = SPECS["resnet_bn"][0]
    torch.manual_seed(0)
    model = build_model(spec, shape, 5)
    model._test_spec = (spec, shape)
    states = [_perturbed_state(model, s, 0.2) for s in range(3)]
    g = torch.Generator().manual_seed(5)
    x = torch.randn((8,) + shape, generator=g)
    y = torch.randint(0, 5, (8,), generator=g)
    ref, grads = _vog_reference(model, states, x, y)
    got = vog(model, states, x, y, chunk=4)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-12)
    np.testing.assert_allclose(vog_from_gradients(grads), ref, rtol=1e-12)
    # float64 path agrees more tightly
    got64 = vog(model, states, x, y, dtype=torch.float64)
    np.testing.assert_allclose(got64, ref, rtol=1e-4)
    # ddof=0 variant and the online accumulator
    acc = VoGAccumulator()
    for gr in grads:
        acc.add(gr)
    np.testing.assert_allclose(acc.score(ddof=0), grads.mean(2).var(0).mean((1, 2)), rtol=1e-10)


def test_vog_zero_for_constant_gradients():
    model, shape = make("resnet_bn")
    state = _perturbed_state(model, 1)
    x = torch.randn((6,) + shape)
    y = torch.randint(0, 5, (6,))
    assert (vog(model, [state, state, state], x, y) == 0).all()
    acc = VoGAccumulator()
    for _ in range(5):
        acc.add(np.full((4, 2, 3, 3), 1e3 + 0.1))
    assert (acc.score() == 0).all()
    with pytest.raises(ValueError):
        VoGAccumulator().score()


def test_input_gradients_loss_target():
    model, shape = make("mlp2")
    state = _perturbed_state(model, 1)
    x = torch.randn((5,) + shape)
    y = torch.randint(0, 5, (5,))
    g = input_gradients(model, state, x, y, target="loss", dtype=torch.float64)
    m = build_like(model)
    m.load_state_dict(state)
    m.double().eval()
    xi = x.double().clone().requires_grad_(True)
    (ref,) = torch.autograd.grad(F.cross_entropy(m(xi), y, reduction="sum"), xi)
    np.testing.assert_allclose(g.numpy(), ref.numpy(), rtol=1e-10)
    with pytest.raises(ValueError):
        input_gradients(model, state, x, y, target="logit")


def test_model_from_checkpoint_and_snapshots():
    from pointwise.scores import model_from_checkpoint, snapshot_states
    spec = {"family": "mlp", "depth": 1, "width": 8}
    torch.manual_seed(0)
    ref = build_model(spec, (1, 4, 4), 3)
    ckpt = {"state_dict": ref.state_dict(), "arch": spec, "in_shape": [1, 4, 4], "num_classes": 3,
            "preprocess": {"mean": [0.5], "std": [0.25], "pad": [0, 0, 0, 0]}}
    model, sd, pre = model_from_checkpoint(ckpt)
    imgs = torch.full((2, 1, 4, 4), 255, dtype=torch.uint8)
    x = pre(imgs)
    assert torch.allclose(x, torch.full_like(x, 2.0))
    y = torch.tensor([0, 2])
    np.testing.assert_allclose(grand(model, sd, x, y), grand(ref, ref.state_dict(), x, y))
    snaps = {"epochs": [5.0, 10.0], "state_dicts": [sd, sd]}
    assert [e for e, _ in snapshot_states(snaps)] == [5.0, 10.0]
    assert snapshot_states(snaps, [10])[0][0] == 10.0
    with pytest.raises(KeyError):
        snapshot_states(snaps, [7])
