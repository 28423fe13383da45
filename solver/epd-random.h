/* SPDX-License-Identifier: MIT */
/* epd-random.h: seeded, reproducible random numbers shared by every tool. */
#pragma once

#include "epd-types.h"

G_BEGIN_DECLS

/* Standard normal samples from a GRand (Box-Muller, both halves used).
 * The same seed gives the same numbers on every machine. */
void   epd_random_normal_fill (GRand  *rand,
                               double *out,
                               gsize   n);
double epd_random_normal      (GRand  *rand);
/* Latents z of shape [batch][dim] for seed: the noise of `epd sample --seed`. */
double *epd_random_latents    (guint32 seed,
                               gsize   batch,
                               guint   dim);

G_END_DECLS
