/* SPDX-License-Identifier: MIT */
/* epd-rdpo.c: the RDPO trainer -- RLOO advantages, PPO-clip, AdamW, evaluation. */
#include "epd-rdpo-private.h"

#include <math.h>
#include <string.h>

#include "epd-diversity.h"

/* Mixed into every iteration's seed so RDPO's streams differ from other tools' with the same seed. */
#define RDPO_STREAM 0x52445030u

/* One iteration's rollouts. */
typedef struct
{
  guint   n;          /* batch * group */
  guint   len;        /* steps * D */
  double *log_x;      /* [n][len] */
  double *old_lp;     /* [n] */
  double *reward;     /* [n] */
  double *adv;        /* [n] */
  double *x_final;    /* [n * latents][dim] */
} Rollouts;

/* ---- the model environment ---- */

typedef struct
{
  EpdDenoiser *model;
  EpdDenoiser *reference;         /* the CPU model that diversity and spread read */
  EpdReward   *reward;
  char       **names;
  double       spread_reference;  /* the data's spread statistic; 0 until measured */
} ModelEnv;

void
epd_rdpo_solve_options_for_table (EpdSolveOptions *options,
                                  const EpdTable  *table)
{
  epd_solve_options_init (options);
  options->solver = g_strcmp0 (table->solver, "epd-plugin") == 0 ? EPD_SOLVER_EPD_PLUGIN : EPD_SOLVER_EPD;
  options->steps = table->steps;
  options->schedule = table->schedule;
  options->table = table;
  options->afs = table->afs;
  if (table->max_order > 0)
    options->max_order = table->max_order;
}

static gboolean
model_rollout (gpointer        data,
               const EpdTable *table,
               const double   *z,
               gsize           n,
               double         *x_final,
               double         *scores,
               double         *term_scores,
               GCancellable   *cancellable,
               GError        **error)
{
  ModelEnv *env = data;
  guint dim = epd_denoiser_get_dim (env->model);
  g_autofree double *x_init = g_new (double, n * dim);
  EpdSolveOptions options;

  epd_rdpo_solve_options_for_table (&options, table);
  epd_solve_init_from_noise (&options, z, n * dim, x_init);
  return epd_solve (env->model, &options, x_init, n, x_final, NULL, NULL, cancellable, error)
         && epd_reward_score (env->reward, x_final, z, n, scores, term_scores, cancellable, error);
}

/* Models without a diversity measure still train; the value is then unknown. */
static gboolean
unknown_if_unsupported (GError  *local,
                        double  *value,
                        GError **error)
{
  if (g_error_matches (local, EPD_ERROR, EPD_ERROR_UNSUPPORTED))
    {
      g_error_free (local);
      *value = NAN;
      return TRUE;
    }
  g_propagate_error (error, local);
  return FALSE;
}

static gboolean
model_diversity (gpointer      data,
                 const double *x_final,
                 gsize         n,
                 double       *value,
                 GError      **error)
{
  ModelEnv *env = data;
  GError *local = NULL;

  if (epd_diversity_measure (env->reference, x_final, n, value, &local))
    return TRUE;
  return unknown_if_unsupported (local, value, error);
}

static gboolean
model_spread (gpointer      data,
              const double *x_final,
              gsize         n,
              double       *value,
              GError      **error)
{
  ModelEnv *env = data;
  GError *local = NULL;

  /* Computed once: exact samples of the data from a fixed seed. */
  if (env->spread_reference == 0.0
      && !epd_diversity_spread_reference (env->reference, &env->spread_reference, &local))
    return unknown_if_unsupported (local, value, error);
  if (epd_diversity_spread (env->reference, x_final, n, env->spread_reference, value, &local))
    return TRUE;
  return unknown_if_unsupported (local, value, error);
}

static void
model_env_free (gpointer data)
{
  ModelEnv *env = data;

  g_strfreev (env->names);
  g_free (env);
}

EpdRdpoEnv *
epd_rdpo_env_new_model (EpdDenoiser *model,
                        EpdReward   *reward)
{
  return epd_rdpo_env_new_model_with_reference (model, model, reward);
}

