/* SPDX-License-Identifier: MIT */
/* test-rdpo.c: the RDPO trainer on a toy environment whose reward is a known
 * function of the sampled table, so no solver or model is needed. */
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "epd-rdpo.h"

static const char *const toy_names[] = { "toy", NULL };

/* Reward: minus the squared distance of the table to a target table, plus a
 * little noise from the latents so rewards within a group differ. The final
 * "sample" is (r of step 0, weight of step 0) + 0.01 z. */
static const double target_r[6] = { 0.25, 0.5, 0.2, 0.6, 0.5, 0.8 };
static const double target_w[6] = { 0.7, 0.3, 0.2, 0.8, 0.5, 0.5 };

static gboolean
toy_rollout (gpointer data, const EpdTable *table, const double *z, gsize n,
             double *x_final, double *scores, double *term_scores,
             GCancellable *cancellable, GError **error)
{
  double d = 0.0;

  for (guint i = 0; i < 6; i++)
    d += (table->r[i] - target_r[i]) * (table->r[i] - target_r[i])
         + (table->weight[i] - target_w[i]) * (table->weight[i] - target_w[i]);
  for (gsize i = 0; i < n; i++)
    {
      x_final[2 * i] = table->r[0] + 0.01 * z[2 * i];
      x_final[2 * i + 1] = table->weight[0] + 0.01 * z[2 * i + 1];
      scores[i] = term_scores[i] = -d + 0.001 * z[2 * i];
    }
  return TRUE;
}

/* Spread of the samples' first coordinate: stands in for a diversity measure. */
static gboolean
toy_diversity (gpointer data, const double *x, gsize n, double *value, GError **error)
{
  double m = 0.0, s = 0.0;

  for (gsize i = 0; i < n; i++)
    m += x[2 * i] / n;
  for (gsize i = 0; i < n; i++)
    s += (x[2 * i] - m) * (x[2 * i] - m) / n;
  *value = sqrt (s);
  return TRUE;
}

static EpdRdpoEnv toy_env = {
  .dim = 2, .n_terms = 1, .term_names = toy_names,
  .rollout = toy_rollout, .diversity = toy_diversity,
};

static EpdTable *
make_start (void)
{
  static const double r[6] = { 0.13, 0.71, 0.3, 0.45, 0.62, 0.9 };
  static const double w[6] = { 0.4, 0.6, 0.06, 0.94, 0.5, 0.5 };
  EpdTable *t = epd_table_new ("epd", 3, 2);

  memcpy (t->r, r, sizeof r);
  memcpy (t->weight, w, sizeof w);
  return t;
}

static void
toy_options (EpdRdpoOptions *o)
{
  epd_rdpo_options_init (o);
  o->iters = 6;
  o->batch = 2;
  o->latents = 2;
  o->lr = 0.05;
  o->val_every = 2;
  o->val_seeds = 3;
  o->val_latents = 4;
  o->seed = 7;
  o->reward_spec = "toy";
}

/* With both scale factors, which the policy then samples too. */
static EpdTable *
make_start_scaled (void)
{
  EpdTable *t = make_start ();

  t->scale_dir = g_new (double, 6);
  t->scale_time = g_new (double, 6);
  for (guint i = 0; i < 6; i++)
    {
      t->scale_dir[i] = 1.0 + 0.01 * i;
      t->scale_time[i] = 1.0 - 0.01 * i;
    }
  return t;
}

static EpdRdpo *
make_trainer_scaled (const EpdRdpoOptions *o,
                     gboolean              scaled)
{
  g_autoptr(EpdTable) start = scaled ? make_start_scaled () : make_start ();
  g_autoptr(GError) error = NULL;
  EpdRdpo *rdpo = epd_rdpo_new (&toy_env, start, o, &error);

  g_assert_no_error (error);
  return rdpo;
}

static EpdRdpo *
make_trainer (const EpdRdpoOptions *o)
{
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(GError) error = NULL;
  EpdRdpo *rdpo = epd_rdpo_new (&toy_env, start, o, &error);

  g_assert_no_error (error);
  return rdpo;
}

