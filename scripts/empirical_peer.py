# SPDX-License-Identifier: MIT
"""The PyTorch float64 peer of the empirical denoiser (scripts/bench-empirical).

A straightforward implementation of the same model: y = the first N Fashion-MNIST
training images as float32 p / 127.5 - 1 widened to float64, logits
(x.y_i - |y_i|^2/2) / s^2, softmax, p.y, one full-shape matmul each.

  python3 empirical_peer.py time N B REPEAT          median wall and CPU seconds of one D(x, s) call
  python3 empirical_peer.py euler N Z.npy STEPS OUT  Euler on the EDM grid from x_T = 80 z
"""
import gzip
import os
import sys
import time

import numpy as np
import torch

torch.set_num_threads(os.cpu_count())


def load(n):
    folder = os.environ.get("EPD_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz")) as f:
        raw = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:n]
    pixels = (raw.astype(np.float64) / 127.5 - 1.0).astype(np.float32)
    y = torch.from_numpy(pixels.astype(np.float64))
    return y, 0.5 * (y * y).sum(1)


def denoise(y, half, x, sigma):
    logits = (x @ y.T - half) / (sigma * sigma)[:, None]
    return torch.softmax(logits, dim=1) @ y


def latents(b, seed=1):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((b, 784)))


def time_calls(n, b, repeat):
    y, half = load(n)
    sigma = torch.from_numpy(80.0 * (0.002 / 80.0) ** (np.arange(b) % 10 / 9.0))
    x = latents(b) * sigma[:, None]
    denoise(y, half, x, sigma)  # warm-up
    wall, cpu = [], []
    for _ in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        denoise(y, half, x, sigma)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    print("%.6f %.6f" % (float(np.median(wall)), float(np.median(cpu))))


def euler(n, z_path, steps, out_path):
    y, half = load(n)
    z = torch.from_numpy(np.load(z_path))
    i = np.arange(steps + 1) / steps
    grid = (80.0 ** (1 / 7) + i * (0.002 ** (1 / 7) - 80.0 ** (1 / 7))) ** 7
    x = 80.0 * z
    start = time.perf_counter()
    for k in range(steps):
        s = torch.full((x.shape[0],), grid[k], dtype=torch.float64)
        x = x + (grid[k + 1] - grid[k]) * (x - denoise(y, half, x, s)) / grid[k]
    print("%.6f" % (time.perf_counter() - start))
    np.save(out_path, x.numpy())


if __name__ == "__main__":
    if sys.argv[1] == "time":
        time_calls(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
    else:
        euler(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5])
