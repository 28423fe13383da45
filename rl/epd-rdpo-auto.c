/* SPDX-License-Identifier: MIT
 * epd-rdpo-auto.c: RDPO's sizes from a warm-up at the start table (see epd-rdpo-auto.h). */
#include "epd-rdpo-auto.h"

#include <math.h>

#include "epd-random.h"

/* The warm-up's own randomness, apart from training (seeded by (seed, step)). */
#define WARMUP_SEED_SALT 0x57524d55u

void
epd_rdpo_warmup_split (const double *r,
                       guint         tables,
                       guint         latents,
                       double       *sd_table,
                       double       *sd_noise)
{
  g_autofree double *row = g_new0 (double, tables);
  g_autofree double *col = g_new0 (double, latents);
  double mean = 0.0, ss_rows = 0.0, ss_res = 0.0, ss_all = 0.0, var_rows, floor;

  for (guint t = 0; t < tables; t++)
    for (guint i = 0; i < latents; i++)
      {
        row[t] += r[(gsize) t * latents + i] / latents;
        col[i] += r[(gsize) t * latents + i] / tables;
        mean += r[(gsize) t * latents + i] / ((double) tables * latents);
      }
  for (guint t = 0; t < tables; t++)
    ss_rows += (row[t] - mean) * (row[t] - mean);
  for (guint t = 0; t < tables; t++)
    for (guint i = 0; i < latents; i++)
      {
        double e = r[(gsize) t * latents + i] - row[t] - col[i] + mean;

        ss_res += e * e;
        ss_all += (r[(gsize) t * latents + i] - mean) * (r[(gsize) t * latents + i] - mean);
      }
  *sd_noise = sqrt (ss_res / MAX (1.0, (tables - 1.0) * (latents - 1.0)));
  /* A row mean carries noise var / latents on top of the table effect. */
  var_rows = ss_rows / MAX (1.0, tables - 1.0) - (*sd_noise) * (*sd_noise) / latents;
  *sd_table = sqrt (MAX (var_rows, 0.0));
  /* Rounding is not a measurement: a part below 1e-9 of the rewards' scale is 0. */
  floor = 1e-9 * (sqrt (ss_all / ((double) tables * latents)) + fabs (mean));
  if (*sd_table <= floor)
    *sd_table = 0.0;
  if (*sd_noise <= floor)
    *sd_noise = 0.0;
}

gboolean
epd_rdpo_warmup (EpdRdpoEnv           *env,
                 const EpdTable       *start,
                 const EpdRdpoOptions *options,
                 EpdRdpoWarmup        *warmup,
                 GCancellable         *cancellable,
                 GError              **error)
{
  const guint T = EPD_RDPO_WARMUP_TABLES, L = EPD_RDPO_WARMUP_LATENTS;
  g_autoptr(EpdPolicy) policy = epd_policy_new (start, &options->policy, error);
  g_autoptr(GRand) rand = g_rand_new_with_seed (options->seed ^ WARMUP_SEED_SALT);
  g_autofree double *z = NULL, *x = NULL, *scores = NULL, *terms = NULL, *log_x = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();

  if (policy == NULL)
    return FALSE;
  z = epd_random_latents (g_rand_int (rand), L, env->dim);
  x = g_new (double, (gsize) L * env->dim);
  scores = g_new (double, (gsize) T * L);
  terms = g_new (double, (gsize) MAX (env->n_terms, 1) * L);
  log_x = g_new (double, epd_policy_sample_dim (policy) * start->steps);
  for (guint t = 0; t < T; t++)
    {
      g_autoptr(EpdTable) table = epd_policy_sample (policy, rand, log_x);

      if (!env->rollout (env->data, table, z, L, x, scores + (gsize) t * L, terms, cancellable, error))
        return FALSE;
      for (guint i = 0; i < L; i++)
        if (!isfinite (scores[(gsize) t * L + i]))
          {
            g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                         "RDPO warm-up: the reward of sample %u of table %u is not finite", i, t);
            return FALSE;
          }
    }
  warmup->seconds_per_sample = g_timer_elapsed (timer, NULL) / ((double) T * L);
  epd_rdpo_warmup_split (scores, T, L, &warmup->sd_table, &warmup->sd_noise);
  return TRUE;
}

static guint
pow2_at_least (double x,
               guint  lo,
               guint  hi)
{
  guint p = lo;

  while (p < hi && p < x)
    p *= 2;
  return p;
}

void
epd_rdpo_auto_choose (const EpdRdpoWarmup *w,
                      EpdRdpoSizes        *s)
{
  /* (sd_noise / sd_table)^2, infinite where the tables do not differ measurably. */
  double ratio2 = w->sd_table > 0 ? (w->sd_noise / w->sd_table) * (w->sd_noise / w->sd_table)
                                   : INFINITY;
  double cost = MAX (w->seconds_per_sample, 0.0);
  guint n_val;

  s->group = EPD_RDPO_AUTO_GROUP;
  s->latents = pow2_at_least (4.0 * ratio2, EPD_RDPO_AUTO_MIN_LATENTS, EPD_RDPO_AUTO_MAX_LATENTS);
  s->batch = CLAMP (EPD_RDPO_AUTO_SAMPLES / (s->group * s->latents),
                    EPD_RDPO_AUTO_MIN_BATCH, EPD_RDPO_AUTO_MAX_BATCH);
  /* An expensive model: fewer seeds, then fewer latents, within the time per iteration. */
  while (s->batch > EPD_RDPO_AUTO_MIN_BATCH &&
         cost * s->group * s->batch * s->latents > EPD_RDPO_AUTO_ITER_SECONDS)
    s->batch--;
  while (s->latents > 1 && cost * s->group * s->batch * s->latents > EPD_RDPO_AUTO_ITER_SECONDS)
    s->latents /= 2;
  n_val = pow2_at_least (512.0 * ratio2, EPD_RDPO_AUTO_MIN_VAL, EPD_RDPO_AUTO_MAX_VAL);
  while (n_val > EPD_RDPO_AUTO_VAL_SEEDS && cost * n_val > EPD_RDPO_AUTO_VAL_SECONDS)
    n_val /= 2;
  s->val_seeds = MIN (EPD_RDPO_AUTO_VAL_SEEDS, n_val);
  s->val_latents = n_val / s->val_seeds;
}
