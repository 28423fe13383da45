/* SPDX-License-Identifier: MIT */
/* epd-distributions.h: Gamma, Dirichlet and log-normal distributions for the
 * RDPO policy: seeded sampling, log-densities, entropies, KL divergences and
 * their derivatives with respect to the parameters. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* psi(x) = d/dx log Gamma(x) and psi'(x), for x > 0 (NaN otherwise):
 * recurrence up to x >= 10, then the asymptotic series (error < 1e-13). */
double   epd_digamma                     (double        x);
double   epd_trigamma                    (double        x);

/* Gamma(shape, 1) by Marsaglia-Tsang, with G(a) = G(a+1) U^(1/a) for a < 1.
 * The _log form returns log G, finite even where G underflows (tiny shapes). */
double   epd_gamma_sample                (GRand        *rand,
                                          double        shape);
double   epd_gamma_sample_log            (GRand        *rand,
                                          double        shape);

/* x ~ Dirichlet(alpha) over n components; log_x (may be NULL) gets log x_i,
 * exact where x_i underflows. Returns FALSE if some alpha_i is not > 0. */
gboolean epd_dirichlet_sample            (GRand        *rand,
                                          const double *alpha,
                                          guint         n,
                                          double       *x,
                                          double       *log_x);
/* log p(x | alpha) from log x (the sample's logarithms). */
double   epd_dirichlet_log_density       (const double *alpha,
                                          const double *log_x,
                                          guint         n);
/* d/dalpha_i log p(x | alpha) = psi(alpha_0) - psi(alpha_i) + log x_i. */
void     epd_dirichlet_log_density_grad  (const double *alpha,
                                          const double *log_x,
                                          guint         n,
                                          double       *d_alpha);
double   epd_dirichlet_entropy           (const double *alpha,
                                          guint         n);
void     epd_dirichlet_entropy_grad      (const double *alpha,
                                          guint         n,
                                          double       *d_alpha);
/* KL(Dir(alpha) || Dir(beta)) in closed form, and its gradient in alpha. */
double   epd_dirichlet_kl                (const double *alpha,
                                          const double *beta,
                                          guint         n);
void     epd_dirichlet_kl_grad           (const double *alpha,
                                          const double *beta,
                                          guint         n,
                                          double       *d_alpha);

/* Log-normal: log X ~ N(mu, sigma^2), sigma > 0. The _grad forms take log x
 * and log sigma (the parameters a policy learns) and return the value. */
double   epd_lognormal_sample            (GRand        *rand,
                                          double        mu,
                                          double        sigma);
double   epd_lognormal_log_density       (double        x,
                                          double        mu,
                                          double        sigma);
double   epd_lognormal_entropy           (double        mu,
                                          double        sigma);
double   epd_lognormal_kl                (double        mu_p,
                                          double        sigma_p,
                                          double        mu_q,
                                          double        sigma_q);
double   epd_lognormal_log_density_grad  (double        log_x,
                                          double        mu,
                                          double        log_sigma,
                                          double       *d_mu,
                                          double       *d_log_sigma);
double   epd_lognormal_kl_grad           (double        mu_p,
                                          double        log_sigma_p,
                                          double        mu_q,
                                          double        log_sigma_q,
                                          double       *d_mu_p,
                                          double       *d_log_sigma_p);

G_END_DECLS
