#!/usr/bin/env python3
"""Writes scikit-learn's confusion matrix and classification report for fixed label sets, so
the Swift metrics are checked against figures computed by scikit-learn.

    python3 Tools/make_metrics_fixtures.py   # needs: pip install scikit-learn
"""
import json
import pathlib

import numpy as np
from sklearn.metrics import classification_report, confusion_matrix

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ZooTests" / "Fixtures"


def case(name, truth, predictions, classes):
    labels = list(range(len(classes)))
    report = classification_report(
        truth, predictions, labels=labels, target_names=classes, output_dict=True,
        zero_division=0)
    text = classification_report(
        truth, predictions, labels=labels, target_names=classes, zero_division=0)
    return {
        "name": name,
        "classes": classes,
        "truth": [int(v) for v in truth],
        "predictions": [int(v) for v in predictions],
        "confusion": confusion_matrix(truth, predictions, labels=labels).tolist(),
        "accuracy": float(report["accuracy"]),
        "per_class": [
            {k: float(report[c][k]) for k in ("precision", "recall", "f1-score", "support")}
            for c in classes
        ],
        "macro": {k: float(v) for k, v in report["macro avg"].items()},
        "weighted": {k: float(v) for k, v in report["weighted avg"].items()},
        "text": text,
    }


def main():
    rng = np.random.default_rng(0)
    # A noisy 4-class classifier: mostly right, with one class never predicted.
    truth = rng.integers(0, 4, size=200)
    predictions = np.where(rng.random(200) < 0.7, truth, rng.integers(0, 4, size=200))
    predictions[predictions == 3] = 2
    # Ten classes with uneven support, one of them absent from the truth.
    truth10 = rng.choice(9, size=500, p=np.linspace(1, 3, 9) / np.linspace(1, 3, 9).sum())
    predictions10 = np.where(rng.random(500) < 0.6, truth10, rng.integers(0, 10, size=500))
    cases = [
        case("noisy-4", truth, predictions, ["cat", "dog", "bird", "fish"]),
        case("uneven-10", truth10, predictions10, [f"c{i}" for i in range(10)]),
    ]
    (OUT / "classification_report.json").write_text(json.dumps(cases, indent=1) + "\n")


if __name__ == "__main__":
    main()
