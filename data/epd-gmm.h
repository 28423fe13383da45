/* SPDX-License-Identifier: MIT */
/* epd-gmm.h: Gaussian mixtures with isotropic components, the exact
 * posterior-mean denoiser, its exact JVP and exact log-densities.
 *
 * p(x0) = sum_k w_k N(x0; mu_k, std_k^2 I) in any dimension. Under noise
 * x = x0 + sigma n the marginal is sum_k w_k N(x; mu_k, (std_k^2 + sigma^2) I)
 * and D(x, sigma) = E[x0 | x] = sum_k p_k(x, sigma) (mu_k + a_k (x - mu_k)),
 * a_k = std_k^2 / (std_k^2 + sigma^2). */
#pragma once

#include <json-glib/json-glib.h>

#include "epd.h"

G_BEGIN_DECLS

#define EPD_TYPE_GMM (epd_gmm_get_type ())
G_DECLARE_FINAL_TYPE (EpdGmm, epd_gmm, EPD, GMM, GObject)

/* Copies the parameters. weights must be >= 0 and sum to 1 within 1e-6
 * (they are then renormalised exactly); stds > 0; everything finite.
 * Weights further off are refused, not normalised: a research tool does not
 * change a model behind the user's back; the message says how to fix them.
 * means is [n_components][dim] row-major. name is what describe() shows
 * after "gmm:" (NULL: "custom"). */
EpdGmm       *epd_gmm_new               (guint          n_components,
                                         guint          dim,
                                         const double  *weights,
                                         const double  *means,
                                         const double  *stds,
                                         const char    *name,
                                         GError       **error);
/* A built-in mixture: one of epd_gmm_preset_names(), or "hd:DIM[:K]"
 * (K random components in DIM dimensions from a fixed seed; K defaults to 16). */
EpdGmm       *epd_gmm_new_preset        (const char    *name,
                                         GError       **error);
/* NULL-terminated, static: ring8 grid25 spiral moons gaussian. */
const char * const *epd_gmm_preset_names (void);

/* JSON model files: {"weights":[..], "means":[[..], ..], "stds":[..]}.
 * source names the file in error messages. */
EpdGmm       *epd_gmm_from_json         (JsonNode      *root,
                                         const char    *source,
                                         const char    *name,
                                         GError       **error);
EpdGmm       *epd_gmm_load              (const char    *path,
                                         GError       **error);
JsonNode     *epd_gmm_to_json           (EpdGmm        *self);
/* Atomic write (epd_file_write_atomic); doubles round-trip exactly. */
gboolean      epd_gmm_save              (EpdGmm        *self,
                                         const char    *path,
                                         GError       **error);

guint         epd_gmm_get_n_components  (EpdGmm        *self);
guint         epd_gmm_get_dim           (EpdGmm        *self);
const double *epd_gmm_get_weights       (EpdGmm        *self);  /* [K] */
const double *epd_gmm_get_means         (EpdGmm        *self);  /* [K][dim] */
const double *epd_gmm_get_stds          (EpdGmm        *self);  /* [K] */
const char   *epd_gmm_get_name          (EpdGmm        *self);

/* out[b] = log p_sigma(x_b), the density of x0 + sigma n; sigma is [batch]
 * (one per row, each >= 0) or NULL for the clean mixture. */
void          epd_gmm_log_density       (EpdGmm        *self,
                                         const double  *x,
                                         const double  *sigma,
                                         gsize          batch,
                                         double        *out);
/* out[b] = the component with the largest responsibility p_k(x_b, sigma_b)
 * (sigma NULL: the clean mixture). */
void          epd_gmm_assign            (EpdGmm        *self,
                                         const double  *x,
                                         const double  *sigma,
                                         gsize          batch,
                                         guint         *out);
/* n exact samples of the clean mixture into out[n][dim]. */
void          epd_gmm_sample            (EpdGmm        *self,
                                         GRand         *rand,
                                         gsize          n,
                                         double        *out);

G_END_DECLS
