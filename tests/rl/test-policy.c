/* SPDX-License-Identifier: MIT */
/* test-policy.c: the RDPO Dirichlet policy over tables. */
#include <math.h>
#include <string.h>

#include "epd-policy.h"

/* A distilled-looking table: 3 steps, K = 2, uneven positions and weights. */
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

/* The same with both scale factors, which the policy samples log-normally. */
static EpdTable *
make_start_scaled (void)
{
  static const double sd[6] = { 1.02, 0.97, 1.0, 1.1, 0.9, 1.05 };
  static const double st[6] = { 0.99, 1.01, 1.03, 0.95, 1.0, 1.2 };
  EpdTable *t = make_start ();

  t->scale_dir = g_memdup2 (sd, sizeof sd);
  t->scale_time = g_memdup2 (st, sizeof st);
  return t;
}

static EpdPolicy *
make_policy_from (EpdTable          *start,
                  EpdPolicyResidual  residual,
                  gboolean           unconstrained)
{
  g_autoptr(GError) error = NULL;
  EpdPolicyOptions options;
  EpdPolicy *policy;

  epd_policy_options_init (&options);
  options.concentration = 15.0;
  options.residual = residual;
  options.mlp_hidden = 8;
  options.unconstrained = unconstrained;
  policy = epd_policy_new (start, &options, &error);
  g_assert_no_error (error);
  epd_table_free (start);
  return policy;
}

static EpdPolicy *
make_policy (EpdPolicyResidual residual,
             gboolean          unconstrained)
{
  return make_policy_from (make_start (), residual, unconstrained);
}

static void
check_mean_is_start (EpdPolicyResidual residual,
                     gboolean          unconstrained)
{
  g_autoptr(EpdPolicy) policy = make_policy (residual, unconstrained);
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(EpdTable) mean = epd_policy_mean_table (policy);

  for (guint i = 0; i < 6; i++)
    {
      g_assert_cmpfloat_with_epsilon (mean->r[i], start->r[i], 1e-15);
      g_assert_cmpfloat_with_epsilon (mean->weight[i], start->weight[i], 1e-15);
    }
  g_assert_cmpfloat (fabs (epd_policy_kl_to_start (policy, 1.0, NULL)), <, 1e-13);
}

static void
test_mean_is_start (void)
{
  check_mean_is_start (EPD_POLICY_TABULAR, FALSE);
  check_mean_is_start (EPD_POLICY_MLP, FALSE);
  check_mean_is_start (EPD_POLICY_TABULAR, TRUE);
}

/* Scale factors come back at their medians: exactly the start's. */
static void
test_mean_scales_are_start (void)
{
  g_autoptr(EpdPolicy) policy = make_policy_from (make_start_scaled (), EPD_POLICY_MLP, FALSE);
  g_autoptr(EpdTable) start = make_start_scaled ();
  g_autoptr(EpdTable) mean = epd_policy_mean_table (policy);

  g_assert_cmpuint (epd_policy_sample_dim (policy), ==, 5 + 4);
  for (guint i = 0; i < 6; i++)
    {
      g_assert_cmpfloat_with_epsilon (mean->r[i], start->r[i], 1e-15);
      g_assert_cmpfloat_with_epsilon (mean->scale_dir[i], start->scale_dir[i], 1e-15);
      g_assert_cmpfloat_with_epsilon (mean->scale_time[i], start->scale_time[i], 1e-15);
    }
  g_assert_cmpfloat (fabs (epd_policy_kl_to_start (policy, 1.0, NULL)), <, 1e-13);
}

/* log s of sampled scales: mean log s0, std 0.05 (default scale_sigma);
 * 20000 samples give a standard error of 3.5e-4 on the mean. */
static void
test_scale_samples (void)
{
  g_autoptr(EpdPolicy) policy = make_policy_from (make_start_scaled (), EPD_POLICY_TABULAR, FALSE);
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);
  g_autofree double *log_x = g_new (double, 3 * epd_policy_sample_dim (policy));
  double m = 0.0, m2 = 0.0;
  const guint n = 20000;

  for (guint s = 0; s < n; s++)
    {
      g_autoptr(EpdTable) t = epd_policy_sample (policy, rand, log_x);
      double l = log (t->scale_time[3]);

      m += l / n;
      m2 += l * l / n;
    }
  g_assert_cmpfloat_with_epsilon (m, log (0.95), 5 * 0.05 / sqrt (n));
  g_assert_cmpfloat_with_epsilon (sqrt (m2 - m * m), 0.05, 0.002);
}

