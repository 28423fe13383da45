/* SPDX-License-Identifier: MIT
 * test-rdpo-auto.c: RDPO's sizes from the warm-up: the two-way split of a
 * reward matrix, the sizing rule, and the warm-up on toy environments whose
 * reward is known. */
#include <math.h>
#include <glib/gstdio.h>

#include "epd.h"
#include "epd-rdpo-auto.h"

/* r = a_t + b_i + e_ti with e summing to zero over each row and column: the
 * split must give back var(a) (corrected for the row means' noise) and e's sd. */
static void
test_split (void)
{
  enum { T = 4, L = 6 };
  const double a[T] = { -1.0, 1.0, -1.0, 1.0 };
  const double b[L] = { 0.3, -2.0, 5.0, 0.0, 1.0, -0.7 };
  /* +-0.5 alternating in both directions: zero row and column sums. */
  double r[T * L], sd_table, sd_noise, expect_noise, expect_table;

  for (guint t = 0; t < T; t++)
    for (guint i = 0; i < L; i++)
      r[t * L + i] = a[t] + b[i] + (((t + i) % 2) ? 0.5 : -0.5);
  epd_rdpo_warmup_split (r, T, L, &sd_table, &sd_noise);
  /* ss_res = T L 0.25 over (T-1)(L-1) degrees of freedom. */
  expect_noise = sqrt (T * L * 0.25 / ((T - 1.0) * (L - 1.0)));
  /* var(a) with T - 1: 4 / 3, less the noise of a mean over L latents. */
  expect_table = sqrt (4.0 / 3.0 - expect_noise * expect_noise / L);
  g_assert_cmpfloat_with_epsilon (sd_noise, expect_noise, 1e-12);
  g_assert_cmpfloat_with_epsilon (sd_table, expect_table, 1e-12);
}

static void
check_sizes (double sd_table, double sd_noise, double cost,
             guint latents, guint batch, guint val_seeds, guint val_latents)
{
  EpdRdpoWarmup w = { sd_table, sd_noise, cost };
  EpdRdpoSizes s;

  epd_rdpo_auto_choose (&w, &s);
  g_test_message ("sd_table %g sd_noise %g cost %g: L %u G %u B %u val %u x %u", sd_table, sd_noise,
                  cost, s.latents, s.group, s.batch, s.val_seeds, s.val_latents);
  g_assert_cmpuint (s.group, ==, 4);
  g_assert_cmpuint (s.latents, ==, latents);
  g_assert_cmpuint (s.batch, ==, batch);
  g_assert_cmpuint (s.val_seeds, ==, val_seeds);
  g_assert_cmpuint (s.val_latents, ==, val_latents);
}

/* The rule of epd-rdpo-auto.h, case by case. */
static void
test_rule (void)
{
  /* Quiet reward: (0.5)^2 = 0.25; L >= 1 -> 4, B = 256 / 16 = 16; N >= 128 -> 1024 = 16 x 64. */
  check_sizes (1.0, 0.5, 1e-6, 4, 16, 16, 64);
  /* 4 (1.5)^2 = 9 -> L = 16, B = 4; 512 x 2.25 = 1152 -> N = 2048 = 16 x 128. */
  check_sizes (1.0, 1.5, 1e-6, 16, 4, 16, 128);
  /* Noisy: 4 x 9 = 36 -> 64, B = 1 -> 2; 512 x 9 -> N = 4096 (the cap) = 16 x 256. */
  check_sizes (1.0, 3.0, 1e-6, 64, 2, 16, 256);
  /* No measurable table effect: the largest sizes. */
  check_sizes (0.0, 1.0, 1e-6, 64, 2, 16, 256);
  /* Expensive (10 ms a sample): 4 B 4 x 0.01 <= 0.5 -> B = 3; N x 0.01 <= 2 -> 128 = 16 x 8. */
  check_sizes (1.0, 0.5, 0.01, 4, 3, 16, 8);
  /* Very expensive (1 s a sample): B = 2, L halves to 1 and still over; N down to 16 = 16 x 1. */
  check_sizes (1.0, 0.5, 1.0, 1, 2, 16, 1);
}

/* A toy environment: reward = gain * (w_00 - 0.5) + noise * z_0 (the table's
 * first weight and the sample's first latent coordinate). */
typedef struct
{
  double gain;
  double noise;
} Toy;

static const char *const toy_names[] = { "toy", NULL };

static gboolean
toy_rollout (gpointer data, const EpdTable *table, const double *z, gsize n,
             double *x_final, double *scores, double *term_scores,
             GCancellable *cancellable, GError **error)
{
  const Toy *toy = data;

  for (gsize i = 0; i < n; i++)
    {
      x_final[2 * i] = z[2 * i];
      x_final[2 * i + 1] = z[2 * i + 1];
      scores[i] = term_scores[i] = toy->gain * (table->weight[0] - 0.5) + toy->noise * z[2 * i];
    }
  return TRUE;
}

