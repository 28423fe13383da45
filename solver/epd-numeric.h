/* SPDX-License-Identifier: MIT
 *
 * epd-numeric.h: numeric helpers every library shares: the finite check and
 * the Adam(W) optimizer step (distillation, RDPO, the reward classifier). */
#pragma once

#include "epd-types.h"

G_BEGIN_DECLS

/* The index of the first NaN or infinity of v[0..n), or -1 when all are finite.
 * Callers word the error: only they know what the values are. */
gssize epd_first_non_finite (const double *v,
                             gsize         n);

/* Adam's constants; weight_decay > 0 makes it AdamW (decay decoupled from the
 * gradient, pulling the parameters towards 0). */
typedef struct
{
  double beta1;
  double beta2;
  double eps;
  double weight_decay;
} EpdAdam;

/* beta1 0.9, beta2 0.999, eps 1e-8, no weight decay. */
#define EPD_ADAM_DEFAULTS ((EpdAdam) { 0.9, 0.999, 1e-8, 0.0 })

/* Step t (counted from 1) with learning rate lr on n parameters p: updates
 * the first and second moments m and v (zero before step 1) and p. */
void epd_adam_step       (const EpdAdam *adam,
                          guint64        t,
                          double         lr,
                          double        *p,
                          const double  *grad,
                          double        *m,
                          double        *v,
                          gsize          n);
/* The same for float parameters and gradients (moments stay double). */
void epd_adam_step_float (const EpdAdam *adam,
                          guint64        t,
                          double         lr,
                          float         *p,
                          const float   *grad,
                          double        *m,
                          double        *v,
                          gsize          n);

G_END_DECLS
