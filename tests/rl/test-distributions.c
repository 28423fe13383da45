/* SPDX-License-Identifier: MIT */
/* test-distributions.c: Gamma, Dirichlet and log-normal against closed forms. */
#include <math.h>
#include <string.h>

#include "epd-distributions.h"

#define EULER_GAMMA 0.57721566490153286

static void
test_digamma_known (void)
{
  g_assert_cmpfloat_with_epsilon (epd_digamma (1.0), -EULER_GAMMA, 1e-13);
  g_assert_cmpfloat_with_epsilon (epd_digamma (0.5), -EULER_GAMMA - 2.0 * G_LN2, 1e-13);
  /* psi(4) = 1 + 1/2 + 1/3 - gamma */
  g_assert_cmpfloat_with_epsilon (epd_digamma (4.0), 11.0 / 6.0 - EULER_GAMMA, 1e-13);
  /* psi(x + 1) = psi(x) + 1/x across the switch to the asymptotic series */
  g_assert_cmpfloat_with_epsilon (epd_digamma (10.5), epd_digamma (9.5) + 1.0 / 9.5, 1e-13);
  g_assert_cmpfloat_with_epsilon (epd_digamma (1e-3), -1000.0 - EULER_GAMMA + 1.6449340668 * 1e-3
                                  - 1.2020569032 * 1e-6, 1e-8);
  g_assert_true (isnan (epd_digamma (0.0)));
  g_assert_true (isnan (epd_digamma (-1.0)));
  g_assert_cmpfloat_with_epsilon (epd_trigamma (1.0), G_PI * G_PI / 6.0, 1e-13);
  g_assert_cmpfloat_with_epsilon (epd_trigamma (0.5), G_PI * G_PI / 2.0, 1e-12);
  g_assert_cmpfloat_with_epsilon (epd_trigamma (30.0),
                                  (epd_digamma (30.0 + 1e-5) - epd_digamma (30.0 - 1e-5)) / 2e-5, 1e-8);
}

/* Sample mean and variance of Gamma(a): both equal a. N = 40000 gives a
 * standard error of sqrt(a/N) on the mean; we allow 5 of them. */
static void
check_gamma_moments (double shape)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const guint n = 40000;
  double m = 0.0, m2 = 0.0;

  for (guint i = 0; i < n; i++)
    {
      double g = epd_gamma_sample (rand, shape);

      g_assert_cmpfloat (g, >=, 0.0);
      m += g;
      m2 += g * g;
    }
  m /= n;
  m2 = m2 / n - m * m;
  g_assert_cmpfloat_with_epsilon (m, shape, 5.0 * sqrt (shape / n));
  /* Var of the sample variance ~ (mu4 - a^2)/N with mu4 = 3a^2 + 6a. */
  g_assert_cmpfloat_with_epsilon (m2, shape, 5.0 * sqrt ((2.0 * shape * shape + 6.0 * shape) / n));
}

static void
test_gamma_moments (void)
{
  check_gamma_moments (0.3);
  check_gamma_moments (1.0);
  check_gamma_moments (4.5);
  check_gamma_moments (40.0);
}

static void
test_gamma_bad_shape (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);

  g_assert_true (isnan (epd_gamma_sample_log (rand, 0.0)));
  g_assert_true (isnan (epd_gamma_sample_log (rand, -1.0)));
  g_assert_true (isnan (epd_gamma_sample_log (rand, NAN)));
}