EpdRdpoEnv *
epd_rdpo_env_new_model_with_reference (EpdDenoiser *model,
                                       EpdDenoiser *reference,
                                       EpdReward   *reward)
{
  EpdRdpoEnv *env = g_new0 (EpdRdpoEnv, 1);
  ModelEnv *data = g_new0 (ModelEnv, 1);
  guint n_terms = epd_reward_n_terms (reward);

  data->model = model;
  data->reference = reference;
  data->reward = reward;
  data->names = g_new0 (char *, n_terms + 1);
  for (guint i = 0; i < n_terms; i++)
    data->names[i] = g_strdup (epd_reward_term_name (reward, i));
  env->dim = epd_denoiser_get_dim (model);
  env->n_terms = n_terms;
  env->term_names = (const char *const *) data->names;
  env->rollout = model_rollout;
  env->diversity = model_diversity;
  env->spread = model_spread;
  env->data = data;
  env->destroy = model_env_free;
  return env;
}

void
epd_rdpo_env_free (EpdRdpoEnv *env)
{
  if (env == NULL)
    return;
  if (env->destroy != NULL)
    env->destroy (env->data);
  g_free (env);
}

/* ---- construction ---- */

void
epd_rdpo_options_init (EpdRdpoOptions *options)
{
  memset (options, 0, sizeof *options);
  options->iters = 100;
  options->group = 4;
  options->batch = 4;
  options->latents = 1;
  options->epochs = 4;
  options->lr = 0.01;
  options->beta1 = 0.9;
  options->beta2 = 0.999;
  options->adam_eps = 1e-8;
  options->clip = 0.2;
  options->kl_coef = 0.05;
  options->max_grad_norm = 1.0;
  options->seed = 1;
  options->val_every = 10;
  options->val_seeds = 8;
  options->val_latents = 32;
  options->val_seed = 1000000;
  epd_policy_options_init (&options->policy);
}

static gboolean
invalid (GError    **error,
         const char *what,
         double      value)
{
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "RDPO option %s has a bad value %g", what, value);
  return FALSE;
}

static gboolean
check_options (const EpdRdpoOptions *o,
               GError              **error)
{
  if (o->group < 2)
    return invalid (error, "group (leave-one-out needs at least 2 rollouts per seed)", o->group);
  if (o->batch < 1 || o->latents < 1 || o->epochs < 1)
    return invalid (error, "batch/latents/epochs (each must be >= 1)", MIN (o->batch, MIN (o->latents, o->epochs)));
  if (!(o->lr > 0.0) || !isfinite (o->lr))
    return invalid (error, "lr", o->lr);
  if (!(o->clip > 0.0 && o->clip < 1.0))
    return invalid (error, "clip (must be in (0, 1))", o->clip);
  /* A sum of numbers >= 0 is finite when each is. */
  if (!(o->kl_coef >= 0.0) || !(o->entropy_coef >= 0.0) || !(o->weight_decay >= 0.0)
      || !(o->max_grad_norm >= 0.0)
      || !isfinite (o->kl_coef + o->entropy_coef + o->weight_decay + o->max_grad_norm))
    return invalid (error, "kl_coef/entropy_coef/weight_decay/max_grad_norm (must be finite and >= 0)",
                    MIN (MIN (o->kl_coef, o->entropy_coef), MIN (o->weight_decay, o->max_grad_norm)) < 0.0
                    ? MIN (MIN (o->kl_coef, o->entropy_coef), MIN (o->weight_decay, o->max_grad_norm))
                    : o->kl_coef + o->entropy_coef + o->weight_decay + o->max_grad_norm);
  if (!(o->beta1 >= 0.0 && o->beta1 < 1.0) || !(o->beta2 >= 0.0 && o->beta2 < 1.0) || !(o->adam_eps > 0.0))
    return invalid (error, "beta1/beta2/adam_eps", o->beta1);
  if (o->val_seeds < 1 || o->val_latents < 1)
    return invalid (error, "val_seeds/val_latents (each must be >= 1)", MIN (o->val_seeds, o->val_latents));
  return TRUE;
}

/* An iteration keeps group x batch rollouts (their samples and policy draws);
 * each solve and each held-out seed's solve holds 2 K + 10 arrays of its
 * samples. Checked before anything is allocated (--group 100000 --batch 100000
 * or --val-latents 2147483647 ended in GLib's abort on allocation). */
