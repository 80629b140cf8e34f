"""Paper 000 non-monotonicity score (App. B, spec §3.3), taxonomy (§3.1, spec §3.4) and the
score table (spec §7.1) on hand-made profiles."""
import numpy as np
import pytest

from pointwise.profiles.build import Profiles
from pointwise.profiles.nmono import nmono, survival
from pointwise.profiles.scores import score_table
from pointwise.profiles.taxonomy import (CATEGORIES, classify, prototypes, taxonomy_fractions,
                                         template_distances)

G = np.linspace(0.3, 0.8, 50)


def test_nmono_monotone_is_zero():
    assert nmono(G) == 0
    assert nmono(np.full(50, 0.4)) == 0
    assert nmono(np.r_[0.0, 0.0, 0.5, 0.5, 1.0]) == 0


def test_nmono_single_bump_equals_its_height():
    # rises to 0.8, drops to 0.5 (a drop of 0.3), then rises to 1: nmono = 0.3
    p = np.r_[np.linspace(0.0, 0.8, 20), np.linspace(0.8, 0.5, 10)[1:], np.linspace(0.5, 1.0, 22)[1:]]
    assert nmono(p) == pytest.approx(0.3, abs=1e-12)
    # the integral of the piecewise-linear interpolant does not depend on the sampling
    assert nmono(np.r_[0.0, 0.8, 0.5, 1.0]) == pytest.approx(0.3, abs=1e-12)
    # two bumps add; a fully decreasing profile reaches the bound b - a
    assert nmono(np.r_[0.2, 0.6, 0.5, 0.9, 0.7, 1.0]) == pytest.approx(0.3, abs=1e-12)
    assert nmono(np.linspace(1, 0, 50)) == pytest.approx(1.0)


def test_nmono_vectorised_over_examples():
    p = np.stack([G, 1 - G, np.r_[0.0, 0.5, 0.25, 1.0].repeat(13)[:50]])
    np.testing.assert_allclose(nmono(p), [0.0, 0.5, 0.25])


def test_survival_is_one_minus_cdf():
    s = np.array([0.0, 0.1, 0.2, 0.3])
    np.testing.assert_allclose(survival(s, [0.0, 0.1, 0.25, 0.4]), [1.0, 0.75, 0.25, 0.0])


def _bump(height, base=0.5):
    """Profile rising from base-0.1 to base+h/2, dropping by ``height``, then rising again."""
    a = np.interp(np.arange(50), [0, 20, 30, 49], [base - 0.1, base + height / 2,
                                                    base - height / 2, base + 0.2])
    return a


def test_taxonomy_of_each_class():
    prof = np.stack([
        np.full(50, 0.97),             # easy
        np.full(50, 0.04),             # hard
        G.copy(),                      # compatible
        0.9 * G + 0.03,                # still nearest to p
        _bump(0.3),                    # non-monotone (nmono 0.3)
        np.interp(G, [0.3, 0.8], [0.1, 0.95]),  # steep but monotone -> compatible
        _bump(0.0625, base=0.95),      # small wiggle near 1 (nmono 0.0625 <= 0.1) -> easy
    ])
    cats = classify(prof, G)
    assert list(cats) == ["easy", "hard", "compatible", "compatible", "non-monotone",
                          "compatible", "easy"]
    d = template_distances(prof[:3], G)
    assert d[0, 0] == pytest.approx(0.03) and d[1, 1] == pytest.approx(0.04)
    assert d[2, 2] == pytest.approx(0.0)
    assert d[2, 0] == pytest.approx(np.sqrt(((1 - G) ** 2).mean()))


def test_taxonomy_threshold_is_strict_and_ties_go_easy_first():
    at = np.r_[np.full(25, 0.5), np.full(25, 0.375)]        # nmono exactly 0.125
    below = np.r_[np.full(25, 0.5), np.full(25, 0.4375)]    # nmono exactly 0.0625
    cats = classify(np.stack([at, below]), G, threshold=0.125)
    assert "non-monotone" not in set(cats)                   # 0.125 is not > 0.125
    assert classify(np.stack([at]), G)[0] == "non-monotone"
    g2 = np.array([0.0, 1.0])
    three_way = np.array([[0.5, 0.5]])                       # 0.5 from all three templates
    easy_hard = np.array([[1.0, 0.0]])                       # easy = hard < compatible
    hard_compat = np.array([[0.0, 0.5]])                     # hard = compatible < easy
    assert classify(three_way, g2)[0] == "easy"
    assert classify(easy_hard, g2, threshold=2.0)[0] == "easy"
    assert classify(hard_compat, g2)[0] == "hard"


def test_fractions_and_prototypes():
    prof = np.stack([np.full(50, 0.99), np.full(50, 0.9), np.full(50, 0.01), G, _bump(0.4),
                     _bump(0.2)])
    cats = classify(prof, G)
    fr = taxonomy_fractions(cats).set_index("category")
    assert list(fr.index) == list(CATEGORIES)
    assert fr.loc["easy", "count"] == 2 and fr.loc["non-monotone", "fraction"] == pytest.approx(2 / 6)
    assert fr["fraction"].sum() == pytest.approx(1.0)
    proto = prototypes(prof, G, k=1)
    assert proto["easy"][0] == 0 and proto["non-monotone"][0] == 4
    assert proto["hard"][0] == 2 and proto["compatible"][0] == 3
    fr0 = taxonomy_fractions(np.array(["hard", "hard"], dtype=object)).set_index("category")
    assert fr0.loc["easy", "count"] == 0 and fr0.loc["hard", "fraction"] == 1.0


def test_score_table_columns():
    acc = np.stack([G, _bump(0.3)])
    prof = Profiles(G, acc, np.array([3, 7]), None, -np.stack([1 - G, G]), acc.copy())
    df = score_table(prof, ids=[11, 12], final_acc=[0.8, 0.6], half_a=prof, half_b=prof)
    assert list(df.columns) == ["idx", "label", "source_id", "nmono_acc", "nmono_negent",
                                "nmono_softacc", "l2_easy", "l2_hard", "l2_compat", "category",
                                "final_acc", "nmono_acc_halfA", "nmono_acc_halfB"]
    assert list(df.category) == ["compatible", "non-monotone"]
    assert df.nmono_negent.tolist() == pytest.approx([0.0, 0.5])
    assert df.nmono_acc_halfA.tolist() == pytest.approx(df.nmono_acc.tolist())