static void
test_dirichlet_moments (void)
{
  const double alpha[4] = { 0.5, 2.0, 3.5, 6.0 };
  const guint n = 40000;
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  double mean[4] = { 0 }, sq[4] = { 0 };
  double a0 = 12.0;

  for (guint s = 0; s < n; s++)
    {
      double x[4], lx[4], total = 0.0;

      g_assert_true (epd_dirichlet_sample (rand, alpha, 4, x, lx));
      for (guint i = 0; i < 4; i++)
        {
          total += x[i];
          g_assert_cmpfloat_with_epsilon (lx[i], log (x[i]), 1e-12);
          mean[i] += x[i];
          sq[i] += x[i] * x[i];
        }
      g_assert_cmpfloat_with_epsilon (total, 1.0, 1e-14);
    }
  for (guint i = 0; i < 4; i++)
    {
      double m = alpha[i] / a0;
      double var = alpha[i] * (a0 - alpha[i]) / (a0 * a0 * (a0 + 1.0));
      double svar = sq[i] / n - (mean[i] / n) * (mean[i] / n);

      g_assert_cmpfloat_with_epsilon (mean[i] / n, m, 5.0 * sqrt (var / n));
      /* relative error of a sample variance ~ sqrt(2/N) for light tails; 10% is > 5 of them */
      g_assert_cmpfloat_with_epsilon (svar, var, 0.1 * var);
    }
}

static void
test_dirichlet_tiny_shapes (void)
{
  const double alpha[3] = { 1e-3, 1e-3, 1e-3 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);

  for (guint s = 0; s < 1000; s++)
    {
      double x[3], lx[3];

      g_assert_true (epd_dirichlet_sample (rand, alpha, 3, x, lx));
      for (guint i = 0; i < 3; i++)
        g_assert_true (isfinite (lx[i]) && lx[i] <= 0.0);
      g_assert_true (isfinite (epd_dirichlet_log_density (alpha, lx, 3)));
    }
  {
    const double bad[2] = { 1.0, 0.0 };
    double x[2];

    g_assert_false (epd_dirichlet_sample (rand, bad, 2, x, NULL));
  }
}

static void
test_dirichlet_log_density (void)
{
  const double flat[3] = { 1.0, 1.0, 1.0 };
  const double beta23[2] = { 2.0, 3.0 };
  const double lx3[3] = { log (0.2), log (0.5), log (0.3) };
  const double lx2[2] = { log (0.3), log (0.7) };

  /* Dir(1,1,1) is uniform on the simplex with density Gamma(3) = 2. */
  g_assert_cmpfloat_with_epsilon (epd_dirichlet_log_density (flat, lx3, 3), G_LN2, 1e-14);
  /* Beta(2,3): 12 x (1-x)^2 */
  g_assert_cmpfloat_with_epsilon (epd_dirichlet_log_density (beta23, lx2, 2),
                                  log (12.0 * 0.3 * 0.49), 1e-13);
}

typedef double (*ScalarOfAlpha) (const double *alpha, gconstpointer data, guint n);

static double
log_density_of (const double *alpha, gconstpointer data, guint n)
{
  return epd_dirichlet_log_density (alpha, data, n);
}

static double
entropy_of (const double *alpha, gconstpointer data, guint n)
{
  return epd_dirichlet_entropy (alpha, n);
}

static double
kl_of (const double *alpha, gconstpointer data, guint n)
{
  return epd_dirichlet_kl (alpha, data, n);
}

/* Central differences, step 1e-6: truncation ~1e-12, rounding ~1e-10. */
static void
check_gradient (ScalarOfAlpha f, gconstpointer data, const double *alpha, guint n, const double *grad)
{
  for (guint i = 0; i < n; i++)
    {
      double a[8];
      double up, down;

      memcpy (a, alpha, n * sizeof (double));
      a[i] = alpha[i] + 1e-6;
      up = f (a, data, n);
      a[i] = alpha[i] - 1e-6;
      down = f (a, data, n);
      g_assert_cmpfloat_with_epsilon (grad[i], (up - down) / 2e-6, 1e-6 * MAX (1.0, fabs (grad[i])));
    }
}

static void
test_dirichlet_gradients (void)
{
  const double alpha[4] = { 0.7, 2.0, 3.5, 11.0 };
  const double beta[4] = { 1.5, 1.0, 4.0, 6.0 };
  const double lx[4] = { log (0.1), log (0.2), log (0.3), log (0.4) };
  double grad[4];

  epd_dirichlet_log_density_grad (alpha, lx, 4, grad);
  check_gradient (log_density_of, lx, alpha, 4, grad);
  epd_dirichlet_entropy_grad (alpha, 4, grad);
  check_gradient (entropy_of, NULL, alpha, 4, grad);
  epd_dirichlet_kl_grad (alpha, beta, 4, grad);
  check_gradient (kl_of, beta, alpha, 4, grad);
}