static gboolean
check_memory (const EpdRdpoOptions  *o,
              const EpdRdpoEnv      *env,
              const EpdTable        *start,
              GError               **error)
{
  g_autofree char *rollouts = g_strdup_printf ("RDPO with group %u x batch %u rollouts of %u samples of %u values",
                                               o->group, o->batch, o->latents, env->dim);
  g_autofree char *held_out = g_strdup_printf ("RDPO's held-out solve of %u samples of %u values",
                                               o->val_latents, env->dim);
  guint64 per_rollout = (guint64) o->latents * env->dim + 4 * (guint64) start->steps * start->n_points;

  return epd_memory_check (rollouts, (guint64) o->group * o->batch, sizeof (double) * per_rollout, error) &&
         epd_memory_check_solve (rollouts, o->latents, env->dim, start->n_points, error) &&
         epd_memory_check_solve (held_out, o->val_latents, env->dim, start->n_points, error);
}

EpdRdpo *
epd_rdpo_new (EpdRdpoEnv           *env,
              const EpdTable       *start,
              const EpdRdpoOptions *options,
              GError              **error)
{
  g_autoptr(EpdPolicy) policy = NULL;
  EpdRdpo *self;
  guint n;

  g_return_val_if_fail (env != NULL && env->rollout != NULL, NULL);
  if (!check_options (options, error) || !check_memory (options, env, start, error))
    return NULL;
  policy = epd_policy_new (start, &options->policy, error);
  if (policy == NULL)
    return NULL;
  self = g_new0 (EpdRdpo, 1);
  self->options = *options;
  self->reward_spec = g_strdup (options->reward_spec);
  self->start_name = g_strdup (options->start_name);
  self->command = g_strdup (options->command);
  self->options.reward_spec = self->reward_spec;
  self->options.start_name = self->start_name;
  self->options.command = self->command;
  self->env = env;
  self->policy = g_steal_pointer (&policy);
  self->kl_coef = options->policy.unconstrained ? 0.0 : options->kl_coef;
  self->weight_decay = options->policy.unconstrained ? 0.0 : options->weight_decay;
  n = epd_policy_n_params (self->policy);
  self->adam_m = g_new0 (double, n);
  self->adam_v = g_new0 (double, n);
  self->best_reward = -INFINITY;
  self->coverage_floor = NAN;
  self->term_means = g_new0 (double, MAX (env->n_terms, 1));
  return self;
}

void
epd_rdpo_free (EpdRdpo *self)
{
  if (self == NULL)
    return;
  epd_policy_free (self->policy);
  g_clear_pointer (&self->best, epd_table_free);
  g_free (self->adam_m);
  g_free (self->adam_v);
  g_free (self->term_means);
  g_free (self->reward_spec);
  g_free (self->start_name);
  g_free (self->command);
  g_free (self);
}

guint
epd_rdpo_get_step (EpdRdpo *self)
{
  return self->step;
}

EpdPolicy *
epd_rdpo_get_policy (EpdRdpo *self)
{
  return self->policy;
}

/* ---- advantages and the PPO objective ---- */

void
epd_rdpo_rloo_advantages (const double *rewards,
                          guint         n,
                          guint         group,
                          double       *advantages)
{
  double mean = 0.0, var = 0.0;

  g_return_if_fail (group >= 2 && n % group == 0);
  for (guint g = 0; g < n; g += group)
    {
      double total = 0.0;

      for (guint j = 0; j < group; j++)
        total += rewards[g + j];
      /* Baseline: the mean of the other rollouts from the same noise. */
      for (guint j = 0; j < group; j++)
        advantages[g + j] = rewards[g + j] - (total - rewards[g + j]) / (group - 1);
    }
  for (guint i = 0; i < n; i++)
    mean += advantages[i] / n;
  for (guint i = 0; i < n; i++)
    var += (advantages[i] - mean) * (advantages[i] - mean) / n;
  for (guint i = 0; i < n; i++)
    advantages[i] = (advantages[i] - mean) / MAX (sqrt (var), 1e-8);
}

