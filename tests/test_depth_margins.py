"""Output margin and the linearised input margin (spec 002 §3.7)."""
import numpy as np
import pytest
import torch

from pointwise.depth import input_margin, output_margin
from pointwise.models import build_model


def test_output_margin():
    z = np.array([[1.0, 3.0, 2.5], [0.0, 0.0, -1.0], [5.0, -2.0, 1.0]])
    np.testing.assert_allclose(output_margin(z), [0.5, 0.0, 4.0])
    assert output_margin(np.zeros((2, 4, 3))).shape == (2, 4)


@pytest.mark.parametrize("method", ["autograd", "jacrev"])
def test_input_margin_linear_model_closed_form(method):
    """z = Wx + b: the linearisation is exact, gamma = min_j |z_i - z_j| / ||w_i - w_j||."""
    torch.manual_seed(0)
    lin = torch.nn.Linear(12, 5).double()
    x = torch.randn(37, 12, dtype=torch.float64)
    got = input_margin(lin.float(), x.float(), batch_size=8, method=method)
    W, b = lin.weight.detach().double().numpy(), lin.bias.detach().double().numpy()
    z = x.numpy() @ W.T + b
    i = z.argmax(1)
    ref = np.empty(37)
    for n in range(37):                       # closed form, per example (reference only)
        ref[n] = min(abs(z[n, i[n]] - z[n, j]) / np.linalg.norm(W[i[n]] - W[j]) for j in range(5) if j != i[n])
    np.testing.assert_allclose(got, ref, rtol=1e-4)
    # the margin is the distance to the nearest decision boundary: stepping just past it flips
    n = 0
    j = min((j for j in range(5) if j != i[n]),
            key=lambda j: abs(z[n, i[n]] - z[n, j]) / np.linalg.norm(W[i[n]] - W[j]))
    d = (W[j] - W[i[n]]) / np.linalg.norm(W[j] - W[i[n]])
    x_adv = x[n].numpy() + d * got[n] * 1.001
    assert (x_adv @ W.T + b).argmax() != i[n]


def test_input_margin_given_class_and_methods_agree_on_mlp():
    torch.manual_seed(1)
    mlp = build_model({"family": "mlp", "depth": 2, "width": 16}, (1, 4, 4), 4)
    x = torch.randn(20, 1, 4, 4)
    a = input_margin(mlp, x, batch_size=7)
    b = input_margin(mlp, x, batch_size=20, method="jacrev")
    np.testing.assert_allclose(a, b, rtol=1e-5)
    assert (a > 0).all() and mlp.training            # state restored
    # for a given class, the margin uses that class as i
    pred = torch.zeros(20, dtype=torch.int64).numpy()
    c = input_margin(mlp, x, pred=pred)
    with torch.no_grad():
        z = mlp.eval()(x)
    wrong = z.argmax(1).numpy() != 0
    assert wrong.any() and np.all(c[~wrong] == pytest.approx(a[~wrong], rel=1e-5))
