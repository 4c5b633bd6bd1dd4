"""The stance labels, in the order every classifier's probabilities come in."""

from __future__ import annotations

LABELS = ("against", "neutral", "favor")


def label_of(probabilities) -> str:
    """The label of the highest of three probabilities in LABELS order."""
    return LABELS[max(range(len(LABELS)), key=lambda i: probabilities[i])]
