#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Writes fd-fixture.npz: two sets of correlated feature rows and their Frechet
# distance computed independently with numpy (eigh-based matrix square roots), for
# tests/rl/test-sample-quality.c. Run with Debian's /usr/bin/python3 (python3-numpy).
import numpy as np

rng = np.random.default_rng(11)
n_a, n_b, d = 300, 250, 16
mix_a = rng.normal(size=(d, d))
mix_b = rng.normal(size=(d, d)) * 0.7 + np.eye(d)
a = np.maximum(rng.normal(size=(n_a, d)) @ mix_a + 0.3, 0.0)   # ReLU-like features
b = np.maximum(rng.normal(size=(n_b, d)) @ mix_b + 0.5, 0.0)

def sqrtm_psd(m):
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T

mu_a, mu_b = a.mean(0), b.mean(0)
c_a, c_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
root = sqrtm_psd(c_a)
fd = np.sum((mu_a - mu_b) ** 2) + np.trace(c_a) + np.trace(c_b) \
    - 2 * np.trace(sqrtm_psd(root @ c_b @ root))
np.savez("fd-fixture.npz", a=a, b=b, fd=np.array([fd]))
print("fd", fd)