static void
warmup_sizes (double gain, double noise, EpdRdpoWarmup *w, EpdRdpoSizes *s)
{
  Toy toy = { gain, noise };
  EpdRdpoEnv env = { .dim = 2, .n_terms = 1, .term_names = toy_names, .rollout = toy_rollout, .data = &toy };
  g_autoptr(EpdTable) start = epd_table_new ("epd", 3, 2);
  g_autoptr(GError) error = NULL;
  EpdRdpoOptions o;

  epd_rdpo_options_init (&o);
  start->afs = TRUE;
  g_assert_true (epd_rdpo_warmup (&env, start, &o, w, NULL, &error));
  g_assert_no_error (error);
  w->seconds_per_sample = 0;  /* the rule without the time caps: deterministic */
  epd_rdpo_auto_choose (w, s);
  g_test_message ("gain %g noise %g: sd_table %g sd_noise %g -> L %u B %u val %u x %u",
                  gain, noise, w->sd_table, w->sd_noise, s->latents, s->batch, s->val_seeds, s->val_latents);
}

/* The warm-up measures what the toy puts in: a latent-only reward is all
 * shared noise (it cancels in a group: no residual) and no table effect; a
 * table-only reward has no noise; and a reward with both gets sizes between. */
static void
test_warmup_toy (void)
{
  EpdRdpoWarmup w;
  EpdRdpoSizes s;

  /* Latent only: additive in the latent, so no table-by-latent residual either;
   * nothing to detect: the largest sizes. */
  warmup_sizes (0.0, 1.0, &w, &s);
  g_assert_cmpfloat (w.sd_table, ==, 0.0);
  g_assert_cmpfloat (w.sd_noise, ==, 0.0);
  g_assert_cmpuint (s.latents, ==, 64);
  g_assert_cmpuint (s.val_seeds * s.val_latents, ==, 4096);
  /* Table only: the smallest rollouts, the most seeds. */
  warmup_sizes (10.0, 0.0, &w, &s);
  g_assert_cmpfloat (w.sd_table, >, 0.01);
  g_assert_cmpfloat (w.sd_noise, ==, 0.0);
  g_assert_cmpuint (s.latents, ==, 4);
  g_assert_cmpuint (s.batch, ==, 16);
  g_assert_cmpuint (s.val_seeds * s.val_latents, ==, 1024);
}

/* A multiplicative toy: reward = (w_00 - 0.5) * z_0, pure table-by-latent
 * interaction. Its residual sd is about |w_00 - 0.5| and the table effect ~0. */
static gboolean
product_rollout (gpointer data, const EpdTable *table, const double *z, gsize n,
                 double *x_final, double *scores, double *term_scores,
                 GCancellable *cancellable, GError **error)
{
  for (gsize i = 0; i < n; i++)
    {
      x_final[2 * i] = z[2 * i];
      x_final[2 * i + 1] = z[2 * i + 1];
      scores[i] = term_scores[i] = (table->weight[0] - 0.5 + 0.1) * z[2 * i];
    }
  return TRUE;
}

static void
test_warmup_interaction (void)
{
  EpdRdpoEnv env = { .dim = 2, .n_terms = 1, .term_names = toy_names, .rollout = product_rollout };
  g_autoptr(EpdTable) start = epd_table_new ("epd", 3, 2);
  g_autoptr(GError) error = NULL;
  EpdRdpoOptions o;
  EpdRdpoWarmup w, again;

  epd_rdpo_options_init (&o);
  start->afs = TRUE;
  g_assert_true (epd_rdpo_warmup (&env, start, &o, &w, NULL, &error));
  g_assert_true (epd_rdpo_warmup (&env, start, &o, &again, NULL, &error));
  g_assert_no_error (error);
  /* Deterministic for the seed. */
  g_assert_cmpfloat (w.sd_table, ==, again.sd_table);
  g_assert_cmpfloat (w.sd_noise, ==, again.sd_noise);
  g_test_message ("product: sd_table %g sd_noise %g", w.sd_table, w.sd_noise);
  g_assert_cmpfloat (w.sd_noise, >, 3.0 * w.sd_table);
}

/* keep_coverage: a toy whose reward rises with the table's first weight while
 * its "coverage" (1 - that weight, the same on every seed) falls. Unguarded,
 * training keeps a later table with a better reward; guarded, no table below the
 * start's coverage is kept, so the best stays the start table. The guard's floor
 * survives a checkpoint. */
