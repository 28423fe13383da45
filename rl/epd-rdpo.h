/* SPDX-License-Identifier: MIT */
/* epd-rdpo.h: Stage 2, RDPO -- improving an EPD table for a reward with PPO-clip
 * and leave-one-out advantages, from a Dirichlet policy centred on the start table.
 *
 * One iteration: `batch` noise seeds; for each, `group` rollouts that each sample
 * one whole table from the policy and solve `latents` samples from that seed's
 * noise (shared across the group). A rollout's reward is the mean over its
 * samples. Advantages are leave-one-out within each group (RLOO), then
 * normalised over the iteration. `epochs` PPO-clip passes follow on the stored
 * rollouts with their old log-probabilities; each adds the optional KL to the
 * start policy and entropy terms, clips the gradient norm, and takes one AdamW
 * step. Every `val_every` iterations the policy mean is scored on held-out seeds
 * and the best mean so far is kept.
 *
 * Randomness: iteration i draws everything from a GRand seeded with
 * (seed, i), so the RNG state is the pair and a resumed run repeats an
 * uninterrupted one exactly. */
#pragma once

#include <gio/gio.h>

#include "epd-policy.h"
#include "epd-reward.h"

G_BEGIN_DECLS

/* What a rollout does with a sampled table. The model environment solves the
 * table's ODE and scores the final samples with a reward; tests plug in others. */
typedef struct _EpdRdpoEnv EpdRdpoEnv;
struct _EpdRdpoEnv
{
  guint               dim;          /* length of one latent and one final sample */
  guint               n_terms;      /* reward terms logged as NAME_mean */
  const char *const  *term_names;
  /* x_final[n][dim] from latents z[n][dim]; scores[n]; term_scores[n_terms][n]. */
  gboolean          (*rollout)    (gpointer        data,
                                   const EpdTable *table,
                                   const double   *z,
                                   gsize           n,
                                   double         *x_final,
                                   double         *scores,
                                   double         *term_scores,
                                   GCancellable   *cancellable,
                                   GError        **error);
  /* May be NULL: diversity is then reported as NaN. */
  gboolean          (*diversity)  (gpointer        data,
                                   const double   *x_final,
                                   gsize           n,
                                   double         *value,
                                   GError        **error);
  /* Within-mode or pixel spread as a ratio to the data's (1: the data's, < 1
   * collapse); samples have independent noise. May be NULL: spread is then NaN. */
  gboolean          (*spread)     (gpointer        data,
                                   const double   *x_final,
                                   gsize           n,
                                   double         *value,
                                   GError        **error);
  gpointer            data;
  GDestroyNotify      destroy;
};

/* Solve with model and score with reward; both must outlive the environment.
 * Diversity and spread are measured on model itself. */
EpdRdpoEnv *epd_rdpo_env_new_model   (EpdDenoiser      *model,
                                      EpdReward        *reward);
/* The same, with diversity and spread measured on reference: the exact CPU model
 * (epd_reward_open_cpu_model) when model samples on a device. */
EpdRdpoEnv *epd_rdpo_env_new_model_with_reference (EpdDenoiser *model,
                                                   EpdDenoiser *reference,
                                                   EpdReward   *reward);
void        epd_rdpo_env_free        (EpdRdpoEnv       *env);
/* The solver options that run a table: its solver, steps, schedule, AFS and order. */
void        epd_rdpo_solve_options_for_table (EpdSolveOptions *options,
                                              const EpdTable  *table);

