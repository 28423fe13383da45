/* SPDX-License-Identifier: MIT */
/* epd-policy.c: Dirichlet policy over EPD tables with a residual on log-concentrations. */
#include "epd-policy.h"

#include <math.h>
#include <string.h>

#include "epd-distributions.h"

/* Start means below this (equal positions, zero weights) are raised to it, so
 * every concentration is positive; only then does the mean differ from the table. */
#define MEAN_FLOOR 1e-9

struct _EpdPolicy
{
  EpdPolicyOptions  options;
  EpdTable         *start;      /* sorted by position */
  guint             steps;
  guint             k;
  guint             n_alpha;    /* A = 2K + 1 Dirichlet entries */
  guint             n_scale;    /* S log-normal scale factors, 0, K or 2K */
  guint             n_res;      /* residual per step: A + 2S (alpha, mu, log sigma) */
  guint             dim;        /* sample per step: A + S */
  guint             hidden;     /* MLP width, 0 for tabular */
  double           *base;       /* [steps][n_res]: log m0, log s0, log sigma0 */
  double           *params;
  guint             n_params;
};

/* Per-step scratch of the forward and backward passes. */
typedef struct
{
  double *u;     /* [n_res] residual */
  double *q;     /* [n_res] log alpha, then mu and log sigma of the scales */
  double *g;     /* [n_res] gradient w.r.t. q, then w.r.t. u */
  double *pre;   /* [H] MLP pre-activations */
  double *hid;   /* [H] MLP hidden layer */
  double *gh;    /* [H] */
} Work;

static Work *
work_new (const EpdPolicy *self)
{
  Work *w = g_new0 (Work, 1);

  w->u = g_new0 (double, self->n_res);
  w->q = g_new0 (double, self->n_res);
  w->g = g_new0 (double, self->n_res);
  w->pre = g_new0 (double, MAX (self->hidden, 1));
  w->hid = g_new0 (double, MAX (self->hidden, 1));
  w->gh = g_new0 (double, MAX (self->hidden, 1));
  return w;
}

static void
work_free (Work *w)
{
  g_free (w->u);
  g_free (w->q);
  g_free (w->g);
  g_free (w->pre);
  g_free (w->hid);
  g_free (w->gh);
  g_free (w);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Work, work_free)

void
epd_policy_options_init (EpdPolicyOptions *options)
{
  memset (options, 0, sizeof *options);
  options->concentration = 10.0;
  options->residual = EPD_POLICY_TABULAR;
  options->mlp_hidden = 32;
  options->mlp_seed = 1;
  options->scale_sigma = 0.05;
}

/* Sort each row's points by r, carrying weights and scales along. */
static void
sort_rows (EpdTable *t)
{
  double *columns[4] = { t->r, t->weight, t->scale_dir, t->scale_time };

  for (guint n = 0; n < t->steps; n++)
    for (guint i = 1; i < t->n_points; i++)
      for (guint j = i; j > 0 && t->r[n * t->n_points + j - 1] > t->r[n * t->n_points + j]; j--)
        for (guint c = 0; c < G_N_ELEMENTS (columns); c++)
          if (columns[c] != NULL)
            {
              double *row = columns[c] + n * t->n_points;
              double tmp = row[j];

              row[j] = row[j - 1];
              row[j - 1] = tmp;
            }
}

/* log of a group of means on the simplex, floored and renormalised if needed. */
static void
log_means (const double *m,
           guint         n,
           double       *log_out)
{
  gboolean floored = FALSE;
  double total = 0.0;

  for (guint i = 0; i < n; i++)
    {
      log_out[i] = MAX (m[i], MEAN_FLOOR);
      floored |= m[i] < MEAN_FLOOR;
      total += log_out[i];
    }
  for (guint i = 0; i < n; i++)
    log_out[i] = log (floored ? log_out[i] / total : log_out[i]);
}

/* The scale factors the policy samples, in sample order. */
static double *
scale_column (EpdTable *t,
              guint     which)
{
  return which == 0 && t->scale_dir != NULL ? t->scale_dir : t->scale_time;
}