static void
test_entropy_kl_known (void)
{
  const double flat[3] = { 1.0, 1.0, 1.0 };
  const double beta22[2] = { 2.0, 2.0 };
  const double beta21[2] = { 2.0, 1.0 };
  const double unif[2] = { 1.0, 1.0 };
  const double alpha[4] = { 0.7, 2.0, 3.5, 11.0 };
  double grad[4];

  /* Uniform on the 2-simplex (area 1/2): H = -log 2. */
  g_assert_cmpfloat_with_epsilon (epd_dirichlet_entropy (flat, 3), -G_LN2, 1e-14);
  /* Beta(2,2): log B(2,2) - 2 psi(2) + 2 psi(4) = -0.1250928025613... */
  g_assert_cmpfloat_with_epsilon (epd_dirichlet_entropy (beta22, 2),
                                  log (1.0 / 6.0) - 2.0 * (1.0 - EULER_GAMMA)
                                  + 2.0 * (11.0 / 6.0 - EULER_GAMMA), 1e-13);
  g_assert_cmpfloat_with_epsilon (epd_dirichlet_entropy (beta22, 2), -0.12509280256138, 1e-12);
  /* KL(Beta(2,1) || U(0,1)) = E log(2x) = log 2 - 1/2. */
  g_assert_cmpfloat_with_epsilon (epd_dirichlet_kl (beta21, unif, 2), G_LN2 - 0.5, 1e-14);
  g_assert_cmpfloat (fabs (epd_dirichlet_kl (alpha, alpha, 4)), <, 1e-14);
  epd_dirichlet_kl_grad (alpha, alpha, 4, grad);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpfloat (fabs (grad[i]), <, 1e-14);
}

