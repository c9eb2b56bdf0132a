#!/usr/bin/python3
"""Plots for examples/gan_theory: reads the CSVs in DIR (its --out) and writes PNGs into DIR.

usage: /usr/bin/python3 scripts/plot_gan_theory.py DIR   (Debian's python3-matplotlib)
"""
import csv
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {k: [float(r[k]) for r in rows] for k in rows[0]} if rows else {}


def read_summary(d, part):
    with open(os.path.join(d, f"{part}_summary.csv")) as f:
        return {r["metric"]: float(r["value"]) for r in csv.DictReader(f)}


def by_step(cols):
    """Splits long-format columns into {step: {column: [values]}} in order of first appearance."""
    out = {}
    for i, s in enumerate(cols["step"]):
        d = out.setdefault(int(s), {k: [] for k in cols})
        for k in cols:
            d[k].append(cols[k][i])
    return out


def save(fig, d, name):
    fig.tight_layout()
    fig.savefig(os.path.join(d, name), dpi=80)
    plt.close(fig)
    print("wrote", os.path.join(d, name))


def plot_dstar(d):
    g = read(os.path.join(d, "dstar_grid.csv"))
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(g["x"], g["p_data"], label="p_data")
    a.plot(g["x"], g["p_g"], label="p_g (fixed)")
    a.set_xlabel("x"), a.set_title("densities"), a.legend()
    b.plot(g["x"], g["d_star"], "k", lw=3, alpha=0.4, label="D* = p_data / (p_data + p_g)")
    b.plot(g["x"], g["d_trained"], "r", lw=1, label="trained D")
    err_region = [x for x, p, q in zip(g["x"], g["p_data"], g["p_g"]) if p + q >= 0.05]
    b.axvspan(min(err_region), max(err_region), color="0.9", zorder=0, label="p_data + p_g >= 0.05")
    b.set_xlabel("x"), b.set_ylim(-0.02, 1.02), b.set_title("optimal vs trained discriminator"), b.legend(fontsize=8)
    save(fig, d, "dstar.png")


def plot_gan1d(d):
    log = read(os.path.join(d, "gan1d_log.csv"))
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.6))
    a.plot(log["step"], log["V"], label="V(D, G) on fresh samples")
    a.plot(log["step"], log["C_G"], label="C(G) = -log 4 + 2 JS (best D)")
    a.axhline(-math.log(4), color="k", ls="--", lw=1, label="-log 4")
    a.set_xlabel("G step"), a.set_ylim(-1.6, 0.05), a.legend(fontsize=8), a.set_title("value of the game")
    b.semilogy(log["step"], log["js"], label="JS(p_data || p_g), nats")
    b.plot(log["step"], [abs(x - 0.5) for x in log["d_fake"]], label="|mean D(G(z)) - 1/2|")
    b.set_xlabel("G step"), b.legend(fontsize=8), b.set_title("divergence and D on fakes")
    save(fig, d, "gan1d_curves.png")

    snaps = by_step(read(os.path.join(d, "gan1d_density.csv")))
    fig, axes = plt.subplots(1, len(snaps), figsize=(3 * len(snaps), 3), sharey=True)
    for ax, (step, s) in zip(axes, snaps.items()):
        ax.plot(s["x"], s["p_data"], "k", lw=1, label="p_data")
        ax.fill_between(s["x"], s["p_g_hist"], step="mid", alpha=0.5, label="p_g (histogram)")
        ax.plot(s["x"], s["d"], "r", lw=1, label="D(x)")
        ax.set_title(f"step {step}"), ax.set_xlim(-4.5, 4.5), ax.set_ylim(0, 1.2)
    axes[0].legend(fontsize=7)
    save(fig, d, "gan1d_density.png")


def plot_ring(d):
    log = read(os.path.join(d, "ring_log.csv"))
    fig, (a, c) = plt.subplots(1, 2, figsize=(11, 3.6))
    a.plot(log["step"], log["modes"], label="modes covered (of 8)")
    b = a.twinx()
    b.plot(log["step"], log["hq_share"], "C1", label="share within 3 sigma of a mode")
    a.set_xlabel("G step"), a.set_ylim(0, 8.5), b.set_ylim(0, 1.05)
    a.legend(loc="lower left", fontsize=8), b.legend(loc="lower right", fontsize=8)
    c.stackplot(log["step"], [log[f"m{k}"] for k in range(8)], labels=[f"mode {k}" for k in range(8)])
    c.axhline(1.0, color="k", lw=0.5)
    c.set_xlabel("G step"), c.set_ylim(0, 1.05), c.set_title("share of samples within 3 sigma, per mode")
    c.legend(fontsize=6, ncol=4, loc="upper left")
    save(fig, d, "ring_curves.png")

    snaps = by_step(read(os.path.join(d, "ring_samples.csv")))
    fig, axes = plt.subplots(1, len(snaps), figsize=(2.6 * len(snaps), 2.8))
    sigma = read_summary(d, "ring").get("ring_sigma", 0.02)
    modes = [(2 * math.cos(k * math.pi / 4), 2 * math.sin(k * math.pi / 4)) for k in range(8)]
    for ax, (step, s) in zip(axes, snaps.items()):
        ax.scatter(s["x"], s["y"], s=2, alpha=0.3)
        for k, m in enumerate(modes):  # the 3-sigma discs that count as "near the mode"
            ax.add_patch(plt.Circle(m, 3 * sigma, fill=False, color="k", lw=0.8))
            ax.annotate(str(k), (1.2 * m[0], 1.2 * m[1]), ha="center", va="center", fontsize=7)
        ax.set_title(f"step {step}"), ax.set_xlim(-2.7, 2.7), ax.set_ylim(-2.7, 2.7), ax.set_aspect("equal")
        ax.set_xticks([]), ax.set_yticks([])
    save(fig, d, "ring_samples.png")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    for name, fn in [("dstar_grid.csv", plot_dstar), ("gan1d_log.csv", plot_gan1d), ("ring_log.csv", plot_ring)]:
        if os.path.exists(os.path.join(out, name)):
            fn(out)
