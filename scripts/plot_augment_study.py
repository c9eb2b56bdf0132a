#!/usr/bin/python3
"""E3 small multiples: one panel per z recipe v1..v8, its test accuracy against the baseline's.

  /usr/bin/python3 scripts/plot_augment_study.py out/augment_study/mnist/study -o panels.png

Reads <dir>/baseline.csv and <dir>/v1.csv .. v8.csv (written by examples/augment_study);
missing variants are skipped. --ylim LO,HI (default: from the data's last half), --title.
Uses Debian's python3-matplotlib (run with /usr/bin/python3).
"""

import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

RECIPES = {
    "v1": "N(0,1)^100",
    "v2": "100 dims, 2 decimals",
    "v3": "100 dims, 1 decimal",
    "v4": "5 dims, 1 decimal",
    "v5": "10 dims, 1 decimal",
    "v6": "15 dims, 1 decimal",
    "v7": "20 dims, 1 decimal",
    "v8": "25 dims, 1 decimal",
}


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return [float(r["step"]) for r in rows], [float(r["test_acc"]) for r in rows]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dir")
    p.add_argument("-o", "--out", required=True)
    p.add_argument("--ylim", default="")
    p.add_argument("--title", default="")
    a = p.parse_args()
    base_path = os.path.join(a.dir, "baseline.csv")
    if not os.path.exists(base_path):
        sys.exit(f"plot_augment_study.py: error: no {base_path}")
    bx, by = read(base_path)
    runs = [(v, read(os.path.join(a.dir, v + ".csv"))) for v in RECIPES if os.path.exists(os.path.join(a.dir, v + ".csv"))]
    if a.ylim:
        lo, hi = (float(s) for s in a.ylim.split(","))
    else:  # zoom on the second half of training, where the study's claims live
        tail = by[len(by) // 2:] + [y for _, (_, ys) in runs for y in ys[len(ys) // 2:]]
        lo, hi = min(tail) - 0.002, max(tail) + 0.002
    fig, axes = plt.subplots(2, 4, figsize=(16, 7), sharex=True, sharey=True)
    for ax, (v, (x, y)) in zip(axes.flat, runs):
        ax.plot(bx, by, color="0.55", lw=1, label="baseline (real only)")
        ax.plot(x, y, color="C0", lw=1, label=f"{v}: half generated")
        ax.set_title(f"{v}: z = {RECIPES[v]}", fontsize=10)
        ax.set_ylim(lo, hi)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    for ax in list(axes.flat)[len(runs):]:
        ax.axis("off")
    for ax in axes[1]:
        ax.set_xlabel("step")
    for ax in axes[:, 0]:
        ax.set_ylabel("test accuracy")
    if a.title:
        fig.suptitle(a.title)
    fig.tight_layout()
    fig.savefig(a.out, dpi=90)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
