"""The audit's metrics on hand-computed cases: rank and skew-normal exposure, AUC, TPR at low FPR."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm, skewnorm

from hf_anon_mcp.audit.exposure import (ceiling_bits, chance_bits, fit_skewnorm, rank_exposure, ranks,
                                        skewnorm_exposure)
from hf_anon_mcp.audit.membership import auc, reference_scores, tpr_at_fpr

pytestmark = pytest.mark.audit


# ---- exposure --------------------------------------------------------------------------------------------------

def test_ranks_count_strictly_lower_candidates():
    candidates = np.array([4.0, 1.0, 3.0, 2.0])  # unsorted on purpose
    assert ranks(np.array([0.0, 1.0, 2.5, 4.0, 5.0]), candidates).tolist() == [1, 1, 3, 4, 5]


def test_rank_exposure_by_hand():
    # K = 7 candidates 1..7; ceiling log2(8) = 3 bits.
    candidates = np.arange(1.0, 8.0)
    got = rank_exposure(np.array([0.5, 1.5, 3.5, 7.5]), candidates)
    # ranks 1, 2, 4, 8 -> 3 - 0, 3 - 1, 3 - 2, 3 - 3
    np.testing.assert_allclose(got, [3.0, 2.0, 1.0, 0.0])
    assert ceiling_bits(7) == 3.0


def test_rank_exposure_of_never_seen_values_averages_log2_e():
    # A value drawn like the candidates ranks uniformly: mean exposure -> log2(e) ~ 1.44 bits.
    rng = np.random.default_rng(0)
    candidates = rng.normal(size=1000)
    values = rng.normal(size=4000)
    assert abs(rank_exposure(values, candidates).mean() - chance_bits()) < 0.1
    assert abs(chance_bits() - 1.4427) < 1e-3


def test_rank_exposure_needs_candidates():
    with pytest.raises(ValueError):
        rank_exposure(np.array([1.0]), np.array([]))


def test_skewnorm_exposure_with_given_parameters():
    # a = 0 is the normal distribution: CDF(0) = 1/2 -> 1 bit; CDF(-1) = Phi(-1) -> -log2 Phi(-1).
    got = skewnorm_exposure(np.array([0.0, -1.0, 50.0]), params=(0.0, 0.0, 1.0))
    np.testing.assert_allclose(got, [1.0, -math.log2(norm.cdf(-1.0)), 0.0], atol=1e-9)


def test_skewnorm_exposure_far_tail_is_finite_and_large():
    got = skewnorm_exposure(np.array([-60.0]), params=(0.0, 0.0, 1.0))
    # log Phi(-60) ~ -1804.6 nats ~ -2603 bits: capped at MAX_BITS (1000), never inf/nan (JSON has no inf)
    assert got[0] == 1000.0


def test_skewnorm_fit_recovers_the_tf_privacy_case():
    # tensorflow-privacy's test: perplexities ~ skewnorm(4, 0, 1); exposure = -log2 CDF under the fitted parameters.
    rng = np.random.default_rng(1)
    reference = skewnorm.rvs(4, 0, 1, size=10000, random_state=rng)
    a, loc, scale = fit_skewnorm(reference)
    assert abs(a - 4) < 1.0 and abs(loc) < 0.1 and abs(scale - 1) < 0.1
    values = np.array([0.0, 0.5, 2.0])
    np.testing.assert_allclose(skewnorm_exposure(values, reference),
                               -np.log2(skewnorm.cdf(values, a, loc, scale)), rtol=1e-6)


def test_skewnorm_fit_refuses_constant_candidates():
    with pytest.raises(ValueError):
        fit_skewnorm(np.ones(10))


# ---- membership ----------------------------------------------------------------------------------------------

def test_reference_scores_are_reference_minus_target():
    np.testing.assert_allclose(reference_scores(np.array([1.0, 2.0, 3.0]), np.array([1.5, 2.0, 2.0])),
                               [0.5, 0.0, -1.0])
    with pytest.raises(ValueError):
        reference_scores(np.array([1.0]), np.array([1.0, 2.0]))


def test_auc_by_hand():
    assert auc(np.array([3.0, 4.0]), np.array([1.0, 2.0])) == 1.0
    assert auc(np.array([1.0, 2.0]), np.array([3.0, 4.0])) == 0.0
    # members {1, 3}, non-members {2, 3}: pairs (1,2) 0, (1,3) 0, (3,2) 1, (3,3) 1/2 -> 1.5 / 4
    assert auc(np.array([1.0, 3.0]), np.array([2.0, 3.0])) == 0.375
    # all scores equal: no signal
    assert auc(np.zeros(5), np.zeros(7)) == 0.5


def test_tpr_at_fpr_by_hand():
    non_members = np.arange(100.0)  # 0..99
    members = np.array([99.5, 98.5, 97.0, 10.0])
    # 1% of 100 = 1 non-member (99) may be flagged: threshold just above 98 -> members 99.5, 98.5 -> 2/4
    assert tpr_at_fpr(members, non_members, 0.01) == 0.5
    # 0% FPR: threshold above 99 -> only 99.5
    assert tpr_at_fpr(members, non_members, 0.0) == 0.25
    # 3%: 99, 98, 97 may pass -> threshold above 96 -> 99.5, 98.5, 97.0
    assert tpr_at_fpr(members, non_members, 0.03) == 0.75
    # fewer than 100 non-members: 1% allows none
    assert tpr_at_fpr(np.array([5.0, 1.0]), np.array([0.0, 2.0, 3.0]), 0.01) == 0.5
    # ties with the cut-off non-member are not counted as detected
    assert tpr_at_fpr(np.array([3.0]), np.array([3.0, 1.0]), 0.0) == 0.0
    assert tpr_at_fpr(np.array([1.0]), np.array([0.0]), 1.0) == 1.0
