import math

import pytest

from pointwise.train.schedules import lr_at


def test_constant():
    assert lr_at(17, 100, 10, 0.3, {"kind": "constant"}) == 0.3


def test_cosine_closed_form_per_step():
    s = {"kind": "cosine"}
    assert lr_at(0, 100, 10, 0.1, s) == pytest.approx(0.1)
    assert lr_at(50, 100, 10, 0.1, s) == pytest.approx(0.05)
    assert lr_at(25, 100, 10, 0.1, s) == pytest.approx(0.05 * (1 + math.cos(math.pi / 4)))
    assert lr_at(100, 100, 10, 0.1, {"kind": "cosine", "eta_min": 0.01}) == pytest.approx(0.01)


def test_cosine_per_epoch_is_constant_within_an_epoch():
    s = {"kind": "cosine", "per": "epoch"}
    assert lr_at(10, 100, 10, 0.1, s) == lr_at(19, 100, 10, 0.1, s)
    assert lr_at(20, 100, 10, 0.1, s) < lr_at(19, 100, 10, 0.1, s)


def test_step_schedule_fractions_and_epochs():
    # paper 003: x0.1 at epochs 80 and 120 of 160 (given as epochs or as fractions)
    for ms in ([80, 120], [0.5, 0.75]):
        s = {"kind": "step", "milestones": ms, "gamma": 0.1}
        spe = 10
        assert lr_at(799, 1600, spe, 0.1, s) == pytest.approx(0.1)
        assert lr_at(800, 1600, spe, 0.1, s) == pytest.approx(0.01)
        assert lr_at(1200, 1600, spe, 0.1, s) == pytest.approx(0.001)


def test_phases_table1():
    # paper 002 Table 1, FMNIST ResNet18: [4000, 3000], lr x 1/5 at each new phase
    s = {"kind": "phases", "phases": [4000, 3000], "factor": 0.2}
    assert lr_at(0, 7000, 100, 0.01, s) == pytest.approx(0.01)
    assert lr_at(3999, 7000, 100, 0.01, s) == pytest.approx(0.01)
    assert lr_at(4000, 7000, 100, 0.01, s) == pytest.approx(0.002)
    assert lr_at(6999, 7000, 100, 0.01, s) == pytest.approx(0.002)


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown schedule"):
        lr_at(0, 10, 1, 0.1, {"kind": "linear"})
