/* SPDX-License-Identifier: MIT */
/* epd-reward.h: rewards of final samples, combinable with weights.
 * Spec: "NAME[=WEIGHT][,NAME[=WEIGHT]...]" with NAME one of
 *   logdensity   exact log-density under a Gaussian-mixture model
 *   teacher      minus the L2 distance to the teacher's sample from the same noise
 *   classifier   Fashion-MNIST classifier confidence (max class probability)
 *   sharpness    a no-reference image sharpness measure
 *   command:CMD  an external scorer (PNGs + manifest.json in a temp dir -> JSON list of scores)
 * WEIGHT defaults to 1. classifier:FILE uses a saved classifier instead of the cached default.
 * The command term takes the rest of the spec verbatim (commas included), so it comes last;
 * its weight is written command=W:CMD. The protocol is described in epd-reward.c.
 */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

typedef struct _EpdReward EpdReward;

typedef struct
{
  EpdDenoiser           *model;         /* the model being sampled (borrowed) */
  const EpdSolveOptions *solve;         /* the student's options: teacher reward reuses its schedule */
  double                 timeout_s;     /* command: rewards, default 60 */
} EpdRewardContext;

EpdReward  *epd_reward_parse     (const char             *spec,
                                  const EpdRewardContext *context,
                                  GError                **error);
void        epd_reward_free      (EpdReward              *self);
/* Number of terms and their names ("logdensity", ...), for per-term logging. */
guint       epd_reward_n_terms   (const EpdReward        *self);
const char *epd_reward_term_name (const EpdReward        *self,
                                  guint                   i);
double      epd_reward_term_weight (const EpdReward      *self,
                                    guint                 i);
/* scores[batch] = sum_i weight_i * term_i(x_final[b]); term_scores (may be NULL)
 * gets [n_terms][batch] unweighted. z is the noise each row started from
 * ([batch][dim], x_T = t_max * z), used by the teacher reward. */
gboolean    epd_reward_score     (EpdReward              *self,
                                  const double           *x_final,
                                  const double           *z,
                                  gsize                   batch,
                                  double                 *scores,
                                  double                 *term_scores,
                                  GCancellable           *cancellable,
                                  GError                **error);

/* The exact CPU model that rewards, the teacher and diversity read when the
 * sampler runs on a device: sampler itself (a new reference) when it already is a
 * CPU mixture or empirical denoiser, else spec opened again on the CPU. */
EpdDenoiser *epd_reward_open_cpu_model (EpdDenoiser          *sampler,
                                        const char           *spec,
                                        GError              **error);

/* The sharpness term of one image row [side][side][channels] in [-1, 1]: the variance of
 * the 4-neighbour Laplacian of its luma in [0, 1] over interior pixels (0 when flat). */
double      epd_reward_sharpness (const double           *image,
                                  guint                   side,
                                  guint                   channels);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdReward, epd_reward_free)

G_END_DECLS
