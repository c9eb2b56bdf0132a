#!/usr/bin/python3
"""E4 report (issue 8): collect the runs of examples/denoise_filter into the docs folder.

  /usr/bin/python3 scripts/e4_report.py out/denoise_filter -o docs/experiments/denoise_filter

Writes <docs>/results.csv (one row per variant and baseline), <docs>/logs/<variant>.csv
(the training logs), <docs>/panels/<variant>.png, <docs>/panels.png (all panels with
titles), the loss curves <docs>/curves_*.png through scripts/plot.py, and prints the
markdown table used in docs/experiments/denoise_filter.md. Variants that have not
finished (no metrics.csv) are listed as missing.
"""
import argparse
import csv
import os
import shutil
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.image as mpimg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

BASELINES = ["input", "ref_copy", "untrained", "target"]
VARIANTS = {  # name: (loss, D, D/G batches)
    "dcnn_v1": ("L1", "-", "-"), "dcnn_v2": ("L1, ref channel b'*ref", "-", "-"),
    "dcnn_v3": ("L1, ref b'*ref, target 0.8 gt", "-", "-"), "dcnn_v5": ("L1, ~1,100 train digits", "-", "-"),
    "dcgans_v1": ("L1 + 0.001 GAN", "vanilla", "different"), "dcgans_v2": ("0.9 L1 + 0.1 GAN", "vanilla", "different"),
    "dcgans_v3": ("L1 + 1 GAN", "vanilla", "different"), "dcgans_v4": ("L1 + 0.001 GAN", "vanilla", "same"),
    "dcgans_v5": ("0.9 L1 + 0.1 GAN", "vanilla", "same"), "dcgans_v6": ("L1 + 1 GAN", "vanilla", "same"),
    "dcgans_v7": ("L1 pre-training, then L1 + 0.001 GAN", "vanilla", "same"),
    "cgan_v1": ("L1 + GAN", "conditional", "same"), "cgan_v2": ("L1 + 0.001 GAN", "conditional", "same"),
    "cgan_v3": ("GAN only", "conditional", "same"), "cgan_v4": ("GAN only", "conditional", "different"),
    "cgan_v5": ("L1 (x100 after 40%) + GAN", "conditional", "same"), "cgan_v6": ("L1 + 0 GAN", "conditional", "same"),
}


def read_row(path):
    with open(path) as f:
        return next(csv.DictReader(f))


def fmt(v, digits):
    x = float(v)
    return "n/a" if x != x else f"{x:.{digits}f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("run_dir")
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    os.makedirs(os.path.join(a.out, "logs"), exist_ok=True)
    os.makedirs(os.path.join(a.out, "panels"), exist_ok=True)
    rows, missing, panels = [], [], []
    for name in BASELINES:
        p = os.path.join(a.run_dir, "baselines", name, "metrics.csv")
        if os.path.exists(p):
            rows.append(("baseline: " + name, ("(no training)", "-", "-"), read_row(p)))
    for name in ["input", "ref", "target", "untrained"]:
        p = os.path.join(a.run_dir, "baselines", f"panel_{name}.png")
        if os.path.exists(p):
            shutil.copy(p, os.path.join(a.out, "panels", f"{name}.png"))
            panels.append((name, p))
    for name, desc in VARIANTS.items():
        d = os.path.join(a.run_dir, name)
        if not os.path.exists(os.path.join(d, "metrics.csv")):
            missing.append(name)
            continue
        rows.append((name, desc, read_row(os.path.join(d, "metrics.csv"))))
        shutil.copy(os.path.join(d, "log.csv"), os.path.join(a.out, "logs", f"{name}.csv"))
        shutil.copy(os.path.join(d, "panel.png"), os.path.join(a.out, "panels", f"{name}.png"))
        panels.append((name, os.path.join(d, "panel.png")))

    cols = ["l1", "psnr", "ssim", "ref_closer", "ncc_gt", "ncc_ref", "digit_acc", "ref_digit", "train_seconds", "iters"]
    with open(os.path.join(a.out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["variant"] + cols)
        for name, _, r in rows:
            w.writerow([name] + [r[c] for c in cols])

    print("| variant | G loss | D | D/G batches | iters | L1 | PSNR dB | SSIM | ref-closer | digit acc | ref digit | train min |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for name, (loss, dk, same), r in rows:
        print(f"| {name} | {loss} | {dk} | {same} | {int(float(r['iters']))} | {fmt(r['l1'], 4)} | {fmt(r['psnr'], 2)} | "
              f"{fmt(r['ssim'], 3)} | {fmt(r['ref_closer'], 3)} | {fmt(r['digit_acc'], 3)} | {fmt(r['ref_digit'], 3)} | "
              f"{float(r['train_seconds']) / 60:.1f} |")
    if missing:
        print("\nmissing (not finished):", ", ".join(missing))

    if panels:  # all panels on one page, 6 per row
        per_row = 6
        n_rows = (len(panels) + per_row - 1) // per_row
        fig, axes = plt.subplots(n_rows, per_row, figsize=(2.2 * per_row, 2.45 * n_rows))
        for ax in axes.flat:
            ax.axis("off")
        for ax, (name, p) in zip(axes.flat, panels):
            ax.imshow(mpimg.imread(p), cmap="gray", vmin=0, vmax=1)
            ax.set_title(name, fontsize=9)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "panels.png"), dpi=110)

    plot = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plot.py")
    groups = {
        "dcnn": [n for n in VARIANTS if n.startswith("dcnn") and n not in missing] + ["dcgans_v4"],
        "dcgans": [n for n in VARIANTS if n.startswith("dcgans") and n not in missing],
        "cgan": [n for n in VARIANTS if n.startswith("cgan") and n not in missing] + ["dcnn_v1"],
    }
    for g, names in groups.items():
        names = [n for n in names if n not in missing]
        if not names:
            continue
        logs = [os.path.join(a.out, "logs", f"{n}.csv") for n in names]
        ys = "val_l1,l1" if g == "dcnn" else "val_l1,l1,loss_d,gan"
        subprocess.run([sys.executable, plot, *logs, "--y", ys, "--labels", ",".join(names),
                        "--title", f"E4 {g} variants", "-o", os.path.join(a.out, f"curves_{g}.png")], check=True)


if __name__ == "__main__":
    main()
