/* SPDX-License-Identifier: MIT
 * epd-rdpo-auto.h: RDPO's sizes from the model's reward noise and cost.
 *
 * A short warm-up at the start table: EPD_RDPO_WARMUP_TABLES tables drawn from
 * the start policy each solve the same EPD_RDPO_WARMUP_LATENTS latents. The
 * reward matrix R[table][latent] = mean + a_table + b_latent + e splits (two-way
 * analysis of variance) into
 *   sd_table: the spread of the table effect a, what an advantage must detect;
 *   sd_noise: the table-by-latent residual e, the noise of a rollout's mean
 *             reward over L shared latents being sd_noise / sqrt(L)
 * (the latent effect b is shared by a group and cancels in its leave-one-out
 * advantages). The rule (epd_rdpo_auto_choose):
 *   latents  L = the power of two >= 4 (sd_noise / sd_table)^2, in [4, 64]:
 *              a rollout's noise at most half the table effect;
 *   group    G = 4 (leave-one-out over 3 others);
 *   batch    B = 256 / (G L) noise seeds, in [2, 16]: about 256 samples an
 *              iteration, fewer (down to B = 2, then smaller L) where one
 *              iteration's rollouts would take over EPD_RDPO_AUTO_ITER_SECONDS;
 *   held-out N = the power of two >= 512 (sd_noise / sd_table)^2, in [1024, 4096]
 *              samples (16 seeds), so that two tables whose rewards differ by an
 *              eighth of sd_table (the policy mean moves far less than its
 *              samples spread) are ranked right at two standard errors of the
 *              paired difference; at least 1024 because heavy-tailed rewards (a
 *              sample stranded between modes) make smaller means unreliable;
 *              capped by EPD_RDPO_AUTO_VAL_SECONDS of solving.
 * Where the start policy's tables do not differ measurably (sd_table ~ 0) the
 * largest sizes are taken. */
#pragma once

#include "epd-rdpo.h"

G_BEGIN_DECLS

#define EPD_RDPO_WARMUP_TABLES      8
#define EPD_RDPO_WARMUP_LATENTS     64
#define EPD_RDPO_AUTO_MIN_LATENTS   4
#define EPD_RDPO_AUTO_MAX_LATENTS   64
#define EPD_RDPO_AUTO_GROUP         4
#define EPD_RDPO_AUTO_SAMPLES       256
#define EPD_RDPO_AUTO_MIN_BATCH     2
#define EPD_RDPO_AUTO_MAX_BATCH     16
#define EPD_RDPO_AUTO_MIN_VAL       1024
#define EPD_RDPO_AUTO_MAX_VAL       4096
#define EPD_RDPO_AUTO_VAL_SEEDS     16
#define EPD_RDPO_AUTO_ITER_SECONDS  0.5
#define EPD_RDPO_AUTO_VAL_SECONDS   2.0

typedef struct
{
  double sd_table;            /* spread of the table effect on the mean reward */
  double sd_noise;            /* per-sample table-by-latent residual */
  double seconds_per_sample;  /* solve and reward, measured */
} EpdRdpoWarmup;

typedef struct
{
  guint latents;
  guint group;
  guint batch;
  guint val_seeds;
  guint val_latents;
} EpdRdpoSizes;

/* Runs the warm-up on env from the start table with the options' policy and
 * seed (its own latents, not the training or held-out ones). Deterministic. */
gboolean epd_rdpo_warmup        (EpdRdpoEnv           *env,
                                 const EpdTable       *start,
                                 const EpdRdpoOptions *options,
                                 EpdRdpoWarmup        *warmup,
                                 GCancellable         *cancellable,
                                 GError              **error);
/* The two-way split of a reward matrix r[tables][latents] (row-major). */
void     epd_rdpo_warmup_split  (const double         *r,
                                 guint                 tables,
                                 guint                 latents,
                                 double               *sd_table,
                                 double               *sd_noise);
/* The rule above. */
void     epd_rdpo_auto_choose   (const EpdRdpoWarmup  *warmup,
                                 EpdRdpoSizes         *sizes);

G_END_DECLS
