"""Augmentation, losses, margins and example streams of the training engine."""
import numpy as np
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