/* KL against a Monte Carlo estimate E_p[log p - log q]: 20000 samples. */
static void
test_kl_monte_carlo (void)
{
  const double alpha[3] = { 2.0, 5.0, 1.5 };
  const double beta[3] = { 1.0, 3.0, 3.0 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  const guint n = 20000;
  double m = 0.0, m2 = 0.0;

  for (guint s = 0; s < n; s++)
    {
      double x[3], lx[3], d;

      epd_dirichlet_sample (rand, alpha, 3, x, lx);
      d = epd_dirichlet_log_density (alpha, lx, 3) - epd_dirichlet_log_density (beta, lx, 3);
      m += d;
      m2 += d * d;
    }
  m /= n;
  m2 = m2 / n - m * m;
  g_assert_cmpfloat_with_epsilon (epd_dirichlet_kl (alpha, beta, 3), m, 5.0 * sqrt (m2 / n));
}

static void
test_lognormal (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  const guint n = 40000;
  const double mu = 0.2, sigma = 0.3;
  double m = 0.0;
  double expected = exp (mu + 0.5 * sigma * sigma);
  double var = (exp (sigma * sigma) - 1.0) * expected * expected;

  for (guint s = 0; s < n; s++)
    m += epd_lognormal_sample (rand, mu, sigma);
  g_assert_cmpfloat_with_epsilon (m / n, expected, 5.0 * sqrt (var / n));
  /* At x = e^mu the density is 1 / (x sigma sqrt(2 pi)). */
  g_assert_cmpfloat_with_epsilon (epd_lognormal_log_density (exp (mu), mu, sigma),
                                  -mu - log (sigma * sqrt (2.0 * G_PI)), 1e-14);
  g_assert_true (isinf (epd_lognormal_log_density (0.0, mu, sigma)));
  g_assert_cmpfloat_with_epsilon (epd_lognormal_kl (mu, sigma, mu, sigma), 0.0, 1e-15);
  /* KL(N(0,1) || N(1,2^2)) = log 2 + (1 + 1)/8 - 1/2 */
  g_assert_cmpfloat_with_epsilon (epd_lognormal_kl (0.0, 1.0, 1.0, 2.0), G_LN2 + 0.25 - 0.5, 1e-14);
  g_assert_cmpfloat_with_epsilon (epd_lognormal_entropy (0.0, 1.0), 0.5 + 0.5 * log (2.0 * G_PI), 1e-14);
}

/* The log-normal's gradients in (mu, log sigma) against central differences. */
static void
test_lognormal_gradients (void)
{
  const double lx = 0.3, mu = 0.1, ls = -1.2, mq = -0.2, lsq = -0.7, h = 1e-6;
  double dm, dls, up, down, unused1, unused2;

  g_assert_cmpfloat_with_epsilon (epd_lognormal_log_density_grad (lx, mu, ls, &dm, &dls),
                                  epd_lognormal_log_density (exp (lx), mu, exp (ls)), 1e-13);
  up = epd_lognormal_log_density_grad (lx, mu + h, ls, &unused1, &unused2);
  down = epd_lognormal_log_density_grad (lx, mu - h, ls, &unused1, &unused2);
  g_assert_cmpfloat_with_epsilon (dm, (up - down) / (2 * h), 1e-6);
  up = epd_lognormal_log_density_grad (lx, mu, ls + h, &unused1, &unused2);
  down = epd_lognormal_log_density_grad (lx, mu, ls - h, &unused1, &unused2);
  g_assert_cmpfloat_with_epsilon (dls, (up - down) / (2 * h), 1e-6);

  g_assert_cmpfloat_with_epsilon (epd_lognormal_kl_grad (mu, ls, mq, lsq, &dm, &dls),
                                  epd_lognormal_kl (mu, exp (ls), mq, exp (lsq)), 1e-13);
  up = epd_lognormal_kl_grad (mu + h, ls, mq, lsq, &unused1, &unused2);
  down = epd_lognormal_kl_grad (mu - h, ls, mq, lsq, &unused1, &unused2);
  g_assert_cmpfloat_with_epsilon (dm, (up - down) / (2 * h), 1e-6);
  up = epd_lognormal_kl_grad (mu, ls + h, mq, lsq, &unused1, &unused2);
  down = epd_lognormal_kl_grad (mu, ls - h, mq, lsq, &unused1, &unused2);
  g_assert_cmpfloat_with_epsilon (dls, (up - down) / (2 * h), 1e-6);
}

static void
test_determinism (void)
{
  g_autoptr(GRand) a = g_rand_new_with_seed (42);
  g_autoptr(GRand) b = g_rand_new_with_seed (42);
  const double alpha[3] = { 0.4, 3.0, 8.0 };

  for (guint s = 0; s < 100; s++)
    {
      double xa[3], xb[3];

      epd_dirichlet_sample (a, alpha, 3, xa, NULL);
      epd_dirichlet_sample (b, alpha, 3, xb, NULL);
      g_assert_cmpmem (xa, sizeof xa, xb, sizeof xb);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rl/distributions/digamma", test_digamma_known);
  g_test_add_func ("/rl/distributions/gamma-moments", test_gamma_moments);
  g_test_add_func ("/rl/distributions/gamma-bad-shape", test_gamma_bad_shape);
  g_test_add_func ("/rl/distributions/dirichlet-moments", test_dirichlet_moments);
  g_test_add_func ("/rl/distributions/dirichlet-tiny-shapes", test_dirichlet_tiny_shapes);
  g_test_add_func ("/rl/distributions/dirichlet-log-density", test_dirichlet_log_density);
  g_test_add_func ("/rl/distributions/dirichlet-gradients", test_dirichlet_gradients);
  g_test_add_func ("/rl/distributions/entropy-kl-known", test_entropy_kl_known);
  g_test_add_func ("/rl/distributions/kl-monte-carlo", test_kl_monte_carlo);
  g_test_add_func ("/rl/distributions/lognormal", test_lognormal);
  g_test_add_func ("/rl/distributions/lognormal-gradients", test_lognormal_gradients);
  g_test_add_func ("/rl/distributions/determinism", test_determinism);
  return g_test_run ();
}