double
epd_rdpo_ppo_loss (const EpdPolicy *policy,
                   const double    *log_x,
                   const double    *old_log_prob,
                   const double    *advantages,
                   guint            n,
                   double           clip,
                   double           kl_coef,
                   double           entropy_coef,
                   double          *grad,
                   EpdRdpoLoss     *parts)
{
  guint len = policy != NULL ? epd_policy_get_start (policy)->steps * epd_policy_sample_dim (policy) : 0;
  EpdRdpoLoss l = { 0 };

  for (guint j = 0; j < n; j++)
    {
      const double *x = log_x + (gsize) j * len;
      double rho = exp (epd_policy_log_prob (policy, x, 0.0, NULL) - old_log_prob[j]);
      double unclipped = -advantages[j] * rho;
      double clipped = -advantages[j] * CLAMP (rho, 1.0 - clip, 1.0 + clip);

      l.policy_loss += MAX (unclipped, clipped) / n;
      l.ratio += rho / n;
      /* Where the clipped term wins, rho is outside the range and the term is flat. */
      if (grad != NULL && unclipped >= clipped)
        epd_policy_log_prob (policy, x, -advantages[j] * rho / n, grad);
    }
  l.kl = epd_policy_kl_to_start (policy, kl_coef, kl_coef > 0.0 ? grad : NULL);
  l.entropy = epd_policy_entropy (policy, -entropy_coef, entropy_coef > 0.0 ? grad : NULL);
  l.loss = l.policy_loss + kl_coef * l.kl - entropy_coef * l.entropy;
  if (parts != NULL)
    *parts = l;
  return l.loss;
}

/* ---- one iteration ---- */

static void
rollouts_clear (Rollouts *ro)
{
  g_free (ro->log_x);
  g_free (ro->old_lp);
  g_free (ro->reward);
  g_free (ro->adv);
  g_free (ro->x_final);
}

static void
rollouts_init (EpdRdpo  *self,
               Rollouts *ro)
{
  const EpdRdpoOptions *o = &self->options;

  ro->n = o->batch * o->group;
  ro->len = epd_policy_get_start (self->policy)->steps * epd_policy_sample_dim (self->policy);
  ro->log_x = g_new (double, (gsize) ro->n * ro->len);
  ro->old_lp = g_new (double, ro->n);
  ro->reward = g_new (double, ro->n);
  ro->adv = g_new (double, ro->n);
  ro->x_final = g_new (double, (gsize) ro->n * o->latents * self->env->dim);
}

static gboolean
check_scores (const double *scores,
              gsize         n,
              guint         rollout,
              GError      **error)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (scores[i]))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "reward of sample %" G_GSIZE_FORMAT " of rollout %u is not finite (%g)",
                     i, rollout, scores[i]);
        return FALSE;
      }
  return TRUE;
}

/* Runs a table on latents z[n] and returns the mean reward and per-term means. */
static gboolean
run_table (EpdRdpo        *self,
           const EpdTable *table,
           const double   *z,
           guint           n,
           guint           rollout,
           double         *x_final,
           double         *mean_reward,
           double         *term_sums,
           GCancellable   *cancellable,
           GError        **error)
{
  guint n_terms = self->env->n_terms;
  g_autofree double *scores = g_new (double, n);
  g_autofree double *terms = g_new0 (double, (gsize) MAX (n_terms, 1) * n);

  if (!self->env->rollout (self->env->data, table, z, n, x_final, scores, terms, cancellable, error)
      || !check_scores (scores, n, rollout, error))
    return FALSE;
  *mean_reward = 0.0;
  for (guint i = 0; i < n; i++)
    *mean_reward += scores[i] / n;
  for (guint t = 0; term_sums != NULL && t < n_terms; t++)
    for (guint i = 0; i < n; i++)
      term_sums[t] += terms[(gsize) t * n + i] / n;
  return TRUE;
}

static gboolean
collect_rollouts (EpdRdpo      *self,
                  GRand        *rand,
                  Rollouts     *ro,
                  GCancellable *cancellable,
                  GError      **error)
{
  const EpdRdpoOptions *o = &self->options;
  gsize sample_len = (gsize) o->latents * self->env->dim;
  g_autofree guint32 *noise = g_new (guint32, o->batch);

  memset (self->term_means, 0, MAX (self->env->n_terms, 1) * sizeof (double));
  for (guint g = 0; g < o->batch; g++)
    noise[g] = g_rand_int (rand);
  for (guint g = 0; g < o->batch; g++)
    {
      g_autofree double *z = epd_random_latents (noise[g], o->latents, self->env->dim);

      for (guint j = 0; j < o->group; j++)
        {
          guint i = g * o->group + j;
          double *log_x = ro->log_x + (gsize) i * ro->len;
          g_autoptr(EpdTable) table = epd_policy_sample (self->policy, rand, log_x);

          if (g_cancellable_set_error_if_cancelled (cancellable, error))
            return FALSE;
          ro->old_lp[i] = epd_policy_log_prob (self->policy, log_x, 0.0, NULL);
          if (!run_table (self, table, z, o->latents, i, ro->x_final + i * sample_len,
                          &ro->reward[i], self->term_means, cancellable, error))
            return FALSE;
        }
    }
  for (guint t = 0; t < self->env->n_terms; t++)
    self->term_means[t] /= ro->n;
  return TRUE;
}

