"""Membership inference with a reference model (Mireshghallah et al. 2022; Carlini et al., "Membership Inference
Attacks From First Principles" (LiRA), 2022, with one reference model instead of many shadow models). Pure functions
over arrays of per-row losses; `run.py` computes the losses.

For a row x with mean per-token loss L_target(x) under the fine-tuned model and L_ref(x) under the reference (the
base model the fine-tune started from):
    score(x) = L_ref(x) - L_target(x)          (= -(L_target - L_ref); higher = "x was trained on")
The reference removes how hard x is in itself: rare words make every model's loss high, memorisation makes only
the fine-tuned model's loss low. The log-likelihood ratio of the two models is the same number in nats.

Evaluated as a classifier of member vs non-member rows:
    AUC                = P(score(member) > score(non-member)) + 1/2 P(equal)      (0.5 = no signal)
    TPR at FPR <= f    = the largest share of members flagged by a threshold that flags at most a share f of
                         non-members (LiRA's low-FPR view: can an attacker be *sure* about anyone?)
Blind baseline: the same classifier with the base model standing in for the target. Against itself as reference
its score would be 0 for every row, so it uses the base model's own loss, score = -L_base(x). A base model never
saw either set, so its AUC departs from 0.5 only when members and non-members differ in themselves (length, topic,
time): the part of the attack's AUC that such a difference, not memorisation, could explain.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import rankdata


def reference_scores(target_losses: np.ndarray, reference_losses: np.ndarray) -> np.ndarray:
    """`L_ref - L_target` per row.

    >>> reference_scores(np.array([1.0, 2.0]), np.array([3.0, 2.5]))
    array([2. , 0.5])
    """
    target = np.asarray(target_losses, dtype=float)
    reference = np.asarray(reference_losses, dtype=float)
    if target.shape != reference.shape:
        raise ValueError("target and reference losses must cover the same rows")
    return reference - target


def auc(member_scores: np.ndarray, non_member_scores: np.ndarray) -> float:
    """Area under the ROC curve of `score >= t` as the "member" decision (Mann-Whitney U / (n_m * n_n)).

    >>> auc(np.array([3.0, 4.0]), np.array([1.0, 2.0]))
    1.0
    >>> auc(np.array([1.0, 3.0]), np.array([2.0, 3.0]))   # pairs: 1<2, 1<3, 3>2, 3=3 -> (0+0+1+0.5)/4
    0.375
    """
    pos = np.asarray(member_scores, dtype=float)
    neg = np.asarray(non_member_scores, dtype=float)
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("AUC needs at least one member and one non-member")
    ranks = rankdata(np.concatenate([pos, neg]))  # average ranks for ties
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def tpr_at_fpr(member_scores: np.ndarray, non_member_scores: np.ndarray, fpr: float = 0.01) -> float:
    """Largest share of members with `score >= t` over thresholds t with a share of non-members `>= t` at most
    `fpr`. With n non-members, floor(fpr * n) of them may be flagged; the threshold sits just above the next one.

    >>> tpr_at_fpr(np.array([99.5, 98.5, 50.0, 10.0]), np.arange(100.0), fpr=0.01)   # one non-member (99) may pass
    0.5
    """
    pos = np.asarray(member_scores, dtype=float)
    neg = np.sort(np.asarray(non_member_scores, dtype=float))[::-1]
    if len(pos) == 0 or len(neg) == 0:
        raise ValueError("TPR at FPR needs at least one member and one non-member")
    allowed = math.floor(fpr * len(neg) + 1e-9)
    if allowed >= len(neg):
        return 1.0
    return float(np.mean(pos > neg[allowed]))
