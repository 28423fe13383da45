/* SPDX-License-Identifier: MIT */
/* epd-rdpo-private.h: the trainer's state, shared by epd-rdpo.c and its
 * checkpoints (epd-rdpo-checkpoint.c). */
#pragma once

#include "epd-rdpo.h"

G_BEGIN_DECLS

struct _EpdRdpo
{
  EpdRdpoOptions  options;
  char           *reward_spec;
  char           *start_name;
  char           *command;
  EpdRdpoEnv     *env;
  EpdPolicy      *policy;
  double          kl_coef;        /* as used: 0 for the unconstrained policy */
  double          weight_decay;   /* likewise */
  guint           step;
  double          elapsed;        /* seconds over all iterations done, across resumes */
  guint64         adam_t;
  double         *adam_m;
  double         *adam_v;
  EpdTable       *best;           /* NULL until the first evaluation */
  double          best_reward;
  guint           best_step;
  double          coverage_floor; /* keep_coverage: the lowest held-out coverage a best may have; NaN: none */
  double         *term_means;     /* [n_terms], the last record's */
};

G_END_DECLS
