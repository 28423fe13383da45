/* SPDX-License-Identifier: MIT */
/* test-rdpo-model.c: RDPO end to end on a 2-D Gaussian mixture with the exact
 * log-density reward: the real solver, reward and diversity measure. */
#include <math.h>

#include "epd-model.h"
#include "epd-rdpo.h"

typedef struct
{
  EpdDenoiser *model;
  EpdReward   *reward;
  EpdRdpoEnv  *env;
  EpdTable    *start;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  EpdRewardContext context = { 0 };
  EpdSolveOptions solve;

  f->model = epd_model_from_spec ("gmm:ring8", &error);
  g_assert_no_error (error);
  f->start = epd_table_new ("epd", 3, 2);
  f->start->afs = TRUE;
  epd_rdpo_solve_options_for_table (&solve, f->start);
  context.model = f->model;
  context.solve = &solve;
  f->reward = epd_reward_parse ("logdensity", &context, &error);
  g_assert_no_error (error);
  f->env = epd_rdpo_env_new_model (f->model, f->reward);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  epd_rdpo_env_free (f->env);
  epd_reward_free (f->reward);
  epd_table_free (f->start);
  g_object_unref (f->model);
}

static void
options (EpdRdpoOptions *o)
{
  epd_rdpo_options_init (o);
  o->iters = 30;
  o->lr = 0.05;
  o->val_every = 10;
  o->val_seeds = 4;
  o->val_latents = 32;
  o->reward_spec = "logdensity";
}

/* The held-out log-density of the best table beats the uniform start's, and the
 * exported table is valid and says where it came from. */
static void
test_improves_logdensity (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdRdpo) rdpo = NULL;
  g_autoptr(EpdTable) best = NULL;
  EpdRdpoOptions o;
  EpdRdpoEval before, after;

  options (&o);
  rdpo = epd_rdpo_new (f->env, f->start, &o, &error);
  g_assert_no_error (error);
  g_assert_true (epd_rdpo_evaluate (rdpo, f->start, &before, NULL, &error));
  g_assert_true (epd_rdpo_run (rdpo, NULL, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  best = epd_rdpo_dup_best_table (rdpo, NULL);
  g_assert_true (epd_table_validate (best, &error));
  g_assert_true (epd_rdpo_evaluate (rdpo, best, &after, NULL, &error));
  g_test_message ("held-out log-density %g +- %g -> %g +- %g; diversity %g -> %g; spread %g -> %g",
                  before.reward_mean, before.reward_std, after.reward_mean, after.reward_std,
                  before.diversity_mean, after.diversity_mean, before.spread_mean, after.spread_mean);
  g_assert_cmpfloat (after.reward_mean, >, before.reward_mean);
  g_assert_true (isfinite (after.diversity_mean) && after.diversity_mean > 0.0);
  g_assert_true (isfinite (before.spread_mean) && before.spread_mean > 0.0);
  g_assert_true (isfinite (after.spread_mean) && after.spread_mean > 0.0);
  g_assert_true (json_object_has_member (best->metadata, "rdpo"));
  g_assert_cmpstr (json_object_get_string_member (best->metadata, "created_by"), ==, "epd rdpo (Stage 2)");
  g_assert_true (json_object_has_member (best->metadata, "init"));
}

/* Same seed, same trained policy, to the last bit. */
static void
test_deterministic (Fixture *f, gconstpointer data)
{
  g_autoptr(EpdRdpo) a = NULL;
  g_autoptr(EpdRdpo) b = NULL;
  EpdRdpoOptions o;
  EpdPolicy *pa, *pb;

  options (&o);
  o.iters = 5;
  a = epd_rdpo_new (f->env, f->start, &o, NULL);
  b = epd_rdpo_new (f->env, f->start, &o, NULL);
  g_assert_true (epd_rdpo_run (a, NULL, 0, NULL, NULL, NULL, NULL));
  g_assert_true (epd_rdpo_run (b, NULL, 0, NULL, NULL, NULL, NULL));
  pa = epd_rdpo_get_policy (a);
  pb = epd_rdpo_get_policy (b);
  g_assert_cmpmem (epd_policy_get_params (pa), epd_policy_n_params (pa) * sizeof (double),
                   epd_policy_get_params (pb), epd_policy_n_params (pb) * sizeof (double));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/rl/rdpo-model/improves-logdensity", Fixture, NULL,
              fixture_setup, test_improves_logdensity, fixture_teardown);
  g_test_add ("/rl/rdpo-model/deterministic", Fixture, NULL,
              fixture_setup, test_deterministic, fixture_teardown);
  return g_test_run ();
}
