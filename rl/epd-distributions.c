/* SPDX-License-Identifier: MIT */
/* epd-distributions.c: Gamma, Dirichlet and log-normal distributions. */
#include "epd-distributions.h"

#include <math.h>

#include "epd-random.h"

/* Below this the recurrence shifts x up; above it the asymptotic series of
 * psi and psi' is accurate to double precision. */
#define ASYMPTOTIC_FROM 10.0

double
epd_digamma (double x)
{
  double shift = 0.0;
  double inv, inv2;

  if (!(x > 0.0) || isinf (x))
    return isinf (x) && x > 0.0 ? INFINITY : NAN;
  while (x < ASYMPTOTIC_FROM)
    {
      shift -= 1.0 / x;   /* psi(x) = psi(x + 1) - 1/x */
      x += 1.0;
    }
  inv = 1.0 / x;
  inv2 = inv * inv;
  return shift + log (x) - 0.5 * inv
         - inv2 * (1.0 / 12 - inv2 * (1.0 / 120 - inv2 * (1.0 / 252
                   - inv2 * (1.0 / 240 - inv2 * (1.0 / 132)))));
}

double
epd_trigamma (double x)
{
  double shift = 0.0;
  double inv, inv2;

  if (!(x > 0.0) || isinf (x))
    return isinf (x) && x > 0.0 ? 0.0 : NAN;
  while (x < ASYMPTOTIC_FROM)
    {
      shift += 1.0 / (x * x);   /* psi'(x) = psi'(x + 1) + 1/x^2 */
      x += 1.0;
    }
  inv = 1.0 / x;
  inv2 = inv * inv;
  return shift + inv + 0.5 * inv2
         + inv * inv2 * (1.0 / 6 - inv2 * (1.0 / 30 - inv2 * (1.0 / 42
                         - inv2 * (1.0 / 30 - inv2 * (5.0 / 66)))));
}

/* log of a Gamma(shape >= 1, 1) sample (Marsaglia and Tsang, 2000). */
static double
gamma_log_marsaglia_tsang (GRand  *rand,
                           double  shape)
{
  double d = shape - 1.0 / 3.0;
  double c = 1.0 / sqrt (9.0 * d);

  for (;;)
    {
      double z = epd_random_normal (rand);
      double v = 1.0 + c * z;
      double u;

      if (v <= 0.0)
        continue;
      v = v * v * v;
      u = 1.0 - g_rand_double (rand);   /* in (0, 1] */
      if (log (u) < 0.5 * z * z + d - d * v + d * log (v))
        return log (d) + log (v);
    }
}

double
epd_gamma_sample_log (GRand  *rand,
                      double  shape)
{
  g_return_val_if_fail (rand != NULL, NAN);
  if (!(shape > 0.0) || isinf (shape))
    return NAN;
  if (shape >= 1.0)
    return gamma_log_marsaglia_tsang (rand, shape);
  /* The boost: G(a) = G(a + 1) U^(1/a), kept in logs so tiny shapes stay finite. */
  {
    double log_g = gamma_log_marsaglia_tsang (rand, shape + 1.0);
    double u = 1.0 - g_rand_double (rand);

    return log_g + log (u) / shape;
  }
}

double
epd_gamma_sample (GRand  *rand,
                  double  shape)
{
  return exp (epd_gamma_sample_log (rand, shape));
}

gboolean
epd_dirichlet_sample (GRand        *rand,
                      const double *alpha,
                      guint         n,
                      double       *x,
                      double       *log_x)
{
  g_autofree double *log_g = g_new (double, n);
  double top = -INFINITY;
  double total = 0.0;
  double log_total;

  for (guint i = 0; i < n; i++)
    if (!(alpha[i] > 0.0) || isinf (alpha[i]))
      return FALSE;
  for (guint i = 0; i < n; i++)
    {
      log_g[i] = epd_gamma_sample_log (rand, alpha[i]);
      top = MAX (top, log_g[i]);
    }
  /* Normalise in logs (log-sum-exp) so components that underflow keep a finite log. */
  for (guint i = 0; i < n; i++)
    total += exp (log_g[i] - top);
  log_total = top + log (total);
  for (guint i = 0; i < n; i++)
    {
      double l = log_g[i] - log_total;

      x[i] = exp (l);
      if (log_x != NULL)
        log_x[i] = l;
    }
  return TRUE;
}

static double
sum (const double *v,
     guint         n)
{
  double s = 0.0;

  for (guint i = 0; i < n; i++)
    s += v[i];
  return s;
}

