"""Exposure of a canary (Carlini et al., "The Secret Sharer", 2019): how far above random values of its format a
model ranks it. Pure functions over arrays of log-perplexities; the model-driving code that produces them is in
`run.py`.

Log-perplexity of a sequence s under a model: `lp(s) = -sum_i log2 P(s_i | s_<i)` (bits; lower = more likely).
Every sequence compared shares the format's literal words, so only the random part moves the number.

* Rank exposure, among K random candidates c_1..c_K of the same format:
      rank(s)     = 1 + #{k : lp(c_k) < lp(s)}               (1 = more likely than every candidate)
      exposure(s) = log2(K + 1) - log2(rank(s))              in [0, log2(K + 1)] bits
  A value the model never saw ranks uniformly among the candidates, so its expected exposure is about
  log2(e) ~= 1.44 bits whatever K; a memorised one reaches the ceiling log2(K + 1).

* Skew-normal estimate (the paper's extrapolation, for exposures beyond what K candidates can show): fit a skew-normal
  distribution to the candidates' log-perplexities and read the canary's tail probability:
      exposure_sn(s) = -log2(CDF_fit(lp(s)))
  computed through `logcdf`, so a canary far in the tail gets a finite, large number rather than infinity.

tensorflow-privacy's `secret_sharer/exposures.py` computes the same two quantities (with log2 K for its ceiling).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import skewnorm

MAX_BITS = 1000.0  # cap of the skew-normal estimate (a CDF of 2^-1000 is "never by chance" for any purpose here)


def ranks(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """`1 + (number of candidates with a strictly lower log-perplexity)` for each value.

    >>> ranks(np.array([0.5, 2.5, 9.0]), np.array([1.0, 2.0, 3.0, 4.0]))
    array([1, 3, 5])
    """
    cands = np.sort(np.asarray(candidates, dtype=float))
    return np.searchsorted(cands, np.asarray(values, dtype=float), side="left") + 1


def rank_exposure(values: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """`log2(K + 1) - log2(rank)` bits for each value, K = number of candidates.

    >>> rank_exposure(np.array([0.5, 99.0]), np.arange(1.0, 16.0))   # K = 15: ceiling log2(16) = 4 bits
    array([4., 0.])
    """
    k = len(candidates)
    if k == 0:
        raise ValueError("rank exposure needs at least one candidate")
    return np.log2(k + 1) - np.log2(ranks(values, candidates))


def fit_skewnorm(candidates: np.ndarray) -> tuple[float, float, float]:
    """Skew-normal parameters (shape a, loc, scale) fitted by maximum likelihood to the candidates."""
    cands = np.asarray(candidates, dtype=float)
    if len(cands) < 3 or float(np.std(cands)) == 0.0:
        raise ValueError("the skew-normal fit needs at least 3 candidates that differ")
    a, loc, scale = skewnorm.fit(cands)
    return float(a), float(loc), float(scale)


def skewnorm_exposure(values: np.ndarray, candidates: np.ndarray | None = None, *,
                      params: tuple[float, float, float] | None = None) -> np.ndarray:
    """`-log2(CDF(value))` under a skew-normal fitted to `candidates` (or given `params`), capped at `MAX_BITS`.

    >>> skewnorm_exposure(np.array([0.0]), params=(0.0, 0.0, 1.0))   # a = 0 is the normal: CDF(0) = 1/2
    array([1.])
    """
    a, loc, scale = params if params is not None else fit_skewnorm(candidates)
    log_cdf = skewnorm.logcdf(np.asarray(values, dtype=float), a, loc, scale)
    bits = -np.asarray(log_cdf, dtype=float) / math.log(2)
    return np.clip(np.nan_to_num(bits, nan=0.0, posinf=MAX_BITS), 0.0, MAX_BITS)


def ceiling_bits(k: int) -> float:
    """The highest rank exposure K candidates can show: log2(K + 1)."""
    return math.log2(k + 1)


def chance_bits() -> float:
    """The expected rank exposure of a value the model never saw (rank uniform on 1..K+1, large K): log2(e)."""
    return 1.0 / math.log(2)