/* A rollout's table carries no provenance; the mean table, which may become
 * the best table written out, keeps the start's. */
static void
test_sample_metadata (void)
{
  EpdTable *start = make_start ();
  g_autoptr(EpdPolicy) policy = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  g_autoptr(EpdTable) sampled = NULL, mean = NULL;
  g_autofree double *log_x = NULL;

  json_object_set_string_member (start->metadata, "source", "distill");
  policy = make_policy_from (start, EPD_POLICY_TABULAR, FALSE);
  log_x = g_new (double, 3 * epd_policy_sample_dim (policy));
  sampled = epd_policy_sample (policy, rand, log_x);
  mean = epd_policy_mean_table (policy);
  g_assert_cmpuint (json_object_get_size (sampled->metadata), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (mean->metadata, "source"), ==, "distill");
}

/* Concentration c: the alphas sum to c per Dirichlet at start. */
static void
test_concentration (void)
{
  g_autoptr(EpdPolicy) policy = make_policy (EPD_POLICY_TABULAR, FALSE);
  double alpha[5];

  epd_policy_alpha (policy, 1, alpha);
  g_assert_cmpfloat_with_epsilon (alpha[0] + alpha[1] + alpha[2], 15.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (alpha[3] + alpha[4], 15.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (alpha[0], 15.0 * 0.3, 1e-12);
  g_assert_cmpfloat_with_epsilon (alpha[4], 15.0 * 0.94, 1e-12);
}

static void
randomise_params (EpdPolicy *policy,
                  guint32    seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  double *p = epd_policy_get_params (policy);

  for (guint i = 0; i < epd_policy_n_params (policy); i++)
    p[i] += 0.3 * epd_random_normal (rand);
}

typedef double (*PolicyValue) (const EpdPolicy *self, gconstpointer data, double *grad);

static double
log_prob_value (const EpdPolicy *self, gconstpointer data, double *grad)
{
  return epd_policy_log_prob (self, data, 1.0, grad);
}

static double
kl_value (const EpdPolicy *self, gconstpointer data, double *grad)
{
  return epd_policy_kl_to_start (self, 1.0, grad);
}

static double
entropy_value (const EpdPolicy *self, gconstpointer data, double *grad)
{
  return epd_policy_entropy (self, 1.0, grad);
}

/* Analytic gradient against central differences (step 1e-6, rel. tol 1e-5). */
static void
check_gradient (EpdPolicy *policy, PolicyValue f, gconstpointer data)
{
  guint n = epd_policy_n_params (policy);
  g_autofree double *grad = g_new0 (double, n);
  double *p = epd_policy_get_params (policy);

  f (policy, data, grad);
  for (guint i = 0; i < n; i++)
    {
      double keep = p[i], up, down, fd;

      p[i] = keep + 1e-6;
      up = f (policy, data, NULL);
      p[i] = keep - 1e-6;
      down = f (policy, data, NULL);
      p[i] = keep;
      fd = (up - down) / 2e-6;
      g_assert_cmpfloat_with_epsilon (grad[i], fd, 1e-5 * MAX (1.0, fabs (fd)));
    }
}

static void
check_gradients (EpdPolicyResidual residual,
                 gboolean          unconstrained,
                 gboolean          scaled)
{
  g_autoptr(EpdPolicy) policy = make_policy_from (scaled ? make_start_scaled () : make_start (),
                                                  residual, unconstrained);
  g_autoptr(GRand) rand = g_rand_new_with_seed (17);
  g_autofree double *log_x = g_new (double, 3 * epd_policy_sample_dim (policy));
  g_autoptr(EpdTable) sample = NULL;

  randomise_params (policy, 23);
  sample = epd_policy_sample (policy, rand, log_x);
  check_gradient (policy, log_prob_value, log_x);
  check_gradient (policy, kl_value, NULL);
  check_gradient (policy, entropy_value, NULL);
}

static void
test_gradients (void)
{
  check_gradients (EPD_POLICY_TABULAR, FALSE, FALSE);
  check_gradients (EPD_POLICY_MLP, FALSE, FALSE);
  check_gradients (EPD_POLICY_TABULAR, TRUE, FALSE);
  check_gradients (EPD_POLICY_MLP, TRUE, FALSE);
  check_gradients (EPD_POLICY_TABULAR, FALSE, TRUE);
  check_gradients (EPD_POLICY_MLP, TRUE, TRUE);
}

/* Samples are valid tables, and their average tends to the policy mean:
 * 20000 samples, Var(segment) <= 1/(4(c+1)), so 5 standard errors < 0.005. */
static void
test_samples (void)
{
  g_autoptr(EpdPolicy) policy = make_policy (EPD_POLICY_TABULAR, FALSE);
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  g_autofree double *log_x = g_new (double, 3 * epd_policy_sample_dim (policy));
  g_autoptr(EpdTable) mean = NULL;
  double avg_r[6] = { 0 }, avg_w[6] = { 0 };
  const guint n = 20000;

  randomise_params (policy, 3);
  mean = epd_policy_mean_table (policy);
  for (guint s = 0; s < n; s++)
    {
      g_autoptr(EpdTable) t = epd_policy_sample (policy, rand, log_x);
      g_autoptr(GError) error = NULL;

      g_assert_true (epd_table_validate (t, &error));
      g_assert_no_error (error);
      for (guint step = 0; step < 3; step++)
        {
          g_assert_cmpfloat (t->r[2 * step], >, 0.0);
          g_assert_cmpfloat (t->r[2 * step], <=, t->r[2 * step + 1]);
          g_assert_cmpfloat (t->r[2 * step + 1], <, 1.0);
          g_assert_cmpfloat_with_epsilon (t->weight[2 * step] + t->weight[2 * step + 1], 1.0, 1e-14);
        }
      for (guint i = 0; i < 6; i++)
        {
          avg_r[i] += t->r[i] / n;
          avg_w[i] += t->weight[i] / n;
        }
    }
  for (guint i = 0; i < 6; i++)
    {
      g_assert_cmpfloat_with_epsilon (avg_r[i], mean->r[i], 0.005);
      g_assert_cmpfloat_with_epsilon (avg_w[i], mean->weight[i], 0.005);
    }
}

/* Unsorted rows come back sorted with their weights. */
static void
test_sorts_start (void)
{
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(EpdPolicy) policy = NULL;
  g_autoptr(EpdTable) mean = NULL;

  start->r[0] = 0.71;
  start->r[1] = 0.13;
  start->weight[0] = 0.6;
  start->weight[1] = 0.4;
  policy = epd_policy_new (start, NULL, NULL);
  mean = epd_policy_mean_table (policy);
  g_assert_cmpfloat_with_epsilon (mean->r[0], 0.13, 1e-15);
  g_assert_cmpfloat_with_epsilon (mean->weight[0], 0.4, 1e-15);
  g_assert_cmpfloat_with_epsilon (mean->r[1], 0.71, 1e-15);
  g_assert_cmpfloat_with_epsilon (mean->weight[1], 0.6, 1e-15);
}

static void
test_bad_options (void)
{
  g_autoptr(EpdTable) start = make_start ();
  g_autoptr(GError) error = NULL;
  EpdPolicyOptions options;
  EpdPolicy *policy;

  epd_policy_options_init (&options);
  options.concentration = -1.0;
  policy = epd_policy_new (start, &options, &error);
  g_assert_null (policy);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
}

static void
test_determinism (void)
{
  g_autoptr(EpdPolicy) policy = make_policy (EPD_POLICY_MLP, FALSE);
  g_autoptr(GRand) a = g_rand_new_with_seed (99);
  g_autoptr(GRand) b = g_rand_new_with_seed (99);
  guint n = 3 * epd_policy_sample_dim (policy);
  g_autofree double *xa = g_new (double, n);
  g_autofree double *xb = g_new (double, n);
  g_autoptr(EpdTable) ta = NULL;
  g_autoptr(EpdTable) tb = NULL;

  randomise_params (policy, 1);
  ta = epd_policy_sample (policy, a, xa);
  tb = epd_policy_sample (policy, b, xb);
  g_assert_cmpmem (xa, n * sizeof (double), xb, n * sizeof (double));
  g_assert_true (epd_table_equal (ta, tb));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rl/policy/mean-is-start", test_mean_is_start);
  g_test_add_func ("/rl/policy/mean-scales-are-start", test_mean_scales_are_start);
  g_test_add_func ("/rl/policy/scale-samples", test_scale_samples);
  g_test_add_func ("/rl/policy/sample-metadata", test_sample_metadata);
  g_test_add_func ("/rl/policy/concentration", test_concentration);
  g_test_add_func ("/rl/policy/gradients", test_gradients);
  g_test_add_func ("/rl/policy/samples", test_samples);
  g_test_add_func ("/rl/policy/sorts-start", test_sorts_start);
  g_test_add_func ("/rl/policy/bad-options", test_bad_options);
  g_test_add_func ("/rl/policy/determinism", test_determinism);
  return g_test_run ();
}