static double
clip_gradient (double *grad,
               guint   n,
               double  max_norm)
{
  double norm = 0.0;

  for (guint i = 0; i < n; i++)
    norm += grad[i] * grad[i];
  norm = sqrt (norm);
  if (max_norm > 0.0 && norm > max_norm)
    for (guint i = 0; i < n; i++)
      grad[i] *= max_norm / norm;
  return norm;
}

static void
adamw_step (EpdRdpo      *self,
            const double *grad)
{
  const EpdRdpoOptions *o = &self->options;
  /* Decoupled decay pulls the residual back toward the start. */
  const EpdAdam adam = { o->beta1, o->beta2, o->adam_eps, self->weight_decay };

  epd_adam_step (&adam, ++self->adam_t, o->lr, epd_policy_get_params (self->policy), grad,
                 self->adam_m, self->adam_v, epd_policy_n_params (self->policy));
}

static void
ppo_update (EpdRdpo       *self,
            Rollouts      *ro,
            EpdRdpoRecord *record)
{
  const EpdRdpoOptions *o = &self->options;
  guint n = epd_policy_n_params (self->policy);
  g_autofree double *grad = g_new (double, n);

  for (guint e = 0; e < o->epochs; e++)
    {
      EpdRdpoLoss l;

      memset (grad, 0, n * sizeof (double));
      epd_rdpo_ppo_loss (self->policy, ro->log_x, ro->old_lp, ro->adv, ro->n, o->clip,
                         self->kl_coef, o->entropy_coef, grad, &l);
      record->grad_norm += clip_gradient (grad, n, o->max_grad_norm) / o->epochs;
      record->loss += l.loss / o->epochs;
      record->policy_loss += l.policy_loss / o->epochs;
      record->kl += l.kl / o->epochs;
      record->entropy += l.entropy / o->epochs;
      record->ratio += l.ratio / o->epochs;
      adamw_step (self, grad);
    }
}

static void
mean_std (const double *v,
          guint         n,
          double       *mean,
          double       *std)
{
  double m = 0.0, s = 0.0;

  for (guint i = 0; i < n; i++)
    m += v[i] / n;
  for (guint i = 0; i < n; i++)
    s += (v[i] - m) * (v[i] - m);
  *mean = m;
  *std = n > 1 ? sqrt (s / (n - 1)) : 0.0;
}

static gboolean
measure_diversity (EpdRdpo      *self,
                   const double *x,
                   gsize         n,
                   double       *value,
                   GError      **error)
{
  *value = NAN;
  return self->env->diversity == NULL
         || self->env->diversity (self->env->data, x, n, value, error);
}

static gboolean
measure_spread (EpdRdpo      *self,
                const double *x,
                gsize         n,
                double       *value,
                GError      **error)
{
  *value = NAN;
  return self->env->spread == NULL
         || self->env->spread (self->env->data, x, n, value, error);
}

/* The spread of the first rollout of each group: rollouts of a group share their
 * noise, which would make pairwise distances small whatever the tables do. */
static gboolean
rollouts_spread (EpdRdpo        *self,
                 const Rollouts *ro,
                 double         *value,
                 GError        **error)
{
  const EpdRdpoOptions *o = &self->options;
  gsize sample_len = (gsize) o->latents * self->env->dim;
  g_autofree double *x = g_new (double, o->batch * sample_len);

  for (guint g = 0; g < o->batch; g++)
    memcpy (x + g * sample_len, ro->x_final + (gsize) g * o->group * sample_len, sample_len * sizeof (double));
  return measure_spread (self, x, (gsize) o->batch * o->latents, value, error);
}

