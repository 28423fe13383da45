/* SPDX-License-Identifier: MIT */
/* epd-empirical.h: the empirical-dataset optimal denoiser on the CPU.
 *
 *   D(x, s) = sum_i softmax_i(-|x - y_i|^2 / (2 s^2)) y_i
 *
 * over the N images y_i of an EpdDataset: the exact minimiser of the denoising
 * loss when the data distribution is the training set itself.
 *
 * Precision: float64 end to end. The float pixels are widened once to a double
 * copy; the distance term x.y_i and the weighted sum are two cblas_dgemm calls
 * (OpenBLAS, its own threads). The logits drop the per-row constant |x|^2,
 * l_i = (x.y_i - |y_i|^2 / 2) / s^2, which avoids the cancellation of the
 * expanded |x - y|^2; the softmax subtracts the row maximum. The exact JVP is
 * provided (see epd_denoiser_denoise_jvp):
 *   dl_i = (y_i.dx) / s^2 + (|y_i|^2 - 2 x.y_i) ds / s^3   (row constants dropped)
 *   dD   = sum_i p_i (dl_i - sum_j p_j dl_j) y_i.
 * Determinism: a row's result is bit-identical whatever batch it comes in
 * (its size, its split into calls, the row's place in it). OpenBLAS's dgemm
 * repeats itself exactly for one shape and thread count, but its register
 * tiles and its split of a GEMM between threads round a row differently for
 * different row counts (a row alone differed from the same row in a batch of
 * 16 by ~1e-14). So every GEMM runs on a fixed block of 16 rows, the last
 * block padded with zero rows. What remains: OpenBLAS's thread count
 * (OPENBLAS_NUM_THREADS, the cores) and the CPU's kernel still decide the
 * last bits, since the threads split the N images between them (measured:
 * fashion-mnist:300 gives other bits with 1 thread than with 2).
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