double
epd_dirichlet_log_density (const double *alpha,
                           const double *log_x,
                           guint         n)
{
  double value = lgamma (sum (alpha, n));

  for (guint i = 0; i < n; i++)
    value += (alpha[i] - 1.0) * log_x[i] - lgamma (alpha[i]);
  return value;
}

void
epd_dirichlet_log_density_grad (const double *alpha,
                                const double *log_x,
                                guint         n,
                                double       *d_alpha)
{
  double psi0 = epd_digamma (sum (alpha, n));

  for (guint i = 0; i < n; i++)
    d_alpha[i] = psi0 - epd_digamma (alpha[i]) + log_x[i];
}

/* H = log B(alpha) + (alpha_0 - n) psi(alpha_0) - sum (alpha_i - 1) psi(alpha_i). */
double
epd_dirichlet_entropy (const double *alpha,
                       guint         n)
{
  double a0 = sum (alpha, n);
  double value = -lgamma (a0) + (a0 - n) * epd_digamma (a0);

  for (guint i = 0; i < n; i++)
    value += lgamma (alpha[i]) - (alpha[i] - 1.0) * epd_digamma (alpha[i]);
  return value;
}

void
epd_dirichlet_entropy_grad (const double *alpha,
                            guint         n,
                            double       *d_alpha)
{
  double a0 = sum (alpha, n);
  double common = (a0 - n) * epd_trigamma (a0);

  for (guint i = 0; i < n; i++)
    d_alpha[i] = common - (alpha[i] - 1.0) * epd_trigamma (alpha[i]);
}

double
epd_dirichlet_kl (const double *alpha,
                  const double *beta,
                  guint         n)
{
  double a0 = sum (alpha, n);
  double psi0 = epd_digamma (a0);
  double value = lgamma (a0) - lgamma (sum (beta, n));

  for (guint i = 0; i < n; i++)
    value += lgamma (beta[i]) - lgamma (alpha[i])
             + (alpha[i] - beta[i]) * (epd_digamma (alpha[i]) - psi0);
  return value;
}

/* d/dalpha_j KL = (alpha_j - beta_j) psi'(alpha_j) - (alpha_0 - beta_0) psi'(alpha_0). */
void
epd_dirichlet_kl_grad (const double *alpha,
                       const double *beta,
                       guint         n,
                       double       *d_alpha)
{
  double a0 = sum (alpha, n);
  double common = (a0 - sum (beta, n)) * epd_trigamma (a0);

  for (guint i = 0; i < n; i++)
    d_alpha[i] = (alpha[i] - beta[i]) * epd_trigamma (alpha[i]) - common;
}

double
epd_lognormal_sample (GRand  *rand,
                      double  mu,
                      double  sigma)
{
  return exp (mu + sigma * epd_random_normal (rand));
}

double
epd_lognormal_log_density (double x,
                           double mu,
                           double sigma)
{
  double z;

  if (!(x > 0.0))
    return -INFINITY;
  z = (log (x) - mu) / sigma;
  return -log (x) - log (sigma) - 0.5 * log (2.0 * G_PI) - 0.5 * z * z;
}

double
epd_lognormal_entropy (double mu,
                       double sigma)
{
  return mu + 0.5 + log (sigma) + 0.5 * log (2.0 * G_PI);
}

/* The KL of the underlying normals: the exponential map is a bijection. */
double
epd_lognormal_kl (double mu_p,
                  double sigma_p,
                  double mu_q,
                  double sigma_q)
{
  double dm = mu_p - mu_q;

  return log (sigma_q / sigma_p)
         + (sigma_p * sigma_p + dm * dm) / (2.0 * sigma_q * sigma_q) - 0.5;
}

double
epd_lognormal_log_density_grad (double  log_x,
                                double  mu,
                                double  log_sigma,
                                double *d_mu,
                                double *d_log_sigma)
{
  double z = (log_x - mu) * exp (-log_sigma);

  *d_mu = z * exp (-log_sigma);
  *d_log_sigma = z * z - 1.0;
  return -log_x - log_sigma - 0.5 * log (2.0 * G_PI) - 0.5 * z * z;
}

double
epd_lognormal_kl_grad (double  mu_p,
                       double  log_sigma_p,
                       double  mu_q,
                       double  log_sigma_q,
                       double *d_mu_p,
                       double *d_log_sigma_p)
{
  double var_q = exp (2.0 * log_sigma_q);
  double ratio = exp (2.0 * (log_sigma_p - log_sigma_q));

  *d_mu_p = (mu_p - mu_q) / var_q;
  *d_log_sigma_p = ratio - 1.0;
  return log_sigma_q - log_sigma_p + 0.5 * ratio + 0.5 * (mu_p - mu_q) * (mu_p - mu_q) / var_q - 0.5;
}