gboolean
epd_rdpo_evaluate (EpdRdpo        *self,
                   const EpdTable *table,
                   EpdRdpoEval    *eval,
                   GCancellable   *cancellable,
                   GError        **error)
{
  const EpdRdpoOptions *o = &self->options;
  g_autofree double *x = g_new (double, (gsize) o->val_latents * self->env->dim);
  g_autofree double *rewards = g_new (double, o->val_seeds);
  g_autofree double *div = g_new (double, o->val_seeds);
  g_autofree double *spread = g_new (double, o->val_seeds);

  for (guint s = 0; s < o->val_seeds; s++)
    {
      g_autofree double *z = epd_random_latents (o->val_seed + s, o->val_latents, self->env->dim);

      if (!run_table (self, table, z, o->val_latents, s, x, &rewards[s], NULL, cancellable, error)
          || !measure_diversity (self, x, o->val_latents, &div[s], error)
          || !measure_spread (self, x, o->val_latents, &spread[s], error))
        return FALSE;
    }
  mean_std (rewards, o->val_seeds, &eval->reward_mean, &eval->reward_std);
  mean_std (div, o->val_seeds, &eval->diversity_mean, &eval->diversity_std);
  mean_std (spread, o->val_seeds, &eval->spread_mean, &eval->spread_std);
  eval->n_seeds = o->val_seeds;
  return TRUE;
}

static gboolean
evaluation_due (EpdRdpo *self)
{
  guint every = self->options.val_every;

  return self->step == self->options.iters || (every > 0 && self->step % every == 0);
}

/* Held-out score of the policy mean; keeps it if it beats the best so far. */
static gboolean
evaluate_mean (EpdRdpo       *self,
               EpdRdpoRecord *record,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr(EpdTable) mean = epd_policy_mean_table (self->policy);
  EpdRdpoEval eval;

  if (!epd_rdpo_evaluate (self, mean, &eval, cancellable, error))
    return FALSE;
  record->reward_val = eval.reward_mean;
  record->reward_val_std = eval.reward_std;
  record->diversity_val = eval.diversity_mean;
  record->spread_val = eval.spread_mean;
  /* The start table (the first evaluation) sets the coverage a best must keep. */
  if (self->best == NULL && self->options.keep_coverage && isfinite (eval.diversity_mean))
    self->coverage_floor = eval.diversity_mean - 2.0 * eval.diversity_std / sqrt (eval.n_seeds);
  if (self->best == NULL ||
      (eval.reward_mean > self->best_reward &&
       !(eval.diversity_mean < self->coverage_floor)))
    {
      g_clear_pointer (&self->best, epd_table_free);
      self->best = g_steal_pointer (&mean);
      self->best_reward = eval.reward_mean;
      self->best_step = self->step;
      record->best = TRUE;
    }
  return TRUE;
}

static void
record_init (EpdRdpo       *self,
             EpdRdpoRecord *record)
{
  memset (record, 0, sizeof *record);
  record->n_terms = self->env->n_terms;
  record->term_names = self->env->term_names;
  record->term_means = self->term_means;
  record->reward_val = record->reward_val_std = record->diversity_val = record->spread_val = NAN;
}

/* Parameters and optimiser state, saved so that a failed iteration changes nothing. */
typedef struct
{
  double  *params;
  double  *m;
  double  *v;
  guint64  t;
} Snapshot;

static void
snapshot_take (EpdRdpo  *self,
               Snapshot *snap)
{
  gsize size = epd_policy_n_params (self->policy) * sizeof (double);

  snap->params = g_memdup2 (epd_policy_get_params (self->policy), size);
  snap->m = g_memdup2 (self->adam_m, size);
  snap->v = g_memdup2 (self->adam_v, size);
  snap->t = self->adam_t;
}

static void
snapshot_restore (EpdRdpo  *self,
                  Snapshot *snap)
{
  gsize size = epd_policy_n_params (self->policy) * sizeof (double);

  memcpy (epd_policy_get_params (self->policy), snap->params, size);
  memcpy (self->adam_m, snap->m, size);
  memcpy (self->adam_v, snap->v, size);
  self->adam_t = snap->t;
}

static void
snapshot_clear (Snapshot *snap)
{
  g_free (snap->params);
  g_free (snap->m);
  g_free (snap->v);
}

