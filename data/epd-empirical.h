/* SPDX-License-Identifier: MIT */
/* epd-empirical.h: the empirical-dataset optimal denoiser on the CPU.
 *
 *   D(x, s) = sum_i softmax_i(-|x - y_i|^2 / (2 s^2)) y_i
 *
 * over the N images y_i of an EpdDataset: the exact minimiser of the denoising
 * loss when the data distribution is the training set itself.
 *
 * Precision: float64 arithmetic. The data set's float pixels are the only
 * copy of the data: each block of images is widened to double on the fly, in
 * a buffer that stays in the L2 cache while every row of the call uses it.
 * The distance term x.y_i and the weighted sum are two cblas_dgemm calls per
 * block. The logits drop the per-row constant |x|^2,
 * l_i = (x.y_i - |y_i|^2 / 2) / s^2, which avoids the cancellation of the
 * expanded |x - y|^2; the softmax is computed online over the blocks (a
 * running maximum, the sums rescaled when it grows) and over the parts the
 * blocks are split into. The per-row loops (logits, exp, the tangent's
 * terms, widening) run on eight doubles at a time, compiled for AVX-512, AVX2
 * and plain x86-64 and picked at load time; exp is a polynomial within 2 ulp
 * of libm's. The exact JVP is provided (see
 * epd_denoiser_denoise_jvp):
 *   dl_i = (y_i.dx) / s^2 + (|y_i|^2 - 2 x.y_i) ds / s^3   (row constants dropped)
 *   dD   = sum_i p_i (dl_i - sum_j p_j dl_j) y_i,
 * with dl kept relative to its value at the running maximum's image, so the
 * huge logits of a small s do not cancel.
 * Determinism: a row's result is bit-identical whatever batch it comes in
 * (its size, its split into calls, the row's place in it) and whatever the
 * number of threads. OpenBLAS's dgemm rounds a row differently when its
 * register tiles are cut at the matrix's edge, when its own threads split the
 * product, and in its small-matrix kernels (a row alone differed from the same
 * row in a batch of 16 by ~1e-14). So every GEMM dimension is a multiple of 16
 * (zero rows, zero columns, the last block of images padded), OpenBLAS runs
 * single-threaded inside a call (epd-blas.h; the parallelism is our own, over
 * parts of the data set merged in a fixed order), and a model so small that
 * its GEMMs would reach the small-matrix kernels takes its rows in fixed
 * groups of 16. What remains is the CPU's kernel, which OpenBLAS picks at run
 * time. The tests check all this on the machine they run on.
 * The object is immutable after creation: several threads may denoise at once. */
#pragma once

#include "epd.h"
#include "epd-dataset.h"

G_BEGIN_DECLS

#define EPD_TYPE_EMPIRICAL (epd_empirical_get_type ())
G_DECLARE_FINAL_TYPE (EpdEmpirical, epd_empirical, EPD, EMPIRICAL, GObject)

/* Takes a reference on dataset. describe() then reads
 * "dataset:NAME:N (CPU, OpenBLAS float64)". */
EpdEmpirical *epd_empirical_new          (EpdDataset *dataset);

/* What follows "dataset:" in a model spec:
 *   fashion-mnist                    all 60000 training images
 *   fashion-mnist:N                  the first N training images
 *   fashion-mnist:N:per-class        the first N images of each of the 10 classes
 *   fashion-mnist-test[:N[:per-class]] the same from the 10000 test images
 *   DIR[:SIDE][:grey|:rgb]           every PNG in DIR, SIDE x SIDE (default 28),
 *                                    grey by default
 * The Fashion-MNIST folder can be moved with $EPD_FASHION_MNIST_DIR. */
EpdEmpirical *epd_empirical_open_spec    (const char *rest,
                                          GError    **error);

/* The dataset (borrowed): labels, class names, side and channels. */
EpdDataset   *epd_empirical_get_dataset  (EpdEmpirical *self);
/* N, the number of training images. */
gsize         epd_empirical_get_n        (EpdEmpirical *self);
guint         epd_empirical_get_dim      (EpdEmpirical *self);
/* [N][dim] float32 pixels in [-1, 1] (the dataset's, borrowed): for the GPU. */
const float  *epd_empirical_get_data     (EpdEmpirical *self);

G_END_DECLS
