#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""An independent float64 implementation of the EPD Studio solvers, written
from the equations alone (numpy only), and a parity check of `epd sample`
against it.

Equations (EDM/VE form): dx/dt = (x - D(x, t)) / t from t_max to t_min.
Gaussian mixture: D(x, s) = sum_k p_k(x, s) (mu_k + a_k (x - mu_k)),
a_k = std_k^2 / (std_k^2 + s^2), p_k proportional to w_k N(x; mu_k, (std_k^2 + s^2) I).
EPD step: tau_k = t1^r_k t0^(1-r_k), x_k = x + (tau_k - t0) d,
d_k = (x_k - D(x_k, st_k tau_k)) / tau_k, x1 = x + (t1 - t0) sum_k w_k sd_k d_k.
Flow matching: D_fm(x, t) = D(x / (1-t), t / (1-t)), t capped at 1 - 2^-33.

Run by meson: finds the `epd` binary through EPD_BUILD_ROOT; exits 0 when
every case agrees to 1e-9 relative (of the largest sample value).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

TOL = 1e-9
FLOW_T_CAP = 1.0 - 2.0 ** -33

# ---- the model ----

WEIGHTS = np.array([0.1, 0.2, 0.3, 0.4])
MEANS = np.array([[1.0, 0.5, -0.3], [-1.2, 0.2, 0.8], [0.3, -1.1, 0.4], [0.0, 0.9, -1.0]])
STDS = np.array([0.2, 0.35, 0.5, 0.25])


def gmm_denoise(x, s):
    """x: (B, d), s: (B,) -> (B, d)."""
    v = STDS[None, :] ** 2 + s[:, None] ** 2                       # (B, K)
    d = x.shape[1]
    sq = ((x[:, None, :] - MEANS[None, :, :]) ** 2).sum(-1)        # (B, K)
    logp = np.log(WEIGHTS)[None, :] - 0.5 * sq / v - 0.5 * d * np.log(2 * np.pi * v)
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    p /= p.sum(axis=1, keepdims=True)
    a = STDS[None, :] ** 2 / v                                      # (B, K)
    post = MEANS[None, :, :] + a[:, :, None] * (x[:, None, :] - MEANS[None, :, :])
    return (p[:, :, None] * post).sum(1)


def flow_denoise(x, t):
    te = np.minimum(t, FLOW_T_CAP)
    return gmm_denoise(x / (1 - te)[:, None], te / (1 - te))


# ---- schedules ----

def grid_polynomial(steps, smin=0.002, smax=80.0, rho=7.0):
    i = np.arange(steps + 1) / steps
    t = (smax ** (1 / rho) + i * (smin ** (1 / rho) - smax ** (1 / rho))) ** rho
    t[0], t[-1] = smax, smin
    return t


def grid_flowmatch_sd3(steps, shift=3.0):
    def sh(u):
        return shift * u / (1 + (shift - 1) * u)
    u_min = sh(1e-3)            # diffusers shifts the last training time at init
    u = 1.0 + np.arange(steps + 1) / steps * (u_min - 1.0)
    t = sh(u)
    t[0], t[-1] = 1.0, sh(u_min)
    return t


# ---- solvers ----

def direction(den, x, t):
    return (x - den(x, np.full(len(x), t))) / t


def first_direction(den, x, t, afs, i):
    if afs and i == 0:
        return x / np.sqrt(1 + t * t)
    return direction(den, x, t)


IPNDM = {1: [1.0], 2: [1.5, -0.5], 3: [23 / 12, -16 / 12, 5 / 12], 4: [55 / 24, -59 / 24, 37 / 24, -9 / 24]}


def epd_points(den, x, pred, t0, t1, r, w, sd, st):
    """x1 from x with the points placed along pred."""
    acc = np.zeros_like(x)
    for k in range(len(r)):
        tau = t1 ** r[k] * t0 ** (1 - r[k])
        xk = x + (tau - t0) * pred
        dk = (xk - den(xk, np.full(len(x), st[k] * tau))) / tau
        acc += w[k] * sd[k] * dk
    return x + (t1 - t0) * acc


