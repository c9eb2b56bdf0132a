#!/usr/bin/python3
"""Turns the CSV logs of gan's example programs into PNG curves.

  /usr/bin/python3 scripts/plot.py out/dcgan/log.csv -o out/dcgan/curves.png
      one panel per column (losses, D(x), accuracy, ...) against `step`
  /usr/bin/python3 scripts/plot.py a/log.csv b/log.csv --y test_acc --labels real,mixed -o acc.png
      several runs on one panel per column, one line each

Options: --x COLUMN (default step), --y COL1,COL2 (default: every numeric column but x and the
bookkeeping columns epoch/seconds/time/elapsed),
--labels for the runs (default: the CSV paths), --smooth N (moving average over N rows,
raw values drawn faintly behind), --title, --ylim LO,HI.
Uses Debian's python3-matplotlib (run with /usr/bin/python3). Standard library otherwise.
"""

import argparse
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # no display on CI machines
import matplotlib.pyplot as plt  # noqa: E402


def fail(msg):
    sys.exit("plot.py: error: " + msg)


def read_csv(path):
    """Returns {column: [float or nan]} for every column whose values parse as numbers."""
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        fail(f"cannot read '{path}': {e.strerror}")
    if not rows:
        fail(f"'{path}' has a header but no rows (or is empty)")
    columns = {}
    for name in rows[0].keys():
        values = []
        for row in rows:
            text = (row.get(name) or "").strip()
            try:
                values.append(float(text) if text else math.nan)
            except ValueError:
                values = None
                break
        if values is not None:
            columns[name] = values
    return columns


def moving_average(values, n):
    out, window = [], []
    for v in values:
        window.append(v)
        if len(window) > n:
            window.pop(0)
        finite = [w for w in window if not math.isnan(w)]
        out.append(sum(finite) / len(finite) if finite else math.nan)
    return out


def main():
    p = argparse.ArgumentParser(description="Plot gan CSV logs as PNG curves.")
    p.add_argument("csv", nargs="+", help="CSV files written by the example programs")
    p.add_argument("-o", "--out", required=True, help="output PNG path")
    p.add_argument("--x", default="step", help="x-axis column (default: step)")
    p.add_argument("--y", default="", help="comma-separated columns (default: all numeric)")
    p.add_argument("--labels", default="", help="comma-separated run labels")
    p.add_argument("--smooth", type=int, default=1, help="moving-average window in rows")
    p.add_argument("--title", default="")
    p.add_argument("--ylim", default="", help="LO,HI for every panel")
    a = p.parse_args()

    runs = [read_csv(path) for path in a.csv]
    labels = a.labels.split(",") if a.labels else a.csv
    if len(labels) != len(runs):
        fail(f"{len(labels)} labels for {len(runs)} CSV files")
    for path, run in zip(a.csv, runs):
        if a.x not in run:
            fail(f"'{path}' has no numeric column '{a.x}' (columns: {', '.join(run)})")
    if a.y:
        ys = a.y.split(",")
        for path, run in zip(a.csv, runs):
            missing = [y for y in ys if y not in run]
            if missing:
                fail(f"'{path}' has no numeric column(s) {', '.join(missing)} (columns: {', '.join(run)})")
    else:
        bookkeeping = {a.x, "epoch", "seconds", "time", "elapsed"}
        ys = [c for c in runs[0] if c not in bookkeeping and all(c in r for r in runs)]
        if not ys:
            fail("no numeric columns to plot besides " + a.x)

    cols = min(len(ys), 3)
    rows = math.ceil(len(ys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for i, y in enumerate(ys):
        ax = axes[i // cols][i % cols]
        for label, run in zip(labels, runs):
            if a.smooth > 1:
                line, = ax.plot(run[a.x], run[y], alpha=0.25, linewidth=0.8)
                ax.plot(run[a.x], moving_average(run[y], a.smooth), color=line.get_color(), label=label)
            else:
                ax.plot(run[a.x], run[y], label=label)
        ax.set_title(y)
        ax.set_xlabel(a.x)
        ax.grid(alpha=0.3)
        if a.ylim:
            lo, hi = (float(v) for v in a.ylim.split(","))
            ax.set_ylim(lo, hi)
        if len(runs) > 1:
            ax.legend(fontsize=7)
    for j in range(len(ys), rows * cols):
        axes[j // cols][j % cols].axis("off")
    if a.title:
        fig.suptitle(a.title)
    fig.tight_layout()
    out_dir = os.path.dirname(os.path.abspath(a.out))
    if not os.path.isdir(out_dir):
        fail(f"output directory '{out_dir}' does not exist")
    tmp = a.out + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, a.out)  # atomic, like every file gan writes
    print(f"wrote {a.out} ({len(ys)} panel(s), {len(runs)} run(s))")


if __name__ == "__main__":
    main()