static gboolean
iterate_inner (EpdRdpo       *self,
               Rollouts      *ro,
               EpdRdpoRecord *record,
               GCancellable  *cancellable,
               GError       **error)
{
  guint32 seeds[3] = { self->options.seed, self->step, RDPO_STREAM };
  g_autoptr(GRand) rand = g_rand_new_with_seed_array (seeds, G_N_ELEMENTS (seeds));
  const EpdRdpoOptions *o = &self->options;

  /* The start table is the first candidate for the best table. */
  if (self->best == NULL && self->step == 0 && !evaluate_mean (self, record, cancellable, error))
    return FALSE;
  record_init (self, record);
  if (!collect_rollouts (self, rand, ro, cancellable, error))
    return FALSE;
  mean_std (ro->reward, ro->n, &record->mixed_reward_mean, &record->mixed_reward_std);
  if (!measure_diversity (self, ro->x_final, (gsize) ro->n * o->latents, &record->diversity, error)
      || !rollouts_spread (self, ro, &record->spread, error))
    return FALSE;
  epd_rdpo_rloo_advantages (ro->reward, ro->n, o->group, ro->adv);
  ppo_update (self, ro, record);
  self->step++;
  if (evaluation_due (self) && !evaluate_mean (self, record, cancellable, error))
    {
      self->step--;
      return FALSE;
    }
  return TRUE;
}

gboolean
epd_rdpo_iterate (EpdRdpo       *self,
                  EpdRdpoRecord *record,
                  GCancellable  *cancellable,
                  GError       **error)
{
  g_autoptr(GTimer) timer = g_timer_new ();
  Rollouts ro = { 0 };
  Snapshot snap;
  gboolean ok;

  rollouts_init (self, &ro);
  snapshot_take (self, &snap);
  ok = iterate_inner (self, &ro, record, cancellable, error);
  if (!ok)
    snapshot_restore (self, &snap);
  snapshot_clear (&snap);
  rollouts_clear (&ro);
  if (!ok)
    return FALSE;
  self->elapsed += g_timer_elapsed (timer, NULL);
  record->step = self->step;
  record->elapsed_sec = self->elapsed;
  return TRUE;
}

gboolean
epd_rdpo_run (EpdRdpo        *self,
              const char     *checkpoint,
              guint           checkpoint_every,
              EpdRdpoProgress progress,
              gpointer        user_data,
              GCancellable   *cancellable,
              GError        **error)
{
  while (self->step < self->options.iters)
    {
      EpdRdpoRecord record;

      if (!epd_rdpo_iterate (self, &record, cancellable, error))
        return FALSE;
      if (checkpoint != NULL
          && (self->step == self->options.iters
              || (checkpoint_every > 0 && self->step % checkpoint_every == 0))
          && !epd_rdpo_save_checkpoint (self, checkpoint, error))
        return FALSE;
      if (progress != NULL)
        progress (&record, user_data);
    }
  return TRUE;
}

typedef struct
{
  EpdRdpo         *self;
  char            *checkpoint;
  guint            checkpoint_every;
  EpdRdpoProgress  progress;
  gpointer         progress_data;
} RunJob;

static void
run_job_free (gpointer data)
{
  RunJob *job = data;

  g_free (job->checkpoint);
  g_free (job);
}