def solve(den, t, x, solver, afs=False, table=None, max_order=4):
    hist = []          # past Euler directions, newest last
    dens = []          # (t, D) pairs, newest last
    for i in range(len(t) - 1):
        t0, t1 = t[i], t[i + 1]
        d = first_direction(den, x, t0, afs, i)
        h = t1 - t0
        if solver == "euler":
            x = x + h * d
        elif solver == "heun":
            xe = x + h * d
            x = x + h * 0.5 * (d + direction(den, xe, t1))
        elif solver == "dpm2":
            tm = np.sqrt(t0 * t1)
            x = x + h * direction(den, x + (tm - t0) * d, tm)
        elif solver in ("dpmpp2m", "dpmpp3m"):
            D0 = x - t0 * d
            order = min(2 if solver == "dpmpp2m" else 3, len(dens) + 1)
            lam = np.log(t0) - np.log(t1)
            e = np.expm1(-lam)
            new = (t1 / t0) * x - e * D0
            if order == 2:
                r0 = (np.log(dens[-1][0]) - np.log(t0)) / lam
                new -= 0.5 * e * (D0 - dens[-1][1]) / r0
            elif order == 3:
                r0 = (np.log(dens[-1][0]) - np.log(t0)) / lam
                r1 = (np.log(dens[-2][0]) - np.log(dens[-1][0])) / lam
                g0 = (D0 - dens[-1][1]) / r0
                g1 = (dens[-1][1] - dens[-2][1]) / r1
                p2 = e / lam + 1
                p3 = p2 / lam - 0.5
                new += p2 * (g0 + r0 / (r0 + r1) * (g0 - g1)) - p3 * (g0 - g1) / (r0 + r1)
            dens.append((t0, D0))
            x = new
        else:
            order = min(max_order, len(hist) + 1)
            c = IPNDM[order]
            pred = c[0] * d + sum(c[j] * hist[-j] for j in range(1, order))
            if max_order > 1:
                hist = (hist + [d])[-(max_order - 1):]
            if solver == "ipndm":
                x = x + h * pred
            else:
                if solver == "epd":
                    pred = d
                x = epd_points(den, x, pred, t0, t1, *(table[key][i] for key in ("r", "weight", "scale_dir", "scale_time")))
    return x


# ---- the parity check ----