static void
init_base (EpdPolicy *self)
{
  g_autofree double *seg = g_new (double, self->k + 1);

  self->base = g_new (double, self->steps * self->n_res);
  for (guint n = 0; n < self->steps; n++)
    {
      const double *r = self->start->r + n * self->k;
      double *out = self->base + n * self->n_res;

      for (guint i = 0; i <= self->k; i++)
        seg[i] = (i == self->k ? 1.0 : r[i]) - (i == 0 ? 0.0 : r[i - 1]);
      log_means (seg, self->k + 1, out);
      log_means (self->start->weight + n * self->k, self->k, out + self->k + 1);
      for (guint i = 0; i < self->n_scale; i++)
        {
          const double *column = scale_column (self->start, i / self->k);

          out[self->n_alpha + i] = log (column[n * self->k + i % self->k]);
          out[self->n_alpha + self->n_scale + i] = log (self->options.scale_sigma);
        }
    }
}

/* MLP parameter layout: embedding E[steps][H], W1[H][H], b1[H], W2[D][H], b2[D]. */
#define OFF_W1(p)  ((p)->steps * (p)->hidden)
#define OFF_B1(p)  (OFF_W1 (p) + (p)->hidden * (p)->hidden)
#define OFF_W2(p)  (OFF_B1 (p) + (p)->hidden)
#define OFF_B2(p)  (OFF_W2 (p) + (p)->n_res * (p)->hidden)
#define MLP_E(p)   ((p)->params)
#define MLP_W1(p)  ((p)->params + OFF_W1 (p))
#define MLP_B1(p)  ((p)->params + OFF_B1 (p))
#define MLP_W2(p)  ((p)->params + OFF_W2 (p))
#define MLP_B2(p)  ((p)->params + OFF_B2 (p))

static void
init_params (EpdPolicy *self)
{
  if (self->options.residual == EPD_POLICY_TABULAR)
    {
      self->n_params = self->steps * self->n_res;
      self->params = g_new0 (double, self->n_params);
      return;
    }
  self->hidden = self->options.mlp_hidden;
  self->n_params = (self->steps + self->hidden + 1) * self->hidden
                   + self->n_res * (self->hidden + 1);
  self->params = g_new0 (double, self->n_params);
  {
    g_autoptr(GRand) rand = g_rand_new_with_seed (self->options.mlp_seed);
    double scale = 1.0 / sqrt (self->hidden);

    /* Random embedding and hidden layer; the output layer stays zero so u = 0 at start. */
    epd_random_normal_fill (rand, MLP_E (self), self->steps * self->hidden);
    epd_random_normal_fill (rand, MLP_W1 (self), self->hidden * self->hidden);
    for (guint i = 0; i < self->hidden * self->hidden; i++)
      MLP_W1 (self)[i] *= scale;
  }
}

static gboolean
check_options (const EpdPolicyOptions *options,
               GError                **error)
{
  if (!(options->concentration > 0.0) || isinf (options->concentration))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "policy concentration must be a positive number, got %g", options->concentration);
      return FALSE;
    }
  if (!(options->scale_sigma > 0.0) || isinf (options->scale_sigma))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "policy scale_sigma must be a positive number, got %g", options->scale_sigma);
      return FALSE;
    }
  if (options->residual == EPD_POLICY_MLP && (options->mlp_hidden == 0 || options->mlp_hidden > 4096))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "policy MLP width must be in 1..4096, got %u", options->mlp_hidden);
      return FALSE;
    }
  return TRUE;
}

EpdPolicy *
epd_policy_new (const EpdTable         *start,
                const EpdPolicyOptions *options,
                GError                **error)
{
  EpdPolicyOptions defaults;
  EpdPolicy *self;

  g_return_val_if_fail (start != NULL, NULL);
  if (options == NULL)
    {
      epd_policy_options_init (&defaults);
      options = &defaults;
    }
  if (!check_options (options, error) || !epd_table_validate (start, error))
    return NULL;
  self = g_new0 (EpdPolicy, 1);
  self->options = *options;
  self->start = epd_table_copy (start);
  sort_rows (self->start);
  self->steps = start->steps;
  self->k = start->n_points;
  self->n_alpha = 2 * self->k + 1;
  self->n_scale = self->k * ((start->scale_dir != NULL) + (start->scale_time != NULL));
  self->n_res = self->n_alpha + 2 * self->n_scale;
  self->dim = self->n_alpha + self->n_scale;
  init_base (self);
  init_params (self);
  return self;
}

void
epd_policy_free (EpdPolicy *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->start, epd_table_free);
  g_free (self->base);
  g_free (self->params);
  g_free (self);
}

const EpdTable *
epd_policy_get_start (const EpdPolicy *self)
{
  return self->start;
}

const EpdPolicyOptions *
epd_policy_get_options (const EpdPolicy *self)
{
  return &self->options;
}