typedef struct
{
  guint             iters;          /* total iterations, default 100 */
  guint             group;          /* rollouts per noise seed (RLOO), >= 2, default 4 */
  guint             batch;          /* noise seeds per iteration, default 4 */
  guint             latents;        /* samples per rollout, default 1 */
  guint             epochs;         /* PPO passes per iteration, default 4 */
  double            lr;             /* AdamW, default 0.01 */
  double            weight_decay;   /* AdamW decoupled decay, default 0 */
  double            beta1, beta2, adam_eps;
  double            clip;           /* PPO ratio clip, default 0.2 */
  double            kl_coef;        /* KL(policy || start), default 0.05 */
  double            entropy_coef;   /* default 0 */
  double            max_grad_norm;  /* default 1; 0 turns clipping off */
  guint32           seed;
  guint             val_every;      /* held-out evaluation period, default 10; 0: only at the end */
  guint             val_seeds;      /* held-out seeds, default 8 */
  guint             val_latents;    /* samples per held-out seed, default 32 */
  guint32           val_seed;       /* first held-out seed, default 1000000 */
  gboolean          keep_coverage;  /* a table whose held-out diversity (mode coverage) is
                                     * more than 2 standard errors (over the held-out seeds)
                                     * below the start table's is never kept as the best,
                                     * whatever its reward; default FALSE */
  EpdPolicyOptions  policy;         /* unconstrained ignores kl_coef and weight_decay */
  const char       *reward_spec;    /* for the exported table's metadata (borrowed) */
  const char       *start_name;     /* likewise: where the start table came from */
  const char       *command;        /* likewise: the command line, or NULL */
} EpdRdpoOptions;

/* One iteration's numbers; reference log field names where they exist. */
typedef struct
{
  guint               step;                /* iterations done, from 1 */
  double              elapsed_sec;
  double              loss;                /* averaged over the PPO epochs */
  double              policy_loss;
  double              kl;                  /* KL(policy || start) */
  double              entropy;
  double              ratio;
  double              grad_norm;           /* before clipping */
  double              mixed_reward_mean;   /* over the iteration's rollouts */
  double              mixed_reward_std;
  double              diversity;           /* of the iteration's samples, NaN if unknown */
  double              spread;              /* of one rollout per noise seed, NaN if unknown */
  guint               n_terms;
  const char *const  *term_names;
  const double       *term_means;          /* [n_terms], unweighted; valid until the next iteration */
  double              reward_val;          /* held-out: mean over seeds, NaN if not evaluated */
  double              reward_val_std;      /* spread over seeds */
  double              diversity_val;
  double              spread_val;
  gboolean            best;                /* this evaluation gave a new best table */
} EpdRdpoRecord;

/* Called from the thread that runs the trainer, after every iteration. */
typedef void (*EpdRdpoProgress) (const EpdRdpoRecord *record,
                                 gpointer             user_data);

/* A held-out evaluation: per-seed mean rewards, their mean and spread. */
typedef struct
{
  double reward_mean;
  double reward_std;       /* standard deviation over seeds */
  double diversity_mean;   /* NaN if the environment has no measure */
  double diversity_std;
  double spread_mean;      /* per-seed spread ratio; NaN if the environment has no measure */
  double spread_std;
  guint  n_seeds;
} EpdRdpoEval;

typedef struct _EpdRdpo EpdRdpo;

void        epd_rdpo_options_init    (EpdRdpoOptions        *options);
/* The environment is borrowed and must outlive the trainer. */
EpdRdpo    *epd_rdpo_new             (EpdRdpoEnv            *env,
                                      const EpdTable        *start,
                                      const EpdRdpoOptions  *options,
                                      GError               **error);
void        epd_rdpo_free            (EpdRdpo               *self);

/* One iteration (rollouts, advantages, PPO epochs, evaluation if due). On
 * error or cancellation the trainer's state is unchanged. */
gboolean    epd_rdpo_iterate         (EpdRdpo               *self,
                                      EpdRdpoRecord         *record,
                                      GCancellable          *cancellable,
                                      GError               **error);
/* Iterates until options.iters, saving a checkpoint every checkpoint_every
 * iterations (and at the end) when checkpoint is not NULL. */
gboolean    epd_rdpo_run             (EpdRdpo               *self,
                                      const char            *checkpoint,
                                      guint                  checkpoint_every,
                                      EpdRdpoProgress        progress,
                                      gpointer               user_data,
                                      GCancellable          *cancellable,
                                      GError               **error);