static void
test_rloo (void)
{
  const double rewards[8] = { 1, 2, 3, 4, 5, 5, 5, 5 };
  double adv[8];
  double s = sqrt ((4.0 + 4.0 / 9 + 4.0 / 9 + 4.0) / 8.0);

  epd_rdpo_rloo_advantages (rewards, 8, 4, adv);
  /* Raw: R_j minus the mean of the other three: -2, -2/3, 2/3, 2; then 0 x 4. */
  g_assert_cmpfloat_with_epsilon (adv[0], -2.0 / s, 1e-12);
  g_assert_cmpfloat_with_epsilon (adv[1], -2.0 / 3 / s, 1e-12);
  g_assert_cmpfloat_with_epsilon (adv[3], 2.0 / s, 1e-12);
  g_assert_cmpfloat_with_epsilon (adv[5], 0.0, 1e-12);
  /* All equal: no signal, all zero. */
  epd_rdpo_rloo_advantages (rewards + 4, 4, 2, adv);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpfloat (adv[i], ==, 0.0);
}

/* The PPO loss gradient (clip, KL, entropy) against central differences, with
 * old log-probs from other parameters so that some ratios leave [0.8, 1.2]. */
static void
test_ppo_gradient (void)
{
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(EpdPolicy) policy = epd_policy_new (start, NULL, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  guint np = epd_policy_n_params (policy), len = 3 * epd_policy_sample_dim (policy);
  const guint n = 8;
  g_autofree double *log_x = g_new (double, n * len);
  g_autofree double *old_lp = g_new (double, n);
  g_autofree double *adv = g_new (double, n);
  g_autofree double *grad = g_new0 (double, np);
  double *p = epd_policy_get_params (policy);
  guint outside = 0;
  EpdRdpoLoss parts;

  for (guint j = 0; j < n; j++)
    {
      g_autoptr(EpdTable) t = epd_policy_sample (policy, rand, log_x + j * len);

      old_lp[j] = epd_policy_log_prob (policy, log_x + j * len, 0.0, NULL);
      adv[j] = epd_random_normal (rand);
    }
  for (guint i = 0; i < np; i++)
    p[i] = 0.08 * epd_random_normal (rand);
  epd_rdpo_ppo_loss (policy, log_x, old_lp, adv, n, 0.2, 0.1, 0.01, grad, &parts);
  for (guint j = 0; j < n; j++)
    {
      double rho = exp (epd_policy_log_prob (policy, log_x + j * len, 0.0, NULL) - old_lp[j]);

      outside += rho < 0.8 || rho > 1.2;
    }
  g_assert_cmpuint (outside, >, 0);
  g_assert_cmpuint (outside, <, n);
  g_assert_cmpfloat_with_epsilon (parts.loss, parts.policy_loss + 0.1 * parts.kl - 0.01 * parts.entropy, 1e-14);
  for (guint i = 0; i < np; i++)
    {
      double keep = p[i], up, down, fd;

      p[i] = keep + 1e-7;
      up = epd_rdpo_ppo_loss (policy, log_x, old_lp, adv, n, 0.2, 0.1, 0.01, NULL, NULL);
      p[i] = keep - 1e-7;
      down = epd_rdpo_ppo_loss (policy, log_x, old_lp, adv, n, 0.2, 0.1, 0.01, NULL, NULL);
      p[i] = keep;
      fd = (up - down) / 2e-7;
      g_assert_cmpfloat_with_epsilon (grad[i], fd, 1e-5 * MAX (1.0, fabs (fd)));
    }
}

static double
distance_to_target (const EpdTable *t)
{
  double d = 0.0;

  for (guint i = 0; i < 6; i++)
    d += (t->r[i] - target_r[i]) * (t->r[i] - target_r[i])
         + (t->weight[i] - target_w[i]) * (t->weight[i] - target_w[i]);
  return d;
}

typedef struct
{
  guint  calls;
  double first_ratio;
  double last_val;
} Progress;

static void
on_progress (const EpdRdpoRecord *r, gpointer user_data)
{
  Progress *p = user_data;

  if (p->calls++ == 0)
    p->first_ratio = r->ratio;
  g_assert_cmpuint (r->step, ==, p->calls);
  g_assert_true (isfinite (r->loss) && isfinite (r->kl) && isfinite (r->diversity));
  if (isfinite (r->reward_val))
    p->last_val = r->reward_val;
}

/* Training moves the policy mean toward the rewarded table. */
static void
test_improves (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) rdpo = NULL;
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(EpdTable) mean = NULL;
  g_autoptr(EpdTable) best = NULL;
  g_autoptr(GError) error = NULL;
  Progress progress = { 0 };
  EpdRdpoEval before;
  double best_reward;

  toy_options (&o);
  o.iters = 40;
  o.val_every = 10;
  rdpo = make_trainer (&o);
  g_assert_true (epd_rdpo_evaluate (rdpo, start, &before, NULL, &error));
  g_assert_true (epd_rdpo_run (rdpo, NULL, 0, on_progress, &progress, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (progress.calls, ==, 40);
  mean = epd_rdpo_dup_mean_table (rdpo);
  best = epd_rdpo_dup_best_table (rdpo, &best_reward);
  g_test_message ("distance to target: start %g, after %g; held-out reward %g -> best %g",
                  distance_to_target (start), distance_to_target (mean), before.reward_mean, best_reward);
  g_assert_cmpfloat (distance_to_target (mean), <, 0.7 * distance_to_target (start));
  g_assert_cmpfloat (best_reward, >, before.reward_mean);
  g_assert_cmpfloat (progress.last_val, >, before.reward_mean);
  g_assert_true (epd_table_validate (mean, &error));
  g_assert_true (json_object_has_member (mean->metadata, "rdpo"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (mean->metadata, "rdpo"),
                                               "iterations"), ==, 40);
}

static void
assert_same_state (EpdRdpo *a, EpdRdpo *b)
{
  EpdPolicy *pa = epd_rdpo_get_policy (a), *pb = epd_rdpo_get_policy (b);
  g_autoptr(EpdTable) ba = NULL;
  g_autoptr(EpdTable) bb = NULL;
  double ra, rb;

  g_assert_cmpuint (epd_rdpo_get_step (a), ==, epd_rdpo_get_step (b));
  g_assert_cmpmem (epd_policy_get_params (pa), epd_policy_n_params (pa) * sizeof (double),
                   epd_policy_get_params (pb), epd_policy_n_params (pb) * sizeof (double));
  ba = epd_rdpo_dup_best_table (a, &ra);
  bb = epd_rdpo_dup_best_table (b, &rb);
  g_assert_cmpfloat (ra, ==, rb);
  g_assert_true (epd_table_equal (ba, bb));
}

/* 6 iterations in one go equal 3, a checkpoint, a fresh trainer, and 3 more. */
static void
check_resume (EpdPolicyResidual residual,
              gboolean          scaled)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) whole = NULL;
  g_autoptr(EpdRdpo) first = NULL;
  g_autoptr(EpdRdpo) second = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-rdpo-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "ckpt.json", NULL);

  toy_options (&o);
  o.policy.residual = residual;
  o.policy.mlp_hidden = 6;
  whole = make_trainer_scaled (&o, scaled);
  g_assert_true (epd_rdpo_run (whole, NULL, 0, NULL, NULL, NULL, &error));
  o.iters = 3;
  first = make_trainer_scaled (&o, scaled);
  g_assert_true (epd_rdpo_run (first, path, 1, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  o.iters = 6;
  second = make_trainer_scaled (&o, scaled);
  g_assert_true (epd_rdpo_load_checkpoint (second, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (epd_rdpo_get_step (second), ==, 3);
  g_assert_true (epd_rdpo_run (second, NULL, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_same_state (whole, second);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_resume (void)
{
  check_resume (EPD_POLICY_TABULAR, FALSE);
  check_resume (EPD_POLICY_MLP, FALSE);
  check_resume (EPD_POLICY_TABULAR, TRUE);
}

static void
test_determinism (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) a = NULL;
  g_autoptr(EpdRdpo) b = NULL;
  g_autoptr(EpdRdpo) c = NULL;
  EpdPolicy *pa, *pc;

  toy_options (&o);
  a = make_trainer (&o);
  b = make_trainer (&o);
  g_assert_true (epd_rdpo_run (a, NULL, 0, NULL, NULL, NULL, NULL));
  g_assert_true (epd_rdpo_run (b, NULL, 0, NULL, NULL, NULL, NULL));
  assert_same_state (a, b);
  o.seed = 8;
  c = make_trainer (&o);
  g_assert_true (epd_rdpo_run (c, NULL, 0, NULL, NULL, NULL, NULL));
  pa = epd_rdpo_get_policy (a);
  pc = epd_rdpo_get_policy (c);
  g_assert_true (memcmp (epd_policy_get_params (pa), epd_policy_get_params (pc),
                         epd_policy_n_params (pa) * sizeof (double)) != 0);
}

/* A cancelled iteration changes nothing. */
static void
test_cancel (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) rdpo = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  EpdRdpoRecord record;
  EpdPolicy *policy;
  g_autofree double *before = NULL;

  toy_options (&o);
  rdpo = make_trainer (&o);
  g_assert_true (epd_rdpo_iterate (rdpo, &record, NULL, NULL));
  policy = epd_rdpo_get_policy (rdpo);
  before = g_memdup2 (epd_policy_get_params (policy), epd_policy_n_params (policy) * sizeof (double));
  g_cancellable_cancel (cancellable);
  g_assert_false (epd_rdpo_iterate (rdpo, &record, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (epd_rdpo_get_step (rdpo), ==, 1);
  g_assert_cmpmem (before, epd_policy_n_params (policy) * sizeof (double),
                   epd_policy_get_params (policy), epd_policy_n_params (policy) * sizeof (double));
}

static void
test_bad_checkpoints (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) a = NULL;
  g_autoptr(EpdRdpo) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-rdpo-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ckpt.json", NULL);

  toy_options (&o);
  o.iters = 1;
  a = make_trainer (&o);
  g_assert_true (epd_rdpo_run (a, path, 1, NULL, NULL, NULL, &error));
  o.group = 3;
  b = make_trainer (&o);
  g_assert_false (epd_rdpo_load_checkpoint (b, path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "group"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "{\"format\": \"epd-rdpo-checkpoint\", \"version\": 1, "
                                      "\"shape\": [1]}", -1, NULL));
  g_assert_false (epd_rdpo_load_checkpoint (b, path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "{\"format\": {}, \"version\": \"1\"}", -1, NULL));
  g_assert_false (epd_rdpo_load_checkpoint (b, path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "{\"format\": \"epd-rdpo-checkpoint\", \"version\": []}", -1, NULL));
  g_assert_false (epd_rdpo_load_checkpoint (b, path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "", -1, NULL));
  g_assert_false (epd_rdpo_load_checkpoint (b, path, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path, "{\"format\": ", -1, NULL));
  g_assert_false (epd_rdpo_load_checkpoint (b, path, &error));
  g_assert_nonnull (error);
  g_assert_cmpuint (epd_rdpo_get_step (b), ==, 0);
  g_unlink (path);
  g_rmdir (dir);
}

/* Sets one number of the checkpoint at path (member of root, or of "best"). */
static void
set_checkpoint_number (const char *path,
                       const char *object,
                       const char *member,
                       double      value)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *root;

  g_assert_true (json_parser_load_from_file (parser, path, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  if (object != NULL)
    root = json_object_get_object_member (root, object);
  json_object_set_double_member (root, member, value);
  g_assert_true (epd_json_save (json_parser_get_root (parser), path, NULL));
}

/* Counts past what guint / guint64 hold were cast (undefined behaviour). */
static void
test_checkpoint_ranges (void)
{
  const struct { const char *object, *member; double value; } bad[] = {
    { "best", "step", 1e20 }, { "best", "step", -5 }, { "best", "step", 1.5 },
    { NULL, "adam_t", 1e30 }, { NULL, "adam_t", -1 }, { NULL, "step", 4294967296.0 },
  };
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) a = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-rdpo-XXXXXX", NULL);
  g_autofree char *good = g_build_filename (dir, "good.json", NULL);
  g_autofree char *path = g_build_filename (dir, "ckpt.json", NULL);
  g_autofree char *text = NULL;

  toy_options (&o);
  o.iters = 2;
  o.val_every = 1;
  a = make_trainer (&o);
  g_assert_true (epd_rdpo_run (a, good, 1, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (good, &text, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(EpdRdpo) b = make_trainer (&o);

      g_assert_true (g_file_set_contents (path, text, -1, NULL));
      set_checkpoint_number (path, bad[i].object, bad[i].member, bad[i].value);
      g_assert_false (epd_rdpo_load_checkpoint (b, path, &error));
      g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
      g_assert_nonnull (strstr (error->message, bad[i].member));
      g_clear_error (&error);
    }
  g_unlink (path);
  g_unlink (good);
  g_rmdir (dir);
}

/* Large parameters were written as "1e+17.0", which is not JSON. */
static void
test_checkpoint_exponents (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) a = NULL;
  g_autoptr(EpdRdpo) b = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-rdpo-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "ckpt.json", NULL);
  g_autofree char *text = NULL;

  toy_options (&o);
  a = make_trainer (&o);
  b = make_trainer (&o);
  epd_policy_get_params (epd_rdpo_get_policy (a))[0] = 1e17;
  g_assert_true (epd_rdpo_save_checkpoint (a, path, &error));
  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  g_assert_null (strstr (text, "e+17.0"));
  g_assert_nonnull (strstr (text, "1e+17"));
  g_assert_true (epd_rdpo_load_checkpoint (b, path, &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (epd_policy_get_params (epd_rdpo_get_policy (b))[0], ==, 1e17);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_bad_options (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(GError) error = NULL;

  toy_options (&o);
  o.group = 1;
  g_assert_null (epd_rdpo_new (&toy_env, start, &o, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_clear_error (&error);
  /* --kl-coef inf was accepted and written to the table's metadata as "inf.0". */
  toy_options (&o);
  o.kl_coef = INFINITY;
  g_assert_null (epd_rdpo_new (&toy_env, start, &o, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "bad value inf"));
}

static void
test_record_json (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) rdpo = NULL;
  g_autoptr(JsonNode) node = NULL;
  EpdRdpoRecord record;
  JsonObject *obj;
  const char *names[] = { "loss", "policy_loss", "kl", "ratio", "grad_norm", "mixed_reward_mean",
                          "mixed_reward_std", "step", "elapsed_sec", "diversity", "toy_mean", "reward_val" };

  toy_options (&o);
  rdpo = make_trainer (&o);
  g_assert_true (epd_rdpo_iterate (rdpo, &record, NULL, NULL));
  node = epd_rdpo_record_to_json (&record);
  obj = json_node_get_object (node);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_true (json_object_has_member (obj, names[i]));
  g_assert_cmpint (json_object_get_int_member (obj, "step"), ==, 1);
  /* Not an evaluation step: unknown values are null, not NaN. */
  g_assert_true (json_object_get_null_member (obj, "reward_val"));
}

static void
on_async_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GMainLoop *loop = user_data;
  g_autoptr(GError) error = NULL;

  g_assert_true (epd_rdpo_run_finish (result, &error));
  g_assert_no_error (error);
  g_main_loop_quit (loop);
}

/* The GTask form gives the same result as the synchronous run. */
static void
test_async (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) a = NULL;
  g_autoptr(EpdRdpo) b = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Progress progress = { 0 };

  toy_options (&o);
  a = make_trainer (&o);
  b = make_trainer (&o);
  g_assert_true (epd_rdpo_run (a, NULL, 0, NULL, NULL, NULL, NULL));
  epd_rdpo_run_async (b, NULL, 0, on_progress, &progress, NULL, on_async_done, loop);
  g_main_loop_run (loop);
  g_assert_cmpuint (progress.calls, ==, 6);
  assert_same_state (a, b);
}

/* The unconstrained baseline reports the KL but does not pay for it. */
static void
test_unconstrained_no_kl (void)
{
  EpdRdpoOptions o;
  g_autoptr(EpdRdpo) rdpo = NULL;
  EpdRdpoRecord record;

  toy_options (&o);
  o.policy.unconstrained = TRUE;
  o.kl_coef = 0.5;
  rdpo = make_trainer (&o);
  g_assert_true (epd_rdpo_iterate (rdpo, &record, NULL, NULL));
  g_assert_true (epd_rdpo_iterate (rdpo, &record, NULL, NULL));
  g_assert_cmpfloat (record.kl, >, 0.0);
  g_assert_cmpfloat (record.loss, ==, record.policy_loss);
}

static gboolean
nan_rollout (gpointer data, const EpdTable *table, const double *z, gsize n,
             double *x_final, double *scores, double *term_scores,
             GCancellable *cancellable, GError **error)
{
  toy_rollout (data, table, z, n, x_final, scores, term_scores, cancellable, error);
  scores[n - 1] = NAN;
  return TRUE;
}

/* A reward that is not finite stops the iteration with a clear error. */
static void
test_nan_reward (void)
{
  EpdRdpoEnv env = toy_env;
  EpdRdpoOptions o;
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(EpdRdpo) rdpo = NULL;
  g_autoptr(GError) error = NULL;
  EpdRdpoRecord record;

  env.rollout = nan_rollout;
  toy_options (&o);
  rdpo = epd_rdpo_new (&env, start, &o, NULL);
  g_assert_false (epd_rdpo_iterate (rdpo, &record, NULL, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_NUMERIC);
  g_assert_nonnull (strstr (error->message, "not finite"));
  g_assert_cmpuint (epd_rdpo_get_step (rdpo), ==, 0);
}

/* An environment without a diversity measure trains and logs null diversity. */
static void
test_no_diversity (void)
{
  EpdRdpoEnv env = toy_env;
  EpdRdpoOptions o;
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(EpdRdpo) rdpo = NULL;
  g_autoptr(JsonNode) node = NULL;
  EpdRdpoRecord record;

  env.diversity = NULL;
  toy_options (&o);
  o.val_every = 1;
  rdpo = epd_rdpo_new (&env, start, &o, NULL);
  g_assert_true (epd_rdpo_iterate (rdpo, &record, NULL, NULL));
  g_assert_true (isnan (record.diversity) && isnan (record.diversity_val));
  g_assert_true (isfinite (record.reward_val));
  node = epd_rdpo_record_to_json (&record);
  g_assert_true (json_object_get_null_member (json_node_get_object (node), "diversity"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rl/rdpo/rloo", test_rloo);
  g_test_add_func ("/rl/rdpo/ppo-gradient", test_ppo_gradient);
  g_test_add_func ("/rl/rdpo/improves", test_improves);
  g_test_add_func ("/rl/rdpo/resume", test_resume);
  g_test_add_func ("/rl/rdpo/determinism", test_determinism);
  g_test_add_func ("/rl/rdpo/cancel", test_cancel);
  g_test_add_func ("/rl/rdpo/bad-checkpoints", test_bad_checkpoints);
  g_test_add_func ("/rl/rdpo/checkpoint-ranges", test_checkpoint_ranges);
  g_test_add_func ("/rl/rdpo/checkpoint-exponents", test_checkpoint_exponents);
  g_test_add_func ("/rl/rdpo/bad-options", test_bad_options);
  g_test_add_func ("/rl/rdpo/record-json", test_record_json);
  g_test_add_func ("/rl/rdpo/async", test_async);
  g_test_add_func ("/rl/rdpo/no-diversity", test_no_diversity);
  g_test_add_func ("/rl/rdpo/nan-reward", test_nan_reward);
  g_test_add_func ("/rl/rdpo/unconstrained-no-kl", test_unconstrained_no_kl);
  return g_test_run ();
}