def run_epd(epd, args):
    proc = subprocess.run([epd, "sample"] + args, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit("epd sample failed: %s" % " ".join(args))
    return proc.stderr.strip()


def expect_failure(epd, name, args):
    """A bad input: non-zero exit, one clear error line, no crash."""
    proc = subprocess.run([epd, "sample"] + args, capture_output=True, text=True)
    ok = proc.returncode in (1, 2) and "epd: error:" in proc.stderr
    print("%-40s exit %d %s" % (name, proc.returncode, "ok" if ok else "FAIL: " + proc.stderr.strip()))
    return ok


def check_compare(epd, tmp):
    """`epd compare` hits every budget it can and says when it cannot."""
    csv = os.path.join(tmp, "c.csv")
    proc = subprocess.run([epd, "compare", "--nfe", "4,5", "--batch", "4", "--device", "cpu", "--afs", "off",
                           "--csv", csv], capture_output=True, text=True)
    if proc.returncode != 0:
        print("epd compare failed: " + proc.stderr)
        return False
    rows = [line.split(",") for line in open(csv).read().splitlines()[1:]]
    ok = len(rows) == 16
    for r in rows:
        nfe, solver, latency, err = int(r[0]), r[1], int(r[4]), float(r[6])
        two = solver in ("heun", "dpm2", "epd", "epd-plugin")
        exact = not (two and nfe % 2)
        ok &= (latency == nfe) == exact and np.isfinite(err) and (exact or "cannot hit" in r[9])
    print("%-40s %d rows %s" % ("epd compare --nfe 4,5 --afs off", len(rows), "ok" if ok else "FAIL"))
    return ok


def check_seed_repeats(epd, tmp, model):
    """The same seed gives byte-identical files in separate processes."""
    outs = []
    for i in range(2):
        outs.append(os.path.join(tmp, "seed-%d.npy" % i))
        run_epd(epd, ["--model", "gmm:" + model, "--solver", "epd-plugin", "--steps", "6", "--afs",
                      "--seed", "3", "--batch", "5", "--out", outs[-1], "--device", "cpu"])
    same = open(outs[0], "rb").read() == open(outs[1], "rb").read()
    print("%-40s %s" % ("--seed 3 twice: identical bytes", "ok" if same else "FAIL"))
    return same


def compare(name, ours, ref):
    err = np.max(np.abs(ours - ref)) / max(1.0, np.max(np.abs(ref)))
    ok = err <= TOL
    print("%-40s max relative difference %.3e %s" % (name, err, "ok" if ok else "FAIL"))
    return ok


def main():
    build = os.environ.get("EPD_BUILD_ROOT")
    if not build:
        raise SystemExit("EPD_BUILD_ROOT is not set (run through meson test)")
    epd = os.path.join(build, "app", "epd")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        model = os.path.join(tmp, "gmm.json")
        with open(model, "w") as f:
            json.dump({"weights": WEIGHTS.tolist(), "means": MEANS.tolist(), "stds": STDS.tolist()}, f)
        z = np.random.default_rng(0).standard_normal((6, 3))
        zpath = os.path.join(tmp, "z.npy")
        np.save(zpath, z)
        steps = 5
        table = {
            "r": np.array([[0.2, 0.7], [0.35, 0.6], [0.1, 0.9], [0.45, 0.55], [0.3, 0.8]]),
            "weight": np.array([[0.3, 0.7], [0.5, 0.5], [0.8, 0.2], [0.1, 0.9], [0.6, 0.4]]),
            "scale_dir": np.array([[1.02, 0.97], [1.0, 1.01], [0.99, 1.0], [1.03, 1.0], [1.0, 0.98]]),
            "scale_time": np.array([[0.98, 1.01], [1.0, 1.02], [1.0, 0.99], [0.97, 1.0], [1.01, 1.0]]),
        }
        for afs in (False, True):
            for solver in ("epd", "epd-plugin"):
                tpath = os.path.join(tmp, "table.npz")
                np.savez(tpath, num_steps=np.array(steps + 1), num_points=np.array(2),
                         schedule_type=np.array("polynomial"), schedule_rho=np.array(7.0),
                         solver=np.array(solver), afs=np.array(afs), **table)
                out = os.path.join(tmp, "x.npy")
                run_epd(epd, ["--model", "gmm:" + model, "--table", tpath, "--latents", zpath,
                              "--out", out, "--device", "cpu"])
                ref = solve(gmm_denoise, grid_polynomial(steps), 80.0 * z, solver, afs=afs, table=table)
                ok &= compare("%s table afs=%d" % (solver, afs), np.load(out), ref)
        for solver in ("euler", "heun", "dpm2", "dpmpp2m", "dpmpp3m", "ipndm"):
            out = os.path.join(tmp, "x.npy")
            run_epd(epd, ["--model", "gmm:" + model, "--solver", solver, "--steps", "7", "--afs",
                          "--latents", zpath, "--out", out, "--device", "cpu"])
            ref = solve(gmm_denoise, grid_polynomial(7), 80.0 * z, solver, afs=True)
            ok &= compare("%s 7 steps afs" % solver, np.load(out), ref)
        for solver in ("heun", "dpmpp3m"):
            out = os.path.join(tmp, "x.npy")
            run_epd(epd, ["--model", "gmm:" + model, "--solver", solver, "--steps", "10",
                          "--schedule", "flowmatch", "--latents", zpath, "--out", out, "--device", "cpu"])
            ref = solve(flow_denoise, grid_flowmatch_sd3(10), z.copy(), solver)
            ok &= compare("%s flowmatch (sd3 grid) 10 steps" % solver, np.load(out), ref)
        bad = os.path.join(tmp, "bad.npy")
        np.save(bad, np.zeros((4, 5)))
        ok &= expect_failure(epd, "latents of the wrong width", ["--model", "gmm:" + model, "--latents", bad,
                                                                  "--out", out, "--device", "cpu"])
        np.save(bad, np.full((2, 3), np.nan))
        ok &= expect_failure(epd, "NaN latents", ["--model", "gmm:" + model, "--latents", bad, "--solver", "heun",
                                                  "--out", out, "--device", "cpu"])
        ok &= expect_failure(epd, "--steps against the table", ["--model", "gmm:" + model, "--table", tpath,
                                                               "--steps", "3", "--seed", "1", "--out", out])
        ok &= expect_failure(epd, "unknown solver", ["--solver", "unipc", "--seed", "1", "--out", out])
        ok &= expect_failure(epd, "missing --out", ["--solver", "heun"])
        ok &= check_compare(epd, tmp)
        ok &= check_seed_repeats(epd, tmp, model)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