static gboolean
tradeoff_rollout (gpointer data, const EpdTable *table, const double *z, gsize n,
                  double *x_final, double *scores, double *term_scores,
                  GCancellable *cancellable, GError **error)
{
  for (gsize i = 0; i < n; i++)
    {
      x_final[2 * i] = table->weight[0];
      x_final[2 * i + 1] = z[2 * i];
      scores[i] = term_scores[i] = -(table->weight[0] - 0.9) * (table->weight[0] - 0.9);
    }
  return TRUE;
}

static gboolean
tradeoff_coverage (gpointer data, const double *x, gsize n, double *value, GError **error)
{
  *value = 1.0 - x[0];
  return TRUE;
}

static void
tradeoff_options (EpdRdpoOptions *o, gboolean keep)
{
  epd_rdpo_options_init (o);
  o->iters = 30;
  o->batch = 2;
  o->latents = 2;
  o->lr = 0.05;
  o->val_every = 5;
  o->val_seeds = 3;
  o->val_latents = 2;
  o->keep_coverage = keep;
  o->reward_spec = "toy";
}

static EpdTable *
train_tradeoff (gboolean keep, EpdRdpoEnv *env, double *best_reward, EpdRdpo **trainer)
{
  g_autoptr(EpdTable) start = epd_table_new ("epd", 3, 2);
  g_autoptr(GError) error = NULL;
  EpdRdpoOptions o;
  EpdRdpo *rdpo;

  tradeoff_options (&o, keep);
  start->afs = TRUE;
  rdpo = epd_rdpo_new (env, start, &o, &error);
  g_assert_no_error (error);
  g_assert_true (epd_rdpo_run (rdpo, NULL, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  *trainer = rdpo;
  return epd_rdpo_dup_best_table (rdpo, best_reward);
}

static void
test_keep_coverage (void)
{
  EpdRdpoEnv env = { .dim = 2, .n_terms = 1, .term_names = toy_names,
                     .rollout = tradeoff_rollout, .diversity = tradeoff_coverage };
  g_autoptr(EpdTable) free_best = NULL, kept = NULL, reloaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-rdpo-auto-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "ckpt.json", NULL);
  EpdRdpo *a, *b, *c;
  double reward_free, reward_kept, reward_reloaded;

  free_best = train_tradeoff (FALSE, &env, &reward_free, &a);
  kept = train_tradeoff (TRUE, &env, &reward_kept, &b);
  g_test_message ("best reward unguarded %g (w0 %g), guarded %g (w0 %g)", reward_free,
                  free_best->weight[0], reward_kept, kept->weight[0]);
  /* Training raises the first weight (and the reward) from the start's 0.5. */
  g_assert_cmpfloat (free_best->weight[0], >, 0.5 + 1e-3);
  g_assert_cmpfloat (reward_free, >, reward_kept);
  /* Guarded: the start table (sorted rows, its first weight 0.5) stays the best. */
  g_assert_cmpfloat (fabs (kept->weight[0] - 0.5), <, 1e-12);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (kept->metadata, "rdpo"),
                                               "iterations"), ==, 0);
  g_assert_true (json_object_get_boolean_member (json_object_get_object_member (kept->metadata, "rdpo"),
                                                 "keep_coverage"));
  /* The floor travels with a checkpoint: 30 more iterations after reloading
   * still keep the start table. */
  g_assert_true (epd_rdpo_save_checkpoint (b, path, &error));
  g_assert_no_error (error);
  {
    g_autoptr(EpdTable) start = epd_table_new ("epd", 3, 2);
    EpdRdpoOptions o;

    tradeoff_options (&o, TRUE);
    start->afs = TRUE;
    o.iters = 60;
    c = epd_rdpo_new (&env, start, &o, &error);
    g_assert_no_error (error);
  }
  g_assert_true (epd_rdpo_load_checkpoint (c, path, &error));
  g_assert_no_error (error);
  g_assert_true (epd_rdpo_run (c, NULL, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  reloaded = epd_rdpo_dup_best_table (c, &reward_reloaded);
  g_assert_cmpfloat (fabs (reloaded->weight[0] - 0.5), <, 1e-12);
  epd_rdpo_free (a);
  epd_rdpo_free (b);
  epd_rdpo_free (c);
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rl/rdpo-auto/split", test_split);
  g_test_add_func ("/rl/rdpo-auto/rule", test_rule);
  g_test_add_func ("/rl/rdpo-auto/warmup-toy", test_warmup_toy);
  g_test_add_func ("/rl/rdpo-auto/warmup-interaction", test_warmup_interaction);
  g_test_add_func ("/rl/rdpo-auto/keep-coverage", test_keep_coverage);
  return g_test_run ();
}
