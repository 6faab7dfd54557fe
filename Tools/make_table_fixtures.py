#!/usr/bin/env python3
"""Writes scikit-learn's bundled Iris and Wine tables as CSV files (features, then the class
name), the real tables the command-line tests train `mlp` on.

    python3 Tools/make_table_fixtures.py   # needs: pip install scikit-learn
"""
import csv
import pathlib

from sklearn.datasets import load_iris, load_wine

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ZooCommandTests" / "Fixtures"


def write(name, bunch):
    OUT.mkdir(parents=True, exist_ok=True)
    names = [n.replace(" (cm)", "").replace(" ", "_").replace("/", "_") for n in bunch.feature_names]
    with open(OUT / f"{name}.csv", "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(names + ["species" if name == "iris" else "cultivar"])
        for row, target in zip(bunch.data, bunch.target):
            out.writerow([repr(float(v)) for v in row] + [bunch.target_names[target]])


write("iris", load_iris())
write("wine", load_wine())
