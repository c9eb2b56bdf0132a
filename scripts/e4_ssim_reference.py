#!/usr/bin/python3
"""Reference SSIM / PSNR values for tests/metrics/test_image_quality.cpp (E4, issue 8).

The test images are closed-form (no random numbers), so C++ and numpy see the same pixels:
  x[i, j] = 0.5 + 0.4 * sin(0.7 i + 0.3 j) * cos(0.2 i - 0.5 j)
  y[i, j] = clip(0.9 x + 0.05 + 0.1 sin(1.3 i) cos(0.9 j), 0, 1)
on H x W = 28 x 28 and 13 x 17. SSIM: Wang et al. 2004, 11x11 Gaussian window (sigma 1.5),
K1 0.01, K2 0.03, data range 1, population (co)variances, mean over the valid region,
computed twice: directly with numpy (separable valid filtering) and as skimage does it
(scipy.ndimage.gaussian_filter, truncate 3.5, then crop 5 pixels per border).
Run: /usr/bin/python3 scripts/e4_ssim_reference.py
"""
import numpy as np
from scipy.ndimage import gaussian_filter


def images(h, w):
    i, j = np.meshgrid(np.arange(h, dtype=np.float64), np.arange(w, dtype=np.float64), indexing="ij")
    x = 0.5 + 0.4 * np.sin(0.7 * i + 0.3 * j) * np.cos(0.2 * i - 0.5 * j)
    y = np.clip(0.9 * x + 0.05 + 0.1 * np.sin(1.3 * i) * np.cos(0.9 * j), 0.0, 1.0)
    return x.astype(np.float32).astype(np.float64), y.astype(np.float32).astype(np.float64)


def ssim_numpy(x, y, win=11, sigma=1.5, L=1.0):
    r = win // 2
    g = np.exp(-0.5 * (np.arange(win) - r) ** 2 / sigma**2)
    g /= g.sum()
    def f(a):
        rows = np.stack([np.convolve(row, g[::-1], mode="valid") for row in a])
        return np.stack([np.convolve(col, g[::-1], mode="valid") for col in rows.T]).T
    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s.mean()


def ssim_skimage_way(x, y, sigma=1.5, L=1.0):
    f = lambda a: gaussian_filter(a, sigma=sigma, truncate=3.5)
    mx, my = f(x), f(y)
    vx, vy, cxy = f(x * x) - mx * mx, f(y * y) - my * my, f(x * y) - mx * my
    c1, c2 = (0.01 * L) ** 2, (0.03 * L) ** 2
    s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return s[5:-5, 5:-5].mean()


for h, w in [(28, 28), (13, 17)]:
    x, y = images(h, w)
    a, b = ssim_numpy(x, y), ssim_skimage_way(x, y)
    mse = np.mean((x - y) ** 2)
    print(f"{h}x{w}: ssim numpy {a:.12f}  skimage-way {b:.12f}  |diff| {abs(a - b):.1e}  "
          f"psnr {10 * np.log10(1 / mse):.12f}  ssim(x, x) {ssim_numpy(x, x):.12f}")