static void
run_in_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  RunJob *job = data;
  GError *error = NULL;

  if (epd_rdpo_run (job->self, job->checkpoint, job->checkpoint_every, job->progress,
                    job->progress_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
epd_rdpo_run_async (EpdRdpo            *self,
                    const char         *checkpoint,
                    guint               checkpoint_every,
                    EpdRdpoProgress     progress,
                    gpointer            progress_data,
                    GCancellable       *cancellable,
                    GAsyncReadyCallback callback,
                    gpointer            user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  RunJob *job = g_new0 (RunJob, 1);

  job->self = self;
  job->checkpoint = g_strdup (checkpoint);
  job->checkpoint_every = checkpoint_every;
  job->progress = progress;
  job->progress_data = progress_data;
  g_task_set_source_tag (task, epd_rdpo_run_async);
  g_task_set_task_data (task, job, run_job_free);
  /* Cancellation is reported by the trainer itself, after it has restored its state. */
  g_task_set_return_on_cancel (task, FALSE);
  g_task_run_in_thread (task, run_in_thread);
}

gboolean
epd_rdpo_run_finish (GAsyncResult *result,
                     GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- tables out ---- */

static void
set_metadata (EpdRdpo  *self,
              EpdTable *table,
              guint     iterations,
              double    reward_val)
{
  const EpdRdpoOptions *o = &self->options;
  JsonObject *rdpo = json_object_new ();
  JsonObject *init = table->metadata;

  /* The table is RDPO's now; where it started from is kept whole under "init". */
  table->metadata = json_object_new ();
  json_object_set_string_member (table->metadata, "created_by", "epd rdpo (Stage 2)");
  if (json_object_has_member (init, "model"))
    json_object_set_member (table->metadata, "model", json_node_copy (json_object_get_member (init, "model")));
  if (self->command != NULL)
    json_object_set_string_member (table->metadata, "command", self->command);
  json_object_set_object_member (table->metadata, "init", init);

  json_object_set_string_member (rdpo, "start", self->start_name != NULL ? self->start_name : "");
  json_object_set_string_member (rdpo, "reward", self->reward_spec != NULL ? self->reward_spec : "");
  json_object_set_string_member (rdpo, "policy", o->policy.unconstrained ? "unconstrained" : "residual");
  json_object_set_string_member (rdpo, "residual", o->policy.residual == EPD_POLICY_MLP ? "mlp" : "tabular");
  json_object_set_double_member (rdpo, "concentration", o->policy.concentration);
  json_object_set_int_member (rdpo, "iterations", iterations);
  json_object_set_int_member (rdpo, "iterations_trained", self->step);
  json_object_set_int_member (rdpo, "seed", o->seed);
  json_object_set_int_member (rdpo, "group", o->group);
  json_object_set_int_member (rdpo, "batch", o->batch);
  json_object_set_int_member (rdpo, "latents", o->latents);
  json_object_set_int_member (rdpo, "epochs", o->epochs);
  json_object_set_double_member (rdpo, "lr", o->lr);
  json_object_set_double_member (rdpo, "kl_coef", self->kl_coef);
  json_object_set_double_member (rdpo, "entropy_coef", o->entropy_coef);
  json_object_set_double_member (rdpo, "clip", o->clip);
  json_object_set_int_member (rdpo, "val_seed", o->val_seed);
  json_object_set_int_member (rdpo, "val_seeds", o->val_seeds);
  json_object_set_boolean_member (rdpo, "keep_coverage", o->keep_coverage);
  json_object_set_int_member (rdpo, "val_latents", o->val_latents);
  if (isfinite (reward_val))
    json_object_set_double_member (rdpo, "reward_val", reward_val);
  json_object_set_object_member (table->metadata, "rdpo", rdpo);
}

EpdTable *
epd_rdpo_dup_mean_table (EpdRdpo *self)
{
  EpdTable *table = epd_policy_mean_table (self->policy);

  set_metadata (self, table, self->step, NAN);
  return table;
}

EpdTable *
epd_rdpo_dup_best_table (EpdRdpo *self,
                         double  *best_reward)
{
  EpdTable *table;

  if (best_reward != NULL)
    *best_reward = self->best != NULL ? self->best_reward : NAN;
  if (self->best == NULL)
    table = epd_table_copy (epd_policy_get_start (self->policy));
  else
    table = epd_table_copy (self->best);
  set_metadata (self, table, self->best != NULL ? self->best_step : 0,
                self->best != NULL ? self->best_reward : NAN);
  return table;
}

/* ---- the log ---- */

JsonNode *
epd_rdpo_record_to_json (const EpdRdpoRecord *r)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  epd_json_object_set_number (o, "loss", r->loss);
  epd_json_object_set_number (o, "policy_loss", r->policy_loss);
  epd_json_object_set_number (o, "kl", r->kl);
  epd_json_object_set_number (o, "ratio", r->ratio);
  epd_json_object_set_number (o, "grad_norm", r->grad_norm);
  epd_json_object_set_number (o, "mixed_reward_mean", r->mixed_reward_mean);
  epd_json_object_set_number (o, "mixed_reward_std", r->mixed_reward_std);
  for (guint t = 0; t < r->n_terms; t++)
    {
      g_autofree char *name = g_strdup_printf ("%s_mean", r->term_names[t]);

      epd_json_object_set_number (o, name, r->term_means[t]);
    }
  json_object_set_int_member (o, "step", r->step);
  epd_json_object_set_number (o, "elapsed_sec", r->elapsed_sec);
  epd_json_object_set_number (o, "entropy", r->entropy);
  epd_json_object_set_number (o, "diversity", r->diversity);
  epd_json_object_set_number (o, "spread", r->spread);
  epd_json_object_set_number (o, "reward_val", r->reward_val);
  epd_json_object_set_number (o, "reward_val_std", r->reward_val_std);
  epd_json_object_set_number (o, "diversity_val", r->diversity_val);
  epd_json_object_set_number (o, "spread_val", r->spread_val);
  json_object_set_boolean_member (o, "best", r->best);
  json_node_take_object (node, o);
  return node;
}
