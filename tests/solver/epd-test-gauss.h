/* SPDX-License-Identifier: MIT */
/* epd-test-gauss.h: a single Gaussian N(mu, s0^2 I), the test model whose
 * probability-flow ODE has a closed-form solution. */
#pragma once

#include <gio/gio.h>

#include "epd-denoiser.h"

G_BEGIN_DECLS

#define EPD_TYPE_TEST_GAUSS (epd_test_gauss_get_type ())
G_DECLARE_FINAL_TYPE (EpdTestGauss, epd_test_gauss, EPD, TEST_GAUSS, GObject)

/* mu has dim values; D(x, s) = mu + s0^2 / (s0^2 + s^2) (x - mu). */
EpdDenoiser *epd_test_gauss_new      (guint         dim,
                                      const double *mu,
                                      double        s0);
/* Rows denoised so far (a parallel batch of K*B rows counts K*B). */
guint64      epd_test_gauss_rows     (EpdTestGauss *self);
/* Denoiser calls so far. */
guint        epd_test_gauss_calls    (EpdTestGauss *self);
/* Cancels `cancellable` when the denoiser has been called `calls` times. */
void         epd_test_gauss_cancel_after (EpdTestGauss *self,
                                          GCancellable *cancellable,
                                          guint         calls);
/* The exact ODE solution at t from x_T at T, for n = batch * dim values. */
void         epd_test_gauss_exact    (EpdTestGauss *self,
                                      const double *x_T,
                                      gsize         n,
                                      double        T,
                                      double        t,
                                      double       *out);

G_END_DECLS
