"""Augmentation, losses, margins and example streams of the training engine, and the fine-tuning
variants of paper 001 (replay, class-mapped head, L2 to init, per-epoch subsets)."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pointwise.train import augment
from pointwise.train.engine import eval_steps, total_steps
from pointwise.train.losses import label_margin, per_example_loss
from pointwise.train.streams import Stream


def reference_crop_flip(x, dy, dx, flip, pad):
    xp = np.pad(x, ((0, 0), (pad, pad), (pad, pad)))
    h, w = x.shape[1:]
    out = xp[:, dy:dy + h, dx:dx + w]
    return out[:, :, ::-1] if flip else out


def test_augment_matches_per_example_reference():
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.normal(size=(2, 5, 3, 6, 7)).astype(np.float32))   # [E, B, C, H, W]
    params = np.stack([augment.draw_params(rng, 5, 2, True) for _ in range(2)])
    out = augment.apply(x, torch.from_numpy(params), padding=2).numpy()
    for e in range(2):
        for b in range(5):
            dy, dx, fl = params[e, b]
            np.testing.assert_array_equal(out[e, b], reference_crop_flip(x[e, b].numpy(), dy, dx, fl, 2))


def test_augment_centre_offset_is_identity():
    x = torch.arange(2 * 1 * 4 * 4, dtype=torch.float32).reshape(2, 1, 4, 4)
    params = torch.tensor([[1, 1, 0], [1, 1, 0]])
    assert torch.equal(augment.apply(x, params, padding=1), x)


def test_losses_hand_made():
    z = torch.tensor([[2.0, 1.0, 3.0], [0.0, 0.0, 0.0]])
    y = torch.tensor([0, 1])
    # zero-margin hinge: sum_{j != y} max(0, z_j - z_y)
    assert per_example_loss(z, y, "zero_hinge").tolist() == [1.0, 0.0]
    # mse against one-hot, summed over classes
    assert per_example_loss(z, y, "mse").tolist() == [1.0 + 1.0 + 9.0, 0.0 + 1.0 + 0.0]
    torch.testing.assert_close(per_example_loss(z, y, "cross_entropy"),
                               F.cross_entropy(z, y, reduction="none"))
    assert label_margin(z, y).tolist() == [-1.0, 0.0]


def test_stream_presents_every_example_once_per_epoch_and_resumes():
    s = Stream(10, seed=3)
    pos, ep = [], []
    for _ in range(7):                         # 7 batches of 4 = 2.8 epochs, batches straddle epochs
        p, e = s.next(4)
        pos.append(p)
        ep.append(e)
    pos, ep = np.concatenate(pos), np.concatenate(ep)
    for epoch in (0, 1):
        assert sorted(pos[ep == epoch]) == list(range(10))
    state = s.state()
    a = [s.next(3) for _ in range(5)]
    r = Stream.from_state(state)
    b = [r.next(3) for _ in range(5)]
    for (pa, ea), (pb, eb) in zip(a, b):
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(ea, eb)


def test_eval_steps_and_lengths():
    assert total_steps({"epochs": 2}, 100, 32) == 7
    assert total_steps({"steps": 11}, 100, 32) == 11
    assert total_steps({"schedule": {"kind": "phases", "phases": [5, 3]}}, 100, 32) == 8
    # twice per epoch, 10 steps per epoch, 30 steps, plus step 0
    np.testing.assert_array_equal(eval_steps({"eval": {"per_epoch": 2}}, 30, 10.0), [0, 5, 10, 15, 20, 25, 30])
    np.testing.assert_array_equal(eval_steps({"eval": {"count": 4, "at_start": False}}, 100, 10.0), [25, 50, 75, 100])
    np.testing.assert_array_equal(eval_steps({"eval": {"every_steps": 4}}, 10, 3.0), [0, 4, 8, 10])


# ---------------------------------------------------------------- fine-tuning variants (paper 001 §5.5)

def test_l2_to_init_gradient_matches_the_closed_form():
    from pointwise.train.variants import add_l2_to_init_grad_, l2_to_init_penalty
    g = torch.Generator().manual_seed(0)
    theta = {"w": torch.randn(3, 4, 5, generator=g, requires_grad=True),       # [E, ...] stacked
             "b": torch.randn(3, 5, generator=g, requires_grad=True)}
    init = {k: (v.detach() + torch.randn(v.shape, generator=g)) for k, v in theta.items()}
    lam = 0.37
    data_loss = (theta["w"] ** 3).sum() + theta["b"].sum()
    data_loss.backward()
    data_grad = {k: v.grad.clone() for k, v in theta.items()}
    pen = add_l2_to_init_grad_(theta, init, lam)
    for k, v in theta.items():          # d/dθ [λ/2 ||θ − θ0||²] = λ(θ − θ0), added to the data gradient
        torch.testing.assert_close(v.grad, data_grad[k] + lam * (v.detach() - init[k]))
    expect = [0.5 * lam * sum(float(((theta[k][e].detach() - init[k][e]) ** 2).sum()) for k in theta) for e in range(3)]
    torch.testing.assert_close(pen, torch.tensor(expect), rtol=1e-5, atol=1e-6)
    # the same gradient by autograd of the penalty itself
    fresh = {k: v.detach().clone().requires_grad_(True) for k, v in theta.items()}
    l2_to_init_penalty(fresh, init, lam).sum().backward()
    for k in fresh:
        torch.testing.assert_close(fresh[k].grad, lam * (fresh[k].detach() - init[k]))


def test_l2_to_init_alone_decays_geometrically_to_the_pretrained_weights():
    from pointwise.train.variants import add_l2_to_init_grad_
    theta = {"w": torch.tensor([[3.0, -1.0]], requires_grad=True)}
    init = {"w": torch.tensor([[1.0, 1.0]])}
    opt = torch.optim.SGD([theta["w"]], lr=0.1, momentum=0.0)
    lam = 2.0
    for _ in range(5):
        opt.zero_grad(set_to_none=True)
        add_l2_to_init_grad_(theta, init, lam)
        opt.step()
    # θ_k − θ0 = (1 − ηλ)^k (θ_0 − θ0)
    torch.testing.assert_close(theta["w"].detach(), init["w"] + 0.8 ** 5 * torch.tensor([[2.0, -2.0]]))


def test_replay_batch_composition_and_loss():
    from pointwise.train.variants import draw_replay, replay_count, replay_loss
    assert [replay_count(32, r) for r in (0, 1, 10, 0.5, 0.26)] == [0, 32, 320, 16, 8]
    rows = np.arange(100, 107)                         # 7 source examples (dataset rows 100..106)
    streams = [Stream(7, seed=s) for s in (1, 2)]
    drawn = np.concatenate([draw_replay(streams, rows, 3) for _ in range(7)], axis=1)   # 21 = 3 epochs
    assert drawn.shape == (2, 21)
    for m in range(2):
        for e in range(3):                              # every source example once per source epoch
            assert sorted(drawn[m, 7 * e:7 * (e + 1)]) == list(range(100, 107))
    assert not np.array_equal(drawn[0], drawn[1])      # each member its own order
    again = [Stream(7, seed=s) for s in (1, 2)]
    np.testing.assert_array_equal(draw_replay(again, rows, 3), drawn[:, :3])
    # each example weighs 1/B: mean over the target batch + sum over the source examples / B
    t = torch.tensor([[1.0, 3.0], [0.0, 2.0]])
    s = torch.tensor([[2.0, 2.0, 2.0, 2.0], [1.0, 0.0, 0.0, 1.0]])
    assert replay_loss(t, s).tolist() == [2.0 + 8.0 / 2, 1.0 + 2.0 / 2]
    assert replay_loss(t, None).tolist() == [2.0, 1.0]


def test_class_map_and_heads():
    from pointwise.train.variants import DualHead, OutputMap, class_map_index, head_layout, mapped_logits
    idx = class_map_index([[0, 1], [2], [3, 4, 5]], 6)
    assert idx.tolist() == [[0, 1, 0], [2, 2, 2], [3, 4, 5]]
    z = torch.tensor([[0.5, 2.0, -1.0, 0.0, 4.0, 1.0]])
    assert mapped_logits(z, idx).tolist() == [[2.0, -1.0, 4.0]]
    for bad in ([[0], []], [[0], [6]], [[-1], [1]]):
        with pytest.raises(ValueError):
            class_map_index(bad, 6)
    target, source = torch.nn.Linear(3, 2), torch.nn.Linear(3, 5)
    head = DualHead(target, source)
    assert sorted(n for n, _ in head.named_parameters()) == ["bias", "source.bias", "source.weight", "weight"]
    x = torch.randn(4, 3)
    out = head(x)
    om = OutputMap("separate", 2)
    torch.testing.assert_close(om.target(out), target(x))
    torch.testing.assert_close(om.source(out), source(x))
    mm = OutputMap("mapped", 3, idx)
    assert mm.target(z).tolist() == [[2.0, -1.0, 4.0]] and torch.equal(mm.source(z), z)
    assert head_layout({}) == "plain" and head_layout({"replay": {"ratio": 1}}) == "separate"
    assert head_layout({"class_map": [[0], [1]], "replay": {"ratio": 1}}) == "mapped"


# ---------------------------------------------------------------- per-epoch subsets (phase-out)

def test_stream_with_schedule_presents_each_epochs_subset_once_and_resumes():
    sched = np.zeros((3, 10), dtype=bool)
    sched[0] = True
    sched[1, [0, 2, 4, 6, 8, 9]] = True
    sched[2, [2, 9]] = True
    s = Stream(10, seed=5, schedule=sched)
    pos, ep = [], []
    for _ in range(6):                                  # 6 x 3 = 18 = 10 + 6 + 2
        p, e = s.next(3)
        pos.append(p)
        ep.append(e)
    pos, ep = np.concatenate(pos), np.concatenate(ep)
    for e in range(3):
        assert sorted(pos[ep == e]) == np.flatnonzero(sched[e]).tolist()
    state = s.state()
    a = [s.next(4) for _ in range(3)]                   # past the schedule: the last row repeats
    assert set(np.concatenate([p for p, _ in a]).tolist()) == {2, 9}
    r = Stream.from_state(state)
    for (pa, ea), (pb, eb) in zip(a, [r.next(4) for _ in range(3)]):
        np.testing.assert_array_equal(pa, pb)
        np.testing.assert_array_equal(ea, eb)
    with pytest.raises(ValueError):
        Stream(3, seed=0, schedule=np.array([[True, True, True], [False, False, False]]))


def test_epoch_clock_and_member_masks():
    from pointwise.train.epochs import EpochClock, member_mask
    c = EpochClock([10, 6, 2], batch=2)                 # epochs of 5, 3 and 1 steps
    np.testing.assert_allclose(c.bounds, [0, 5, 8, 9])
    np.testing.assert_allclose(c.step_at([0, 1, 1.5, 3, 4]), [0, 5, 6.5, 9, 10])
    np.testing.assert_allclose(c.epoch_at([0, 5, 6.5, 9, 11]), [0, 1, 1.5, 3, 5])
    assert c.total_steps(3) == 9 and c.total_steps(2.5) == 9
    np.testing.assert_array_equal(eval_steps({"eval": {"per_epoch": 1}}, 9, 3.0, c), [0, 5, 8, 9])
    # the member's columns follow np.sort(pool_rows[train_row])
    pool_rows = np.array([7, 3, 5, 1])
    mask = np.array([[True, True, True, True], [True, False, False, True]])
    m = member_mask(mask, np.array([True, True, False, True]), pool_rows)   # rows 7, 3, 1 -> sorted 1, 3, 7
    np.testing.assert_array_equal(m, [[True, True, True], [True, False, True]])
    with pytest.raises(ValueError):
        member_mask(np.array([[True, True, True, True], [False, False, True, False]]),
                    np.array([True, True, False, True]), pool_rows)