guint
epd_policy_sample_dim (const EpdPolicy *self)
{
  return self->dim;
}

guint
epd_policy_n_params (const EpdPolicy *self)
{
  return self->n_params;
}

double *
epd_policy_get_params (EpdPolicy *self)
{
  return self->params;
}

static double
silu_grad (double a)
{
  double s = 1.0 / (1.0 + exp (-a));

  return s * (1.0 + a * (1.0 - s));
}

static void
mlp_forward (const EpdPolicy *self,
             guint            step,
             Work            *w)
{
  const double *e = MLP_E (self) + step * self->hidden;

  for (guint i = 0; i < self->hidden; i++)
    {
      const double *row = MLP_W1 (self) + i * self->hidden;
      double a = MLP_B1 (self)[i];

      for (guint j = 0; j < self->hidden; j++)
        a += row[j] * e[j];
      w->pre[i] = a;
      w->hid[i] = a / (1.0 + exp (-a));
    }
  for (guint d = 0; d < self->n_res; d++)
    {
      const double *row = MLP_W2 (self) + d * self->hidden;
      double u = MLP_B2 (self)[d];

      for (guint i = 0; i < self->hidden; i++)
        u += row[i] * w->hid[i];
      w->u[d] = u;
    }
}

/* log softmax over one Dirichlet's entries, in place. */
static void
log_softmax (double *v,
             guint   n)
{
  double top = -INFINITY, total = 0.0, log_total;

  for (guint i = 0; i < n; i++)
    top = MAX (top, v[i]);
  for (guint i = 0; i < n; i++)
    total += exp (v[i] - top);
  log_total = top + log (total);
  for (guint i = 0; i < n; i++)
    v[i] -= log_total;
}

static void
forward (const EpdPolicy *self,
         guint            step,
         Work            *w)
{
  const double *base = self->base + step * self->n_res;
  double log_c = log (self->options.concentration);

  if (self->options.residual == EPD_POLICY_MLP)
    mlp_forward (self, step, w);
  else
    memcpy (w->u, self->params + step * self->n_res, self->n_res * sizeof (double));
  for (guint d = 0; d < self->n_res; d++)
    w->q[d] = base[d] + w->u[d];
  if (self->options.unconstrained)
    {
      log_softmax (w->q, self->k + 1);
      log_softmax (w->q + self->k + 1, self->k);
    }
  for (guint d = 0; d < self->n_alpha; d++)
    w->q[d] += log_c;
}

/* Through log softmax: g_u_j = g_j - p_j sum_i g_i within each Dirichlet. */
static void
softmax_backward (const double *la,
                  double        log_c,
                  double       *g,
                  guint         n)
{
  double total = 0.0;

  for (guint i = 0; i < n; i++)
    total += g[i];
  for (guint i = 0; i < n; i++)
    g[i] -= exp (la[i] - log_c) * total;
}

static void
mlp_backward (const EpdPolicy *self,
              guint            step,
              Work            *w,
              double          *grad)
{
  double *g_e = grad + step * self->hidden;
  double *g_w1 = grad + OFF_W1 (self);
  double *g_b1 = grad + OFF_B1 (self);
  double *g_w2 = grad + OFF_W2 (self);
  double *g_b2 = grad + OFF_B2 (self);
  const double *e = MLP_E (self) + step * self->hidden;

  memset (w->gh, 0, self->hidden * sizeof (double));
  for (guint d = 0; d < self->n_res; d++)
    {
      const double *row = MLP_W2 (self) + d * self->hidden;

      g_b2[d] += w->g[d];
      for (guint i = 0; i < self->hidden; i++)
        {
          g_w2[d * self->hidden + i] += w->g[d] * w->hid[i];
          w->gh[i] += w->g[d] * row[i];
        }
    }
  for (guint i = 0; i < self->hidden; i++)
    {
      const double *row = MLP_W1 (self) + i * self->hidden;
      double ga = w->gh[i] * silu_grad (w->pre[i]);

      g_b1[i] += ga;
      for (guint j = 0; j < self->hidden; j++)
        {
          g_w1[i * self->hidden + j] += ga * e[j];
          g_e[j] += ga * row[j];
        }
    }
}

