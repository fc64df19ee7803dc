"""Ensembles the way the book says they work: members that are good **and different** (a gradient
boosted tree model beside a neural network, not seeds of one network), averaged with weights chosen
on validation data, never on the test set. Taught in chapter 16.
"""

from __future__ import annotations

import numpy as np


def weighted_average(member_predictions, weights) -> np.ndarray:
    """``sum_i weights[i] * member_predictions[i]`` for predictions of one shape (probabilities or
    values). Taught in chapter 16."""
    predictions = np.asarray(member_predictions, dtype="float64")
    weights = np.asarray(weights, dtype="float64")
    if predictions.ndim < 2 or len(weights) != len(predictions):
        raise ValueError(f"Need one weight per member: {len(weights)} weights for predictions of shape "
                         f"{predictions.shape} (members first).")
    return np.tensordot(weights, predictions, axes=1)


def log_loss(probabilities, labels) -> float:
    """Mean negative log-probability of the true class; ``probabilities`` are ``(N, classes)``, or
    ``(N,)`` for the positive class of a binary task. Taught in chapter 16."""
    p = np.asarray(probabilities, dtype="float64")
    labels = np.asarray(labels).reshape(-1).astype(int)
    if p.ndim == 2 and p.shape[1] == 1:
        p = p[:, 0]
    if p.ndim == 1:
        p = np.stack([1 - p, p], axis=1)
    if p.ndim != 2 or len(p) != len(labels):
        raise ValueError(f"log_loss needs one row of probabilities per label: probabilities of shape "
                         f"{np.shape(probabilities)} for {len(labels)} labels.")
    if labels.size and (labels.min() < 0 or labels.max() >= p.shape[1]):
        raise ValueError(f"labels must be class indices in [0, {p.shape[1]}); got values from {labels.min()} "
                         f"to {labels.max()}.")
    return float(-np.mean(np.log(np.clip(p[np.arange(len(labels)), labels], 1e-12, 1.0))))


def ensemble_weights(member_probabilities, labels) -> np.ndarray:
    """Non-negative weights summing to 1 that minimize the validation log loss of the weighted
    average of the members' class probabilities (a smooth convex problem: solved by SciPy's SLSQP on
    the simplex). Pass **validation** predictions. Taught in chapter 16."""
    from scipy.optimize import minimize

    members = np.asarray(member_probabilities, dtype="float64")
    count = len(members)
    if count < 2:
        raise ValueError(f"An ensemble needs at least two members, got {count}.")
    result = minimize(lambda w: log_loss(weighted_average(members, w), labels), np.full(count, 1.0 / count),
                      method="SLSQP", bounds=[(0.0, 1.0)] * count,
                      constraints=[{"type": "eq", "fun": lambda w: np.sum(w) - 1.0}])
    weights = np.clip(result.x, 0.0, None)
    if not result.success or weights.sum() <= 0:
        raise RuntimeError(f"Choosing the ensemble's weights failed ({result.message}); check that every member "
                           "gives finite probabilities for the same validation samples.")
    return weights / weights.sum()
