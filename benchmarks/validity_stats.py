"""Statistics for the grading-validity benchmark, numpy only: correlations, folds' linear maps, RMSE."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def pearson(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Pearson correlation (0 when either side is constant)."""
    a, b = np.asarray(x, float), np.asarray(y, float)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def ranks(x: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ranks with ties averaged."""
    values = np.asarray(x, float)
    order = values.argsort(kind="stable")
    out = np.empty(len(values))
    out[order] = np.arange(len(values), dtype=float)
    for value in np.unique(values):
        tied = values == value
        out[tied] = out[tied].mean()
    return out


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float:
    """Spearman rank correlation."""
    return pearson(ranks(x), ranks(y))


def fit_linear(features: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Least-squares weights, the intercept last."""
    design = np.column_stack([features, np.ones(len(features))])
    return np.linalg.lstsq(design, target, rcond=None)[0]


def cross_validated(features: np.ndarray, target: np.ndarray, folds: np.ndarray) -> np.ndarray:
    """Each fold predicted by a linear map fitted on the other folds only, clipped to 0-5."""
    features = features.reshape(len(target), -1)
    out = np.zeros(len(target))
    for fold in np.unique(folds):
        test = folds == fold
        weights = fit_linear(features[~test], target[~test])
        out[test] = np.column_stack([features[test], np.ones(int(test.sum()))]) @ weights
    return np.clip(out, 0.0, 5.0)


def rmse(predicted: np.ndarray, target: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((predicted - target) ** 2)))


def figures(predicted: Sequence[float] | np.ndarray, mapped: np.ndarray, human: np.ndarray) -> dict[str, Any]:
    """n, Pearson and Spearman of a prediction, and RMSE of its cross-validated 0-5 map."""
    return {"n": len(human), "pearson": round(pearson(predicted, human), 4),
            "spearman": round(spearman(predicted, human), 4), "rmse": round(rmse(mapped, human), 4)}


def fold_maps(scores: np.ndarray, human: np.ndarray, folds: np.ndarray) -> dict[Any, np.ndarray]:
    """Per fold, the linear map score -> grade fitted on every other fold."""
    return {fold: fit_linear(scores[folds != fold].reshape(-1, 1), human[folds != fold]) for fold in np.unique(folds)}