/* w->g holds d(value)/d(q) of the step; adds scale * d/d(params) into grad. */
static void
backward (const EpdPolicy *self,
          guint            step,
          Work            *w,
          double           scale,
          double          *grad)
{
  for (guint d = 0; d < self->n_res; d++)
    w->g[d] *= scale;
  if (self->options.unconstrained)
    {
      double log_c = log (self->options.concentration);

      softmax_backward (w->q, log_c, w->g, self->k + 1);
      softmax_backward (w->q + self->k + 1, log_c, w->g + self->k + 1, self->k);
    }
  if (self->options.residual == EPD_POLICY_MLP)
    mlp_backward (self, step, w, grad);
  else
    for (guint d = 0; d < self->n_res; d++)
      grad[step * self->n_res + d] += w->g[d];
}

void
epd_policy_alpha (const EpdPolicy *self,
                  guint            step,
                  double          *alpha)
{
  g_autoptr(Work) w = work_new (self);

  g_return_if_fail (step < self->steps);
  forward (self, step, w);
  for (guint d = 0; d < self->n_alpha; d++)
    alpha[d] = exp (w->q[d]);
}

/* Positions by a cumulative sum of segments, kept strictly inside (0, 1). */
static void
positions_from_segments (const double *seg,
                         guint         k,
                         double       *r)
{
  double acc = 0.0;

  for (guint i = 0; i < k; i++)
    {
      acc += seg[i];
      r[i] = CLAMP (acc, EPD_POLICY_R_MARGIN, 1.0 - EPD_POLICY_R_MARGIN);
    }
}

/* Fills t, a copy of the start table, from a sample's logs. */
static EpdTable *
fill_from_sample (const EpdPolicy *self,
                  const double    *log_x,
                  EpdTable        *t)
{
  g_autofree double *x = g_new (double, self->dim);

  for (guint n = 0; n < self->steps; n++)
    {
      for (guint d = 0; d < self->dim; d++)
        x[d] = exp (log_x[n * self->dim + d]);
      positions_from_segments (x, self->k, t->r + n * self->k);
      memcpy (t->weight + n * self->k, x + self->k + 1, self->k * sizeof (double));
      for (guint i = 0; i < self->n_scale; i++)
        {
          double *column = scale_column (t, i / self->k);

          column[n * self->k + i % self->k] = x[self->n_alpha + i];
        }
    }
  return t;
}

EpdTable *
epd_policy_table_from_sample (const EpdPolicy *self,
                              const double    *log_x)
{
  return fill_from_sample (self, log_x, epd_table_copy (self->start));
}

EpdTable *
epd_policy_sample (const EpdPolicy *self,
                   GRand           *rand,
                   double          *log_x)
{
  g_autoptr(Work) w = work_new (self);
  g_autofree double *alpha = g_new (double, self->n_alpha);
  g_autofree double *x = g_new (double, self->n_alpha);

  for (guint n = 0; n < self->steps; n++)
    {
      double *lx = log_x + n * self->dim;

      forward (self, n, w);
      for (guint d = 0; d < self->n_alpha; d++)
        alpha[d] = exp (w->q[d]);
      /* alpha = exp(finite) > 0, so sampling cannot fail. */
      epd_dirichlet_sample (rand, alpha, self->k + 1, x, lx);
      epd_dirichlet_sample (rand, alpha + self->k + 1, self->k, x, lx + self->k + 1);
      for (guint i = 0; i < self->n_scale; i++)
        lx[self->n_alpha + i] = w->q[self->n_alpha + i]
                                + exp (w->q[self->n_alpha + self->n_scale + i]) * epd_random_normal (rand);
    }
  /* A rollout's table lives for one solve: no provenance to copy. */
  return fill_from_sample (self, log_x, epd_table_copy_bare (self->start));
}

/* Dirichlet means; scale factors at their medians (exactly the start at u = 0). */
EpdTable *
epd_policy_mean_table (const EpdPolicy *self)
{
  g_autofree double *log_mean = g_new (double, self->steps * self->dim);
  g_autoptr(Work) w = work_new (self);

  for (guint n = 0; n < self->steps; n++)
    {
      double *out = log_mean + n * self->dim;

      forward (self, n, w);
      memcpy (out, w->q, self->dim * sizeof (double));
      log_softmax (out, self->k + 1);
      log_softmax (out + self->k + 1, self->k);
    }
  return epd_policy_table_from_sample (self, log_mean);
}

/* A per-step term: its value from the concentrations alpha and the scales'
 * (mu, log sigma) in q, with its gradient w.r.t. q in g. */
typedef double (*StepTerm) (const EpdPolicy *self,
                            guint            step,
                            const double    *q,
                            const double    *alpha,
                            gconstpointer    data,
                            double          *g);

