#!/usr/bin/python3
"""E1 tables and time-to-quality curves from the programs' own CSVs (docs/experiments/dcgan.md).

  /usr/bin/python3 scripts/e1_report.py RUN_DIR [RUN_DIR ...] [--labels a,b] [--x train_cpu_seconds]
                                        [--plot curves.png] [--modes modes.png]

Each RUN_DIR holds the metrics.csv of examples/dcgan (with --classifier); a path ending in .csv
is read directly (e.g. the copies in docs/experiments/dcgan/). Prints a markdown
table: final IS / FD, their ratios to the real-test ceiling and the real-halves floor, and
the first training time at which IS >= 90% of the ceiling, FD <= 10x the floor, and both.
--plot draws IS and FD against --x with the two bars; --modes draws the class shares over
time (the mode-collapse view of long runs).
"""
import argparse
import csv
import os
import sys


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"e1_report.py: {path} has no rows")
    return [{k: float(v) for k, v in r.items()} for r in rows]


def first(rows, x, ok):
    for r in rows:
        if ok(r):
            return f"{r[x]:.0f}"
    return "not reached"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--labels")
    ap.add_argument("--x", default="train_cpu_seconds")
    ap.add_argument("--plot")
    ap.add_argument("--modes")
    a = ap.parse_args()
    labels = a.labels.split(",") if a.labels else [os.path.basename(r.rstrip("/")).removesuffix(".csv") for r in a.runs]
    data = [read(r if r.endswith(".csv") else os.path.join(r, "metrics.csv")) for r in a.runs]
    print(f"| run | steps | wall s | CPU s | IS (ceiling) | IS / ceiling | FD (floor) | FD / floor | classes | "
          f"IS >= 90% at {a.x} | FD <= 10x at | both at |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for lab, rows in zip(labels, data):
        r = rows[-1]
        is_ok = lambda q: q["is"] >= 0.9 * q["is_real"]
        fd_ok = lambda q: q["fd"] <= 10 * q["fd_halves"]
        print(f"| {lab} | {r['step']:.0f} | {r['train_seconds']:.0f} | {r['train_cpu_seconds']:.0f} | "
              f"{r['is']:.2f} ({r['is_real']:.2f}) | {r['is'] / r['is_real']:.3f} | {r['fd']:.1f} ({r['fd_halves']:.1f}) | "
              f"{r['fd'] / r['fd_halves']:.2f} | {r['covered']:.0f}/10 | {first(rows, a.x, is_ok)} | "
              f"{first(rows, a.x, fd_ok)} | {first(rows, a.x, lambda q: is_ok(q) and fd_ok(q))} |")
    if a.plot or a.modes:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    if a.plot:
        fig, ax = plt.subplots(1, 2, figsize=(11, 4))
        for lab, rows in zip(labels, data):
            xs = [r[a.x] for r in rows]
            ax[0].plot(xs, [r["is"] for r in rows], marker=".", label=lab)
            ax[1].plot(xs, [r["fd"] for r in rows], marker=".", label=lab)
        ref = data[0][0]
        ax[0].axhline(ref["is_real"], color="k", lw=0.8, label="real test (ceiling)")
        ax[0].axhline(0.9 * ref["is_real"], color="k", ls="--", lw=0.8, label="90% of ceiling")
        ax[1].axhline(10 * ref["fd_halves"], color="k", ls="--", lw=0.8, label="10x floor")
        ax[1].axhline(ref["fd_halves"], color="k", lw=0.8, label="real halves (floor)")
        ax[1].set_yscale("log")
        for axis, name in zip(ax, ["Inception Score (classifier)", "Fréchet distance (classifier features)"]):
            axis.set_xlabel(a.x.replace("_", " "))
            axis.set_title(name)
            axis.grid(alpha=0.3)
            axis.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(a.plot, dpi=110)
        print(f"\nwrote {a.plot}")
    if a.modes:
        fig, axes = plt.subplots(1, len(data), figsize=(5.5 * len(data), 3.8), squeeze=False)
        for axis, lab, rows in zip(axes[0], labels, data):
            xs = [r["step"] for r in rows]
            total = [sum(r[f"count_{k}"] for k in range(10)) for r in rows]
            for k in range(10):
                axis.plot(xs, [r[f"count_{k}"] / t for r, t in zip(rows, total)], label=str(k))
            axis.set_title(f"{lab}: class shares of samples")
            axis.set_xlabel("step")
            axis.grid(alpha=0.3)
            axis.legend(fontsize=6, ncol=5)
        fig.tight_layout()
        fig.savefig(a.modes, dpi=110)
        print(f"wrote {a.modes}")


if __name__ == "__main__":
    main()