/* epd_rdpo_run in a GTask worker thread; progress is called in that thread
 * (marshal to the UI with g_idle_add). The trainer must not be touched until
 * the callback runs. */
void        epd_rdpo_run_async       (EpdRdpo               *self,
                                      const char            *checkpoint,
                                      guint                  checkpoint_every,
                                      EpdRdpoProgress        progress,
                                      gpointer               progress_data,
                                      GCancellable          *cancellable,
                                      GAsyncReadyCallback    callback,
                                      gpointer               user_data);
gboolean    epd_rdpo_run_finish      (GAsyncResult          *result,
                                      GError               **error);

/* Scores a table's samples on the held-out seeds. */
gboolean    epd_rdpo_evaluate        (EpdRdpo               *self,
                                      const EpdTable        *table,
                                      EpdRdpoEval           *eval,
                                      GCancellable          *cancellable,
                                      GError               **error);

guint            epd_rdpo_get_step   (EpdRdpo               *self);
EpdPolicy       *epd_rdpo_get_policy (EpdRdpo               *self);
/* The policy mean now, with RDPO metadata: created_by "epd rdpo (Stage 2)", the
 * start table's metadata under "init" (its "model" also kept on top), the
 * command line (options.command) and the run's settings under "rdpo". */
EpdTable        *epd_rdpo_dup_mean_table (EpdRdpo           *self);
/* The best policy mean by held-out reward (the start table until an evaluation
 * beats it), with metadata; best_reward may be NULL. */
EpdTable        *epd_rdpo_dup_best_table (EpdRdpo           *self,
                                          double            *best_reward);

/* Checkpoints: parameters, AdamW moments, step, RNG state (seed, step), elapsed
 * time and best table, as JSON written atomically. Loading checks that the
 * start table and the options that shape the run match. */
gboolean    epd_rdpo_save_checkpoint (EpdRdpo               *self,
                                      const char            *path,
                                      GError               **error);
gboolean    epd_rdpo_load_checkpoint (EpdRdpo               *self,
                                      const char            *path,
                                      GError               **error);

/* The PPO-clip objective of stored rollouts under the policy's parameters now:
 *   loss = mean_j max(-A_j rho_j, -A_j clip(rho_j, 1-clip, 1+clip))
 *          + kl_coef KL(policy || start) - entropy_coef H(policy),
 * rho_j = exp(log p(x_j) - old_log_prob_j), x_j the j-th row of log_x
 * ([n][steps * D]). grad (n_params, may be NULL) gets += d loss / d params. */
typedef struct
{
  double loss;
  double policy_loss;
  double kl;
  double entropy;
  double ratio;        /* mean of rho */
} EpdRdpoLoss;

double      epd_rdpo_ppo_loss        (const EpdPolicy       *policy,
                                      const double          *log_x,
                                      const double          *old_log_prob,
                                      const double          *advantages,
                                      guint                  n,
                                      double                 clip,
                                      double                 kl_coef,
                                      double                 entropy_coef,
                                      double                *grad,
                                      EpdRdpoLoss           *parts);
/* Leave-one-out advantages within consecutive groups of `group` >= 2 (n a
 * multiple of it), then normalised to mean 0 and standard deviation 1 over all
 * n (all zero if the rewards are all equal). */
void        epd_rdpo_rloo_advantages (const double          *rewards,
                                      guint                  n,
                                      guint                  group,
                                      double                *advantages);

/* The log line of a record: reference names, NAME_mean per term, our own fields
 * (entropy, diversity, spread, the held-out *_val), NaN as null. */
JsonNode   *epd_rdpo_record_to_json  (const EpdRdpoRecord   *record);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdRdpo, epd_rdpo_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdRdpoEnv, epd_rdpo_env_free)

G_END_DECLS