static double
sum_over_steps (const EpdPolicy *self,
                StepTerm         term,
                gconstpointer    data,
                double           scale,
                double          *grad)
{
  g_autoptr(Work) w = work_new (self);
  g_autofree double *alpha = g_new (double, self->n_alpha);
  double value = 0.0;

  for (guint n = 0; n < self->steps; n++)
    {
      forward (self, n, w);
      for (guint d = 0; d < self->n_alpha; d++)
        alpha[d] = exp (w->q[d]);
      value += term (self, n, w->q, alpha, data, w->g);
      if (grad != NULL)
        backward (self, n, w, scale, grad);
    }
  return value;
}

/* d/d(log alpha) = alpha d/d(alpha). */
static void
chain_log_alpha (const EpdPolicy *self,
                 const double    *alpha,
                 double          *g)
{
  for (guint d = 0; d < self->n_alpha; d++)
    g[d] *= alpha[d];
}

static double
log_prob_term (const EpdPolicy *self,
               guint            step,
               const double    *q,
               const double    *alpha,
               gconstpointer    data,
               double          *g)
{
  const double *lx = (const double *) data + step * self->dim;
  guint k = self->k, a = self->n_alpha, s = self->n_scale;
  double value;

  epd_dirichlet_log_density_grad (alpha, lx, k + 1, g);
  epd_dirichlet_log_density_grad (alpha + k + 1, lx + k + 1, k, g + k + 1);
  chain_log_alpha (self, alpha, g);
  value = epd_dirichlet_log_density (alpha, lx, k + 1)
          + epd_dirichlet_log_density (alpha + k + 1, lx + k + 1, k);
  for (guint i = 0; i < s; i++)
    value += epd_lognormal_log_density_grad (lx[a + i], q[a + i], q[a + s + i], &g[a + i], &g[a + s + i]);
  return value;
}

double
epd_policy_log_prob (const EpdPolicy *self,
                     const double    *log_x,
                     double           scale,
                     double          *grad)
{
  return sum_over_steps (self, log_prob_term, log_x, scale, grad);
}

static double
kl_term (const EpdPolicy *self,
         guint            step,
         const double    *q,
         const double    *alpha,
         gconstpointer    data,
         double          *g)
{
  const double *base = self->base + step * self->n_res;
  g_autofree double *beta = g_new (double, self->n_alpha);
  double log_c = log (self->options.concentration);
  guint k = self->k, a = self->n_alpha, s = self->n_scale;
  double value;

  /* The start policy is Dir(c m0) in both variants, and the base log-normals. */
  for (guint d = 0; d < a; d++)
    beta[d] = exp (log_c + base[d]);
  epd_dirichlet_kl_grad (alpha, beta, k + 1, g);
  epd_dirichlet_kl_grad (alpha + k + 1, beta + k + 1, k, g + k + 1);
  chain_log_alpha (self, alpha, g);
  value = epd_dirichlet_kl (alpha, beta, k + 1) + epd_dirichlet_kl (alpha + k + 1, beta + k + 1, k);
  for (guint i = 0; i < s; i++)
    value += epd_lognormal_kl_grad (q[a + i], q[a + s + i], base[a + i], base[a + s + i],
                                    &g[a + i], &g[a + s + i]);
  return value;
}

double
epd_policy_kl_to_start (const EpdPolicy *self,
                        double           scale,
                        double          *grad)
{
  return sum_over_steps (self, kl_term, NULL, scale, grad);
}

static double
entropy_term (const EpdPolicy *self,
              guint            step,
              const double    *q,
              const double    *alpha,
              gconstpointer    data,
              double          *g)
{
  guint k = self->k, a = self->n_alpha, s = self->n_scale;
  double value;

  epd_dirichlet_entropy_grad (alpha, k + 1, g);
  epd_dirichlet_entropy_grad (alpha + k + 1, k, g + k + 1);
  chain_log_alpha (self, alpha, g);
  value = epd_dirichlet_entropy (alpha, k + 1) + epd_dirichlet_entropy (alpha + k + 1, k);
  /* H = mu + log sigma + (1 + log 2 pi) / 2 */
  for (guint i = 0; i < s; i++)
    {
      value += epd_lognormal_entropy (q[a + i], exp (q[a + s + i]));
      g[a + i] = 1.0;
      g[a + s + i] = 1.0;
    }
  return value;
}

double
epd_policy_entropy (const EpdPolicy *self,
                    double           scale,
                    double          *grad)
{
  return sum_over_steps (self, entropy_term, NULL, scale, grad);
}
