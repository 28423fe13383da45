/* SPDX-License-Identifier: MIT */
/* epd-policy.h: the RDPO policy, a distribution over whole EPD tables.
 *
 * For every step n the policy holds two Dirichlets: one over the K+1 position
 * segments diff([0, r_1..r_K, 1]) (positions come back sorted by a cumulative
 * sum) and one over the K weights. Their A = 2K+1 log-concentrations are
 *
 *   RDPO (residual):   log alpha = log c + log m0 + u
 *   unconstrained:     log alpha = log c + log softmax(log m0 + u)   (per Dirichlet)
 *
 * with m0 the start table's segments and weights, c the concentration and u a
 * residual that is zero at start -- so the policy's mean IS the start table.
 * Where the start table has scale_dir and/or scale_time, each of those S
 * factors per step is log-normal: log s ~ N(log s0 + u_mu, (sigma0 e^u_ls)^2),
 * exported at its median s0 e^u_mu, which is again the start at u = 0.
 * u ([A + 2S] per step) is a table of free parameters ("tabular") or the output
 * of a small MLP ("mlp"): a learned step embedding e_n of width H, one SiLU
 * layer h = silu(W1 e_n + b1), and u = W2 h + b2 with W2 and b2 zero at start.
 *
 * The RDPO residual moves each alpha freely, so the policy can also sharpen;
 * the trainer keeps it near the start with a KL term. The unconstrained variant
 * (the reward-hacking baseline) has a free mean and a fixed total concentration
 * c; the trainer gives it no KL and no weight decay, so nothing anchors it.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "epd.h"

G_BEGIN_DECLS

typedef enum {
  EPD_POLICY_TABULAR,
  EPD_POLICY_MLP,
} EpdPolicyResidual;

typedef struct
{
  double             concentration;  /* c > 0, default 10 (the paper uses 10-20) */
  EpdPolicyResidual  residual;       /* default EPD_POLICY_TABULAR */
  guint              mlp_hidden;     /* width of the MLP, default 32 */
  guint32            mlp_seed;       /* the MLP's random initialisation */
  gboolean           unconstrained;  /* the free-mean baseline */
  double             scale_sigma;    /* start std of log scale factors, default 0.05 */
} EpdPolicyOptions;

typedef struct _EpdPolicy EpdPolicy;

/* Positions are kept this far inside (0, 1) where a sample's cumulative sum rounds to 0 or 1. */
#define EPD_POLICY_R_MARGIN 1e-12

void        epd_policy_options_init   (EpdPolicyOptions       *options);
/* The start table is copied; its rows are sorted by position (the EPD step
 * is a sum over points, so permuting (r, w) pairs does not change it). */
EpdPolicy  *epd_policy_new            (const EpdTable         *start,
                                       const EpdPolicyOptions *options,
                                       GError                **error);
void        epd_policy_free           (EpdPolicy              *self);

const EpdTable *epd_policy_get_start  (const EpdPolicy        *self);
const EpdPolicyOptions *epd_policy_get_options (const EpdPolicy *self);
/* D = 2K + 1 + S log-values per step: a sample is [steps][D], the logs of the
 * K+1 segments, the K weights, then the S scale factors (scale_dir first). */
guint       epd_policy_sample_dim     (const EpdPolicy        *self);
guint       epd_policy_n_params       (const EpdPolicy        *self);
/* The learnable vector (length n_params); writable, re-read on every call. */
double     *epd_policy_get_params     (EpdPolicy              *self);

/* The 2K + 1 concentrations of step n under the current parameters. */
void        epd_policy_alpha          (const EpdPolicy        *self,
                                       guint                   step,
                                       double                 *alpha);
/* One whole table: returns it (without the start's metadata), and its logs
 * [steps][D] in log_x. */
EpdTable   *epd_policy_sample         (const EpdPolicy        *self,
                                       GRand                  *rand,
                                       double                 *log_x);
/* The table of a sample's logs (positions kept strictly inside (0, 1)). */
EpdTable   *epd_policy_table_from_sample (const EpdPolicy     *self,
                                          const double        *log_x);
/* The policy mean as a table (positions sorted, strictly inside (0, 1)). */
EpdTable   *epd_policy_mean_table     (const EpdPolicy        *self);

/* Each of these returns its value and, when grad is not NULL, adds
 * scale * d(value)/d(params) into grad[n_params]. */
double      epd_policy_log_prob       (const EpdPolicy        *self,
                                       const double           *log_x,
                                       double                  scale,
                                       double                 *grad);
/* Sum over steps of KL(current || start), closed form. */
double      epd_policy_kl_to_start    (const EpdPolicy        *self,
                                       double                  scale,
                                       double                 *grad);
/* Sum over steps of the entropies of both Dirichlets. */
double      epd_policy_entropy        (const EpdPolicy        *self,
                                       double                  scale,
                                       double                 *grad);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdPolicy, epd_policy_free)

G_END_DECLS
