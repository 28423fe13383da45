/* SPDX-License-Identifier: MIT */
/* epd-distill.c: Stage 1, distilling EPD / EPD-Plugin tables (see epd-distill.h). */
#include "epd-distill.h"
#include "epd-memory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "epd-epd-step.h"
#include "epd-flowmatch.h"
#include "epd-json.h"
#include "epd-numeric.h"
#include "epd-random.h"


/* ---- parameterisation ------------------------------------------------------ */

static double
sigmoid (double p)
{
  return p >= 0 ? 1.0 / (1.0 + exp (-p)) : exp (p) / (1.0 + exp (p));
}

static double
scale_from_param (double range,
                  double p)
{
  return 1.0 + range * (2.0 * sigmoid (0.5 * p) - 1.0);
}

/* d scale / d p */
static double
scale_slope (double range,
             double p)
{
  double s = sigmoid (0.5 * p);

  return range * s * (1.0 - s);
}

static double
param_from_scale (double range,
                  double scale)
{
  /* Clamp so that a scale at the edge of its range maps to a finite parameter. */
  double u = CLAMP ((scale - 1.0) / range, -0.999, 0.999);
  double s = 0.5 * (u + 1.0);

  return 2.0 * log (s / (1.0 - s));
}

gsize
epd_distill_n_params (const EpdDistillOptions *options)
{
  return 4 * (gsize) options->steps * options->n_points;
}

/* Row-wise softmax of q into w (n entries). */
static void
softmax (const double *q,
         guint         n,
         double       *w)
{
  double top = q[0], sum = 0.0;

  for (guint k = 1; k < n; k++)
    top = MAX (top, q[k]);
  for (guint k = 0; k < n; k++)
    sum += w[k] = exp (q[k] - top);
  for (guint k = 0; k < n; k++)
    w[k] /= sum;
}

/* The coefficients [steps][K] that raw parameters stand for. Disabled scales are all 1. */
typedef struct
{
  double *r;
  double *w;
  double *sd;
  double *st;
} Coefs;

static void
coefs_init (Coefs *c,
            gsize  n)
{
  c->r = g_new0 (double, 4 * n);
  c->w = c->r + n;
  c->sd = c->r + 2 * n;
  c->st = c->r + 3 * n;
}

static void
coefs_from_params (const EpdDistillOptions *o,
                   const double            *theta,
                   Coefs                   *c)
{
  guint K = o->n_points;
  gsize n = (gsize) o->steps * K;

  for (gsize i = 0; i < n; i++)
    {
      c->r[i] = sigmoid (theta[i]);
      c->sd[i] = o->scale_dir_range > 0 ? scale_from_param (o->scale_dir_range, theta[2 * n + i]) : 1.0;
      c->st[i] = o->scale_time_range > 0 ? scale_from_param (o->scale_time_range, theta[3 * n + i]) : 1.0;
    }
  for (guint s = 0; s < o->steps; s++)
    softmax (theta + n + (gsize) s * K, K, c->w + (gsize) s * K);
}

/* Chain rule from d loss / d coefficient (in c) to d loss / d theta (grad). */
static void
coefs_grad_to_params (const EpdDistillOptions *o,
                      const double            *theta,
                      const Coefs             *value,
                      const Coefs             *c,
                      double                  *grad)
{
  guint K = o->n_points;
  gsize n = (gsize) o->steps * K;

  for (gsize i = 0; i < n; i++)
    {
      double r = value->r[i];

      grad[i] = c->r[i] * r * (1.0 - r);
      grad[2 * n + i] = o->scale_dir_range > 0 ? c->sd[i] * scale_slope (o->scale_dir_range, theta[2 * n + i]) : 0.0;
      grad[3 * n + i] = o->scale_time_range > 0 ? c->st[i] * scale_slope (o->scale_time_range, theta[3 * n + i]) : 0.0;
    }
  for (guint s = 0; s < o->steps; s++)
    {
      const double *w = value->w + (gsize) s * K, *gw = c->w + (gsize) s * K;
      double mean = 0.0;

      for (guint k = 0; k < K; k++)
        mean += w[k] * gw[k];
      for (guint k = 0; k < K; k++)
        grad[n + (gsize) s * K + k] = w[k] * (gw[k] - mean);
    }
}

/* Keeps theta where every coefficient is representable: r = sigmoid(p) strictly
 * inside (0, 1) (a huge learning rate would round it to 0 or 1, an invalid
 * table), and the other parameters finite (softmax of +-inf is NaN). The scales
 * and weights saturate long before PARAM_MAX. */
#define PARAM_MAX 1e3

static void
params_project (const EpdDistillOptions *o,
                double                  *theta)
{
  gsize n = (gsize) o->steps * o->n_points;
  double p_max = log ((1.0 - EPD_DISTILL_R_MIN) / EPD_DISTILL_R_MIN);

  for (gsize i = 0; i < n; i++)
    theta[i] = CLAMP (theta[i], -p_max, p_max);
  for (gsize i = n; i < 4 * n; i++)
    theta[i] = CLAMP (theta[i], -PARAM_MAX, PARAM_MAX);
}

static void
params_from_table (const EpdDistillOptions *o,
                   const EpdTable          *table,
                   double                  *theta)
{
  gsize n = (gsize) o->steps * o->n_points;

  for (gsize i = 0; i < n; i++)
    {
      double r = table->r[i], w = MAX (table->weight[i], 1e-300);

      theta[i] = log (r / (1.0 - r));
      theta[n + i] = log (w);
      theta[2 * n + i] = o->scale_dir_range > 0 && table->scale_dir ?
                         param_from_scale (o->scale_dir_range, table->scale_dir[i]) : 0.0;
      theta[3 * n + i] = o->scale_time_range > 0 && table->scale_time ?
                         param_from_scale (o->scale_time_range, table->scale_time[i]) : 0.0;
    }
}

static EpdTable *
table_new_for_options (const EpdDistillOptions *o)
{
  const char *name = o->solver == EPD_SOLVER_EPD_PLUGIN ? "epd-plugin" : "epd";
  EpdTable *table = epd_table_new (name, o->steps, o->n_points);

  table->schedule = o->schedule;
  table->afs = o->afs;
  table->max_order = o->max_order;
  return table;
}

EpdTable *
epd_distill_table_from_params (const EpdDistillOptions *o,
                               const double            *theta)
{
  gsize n = (gsize) o->steps * o->n_points;
  EpdTable *table = table_new_for_options (o);
  Coefs c;

  coefs_init (&c, n);
  coefs_from_params (o, theta, &c);
  memcpy (table->r, c.r, n * sizeof (double));
  memcpy (table->weight, c.w, n * sizeof (double));
  if (o->scale_dir_range > 0)
    table->scale_dir = g_memdup2 (c.sd, n * sizeof (double));
  if (o->scale_time_range > 0)
    table->scale_time = g_memdup2 (c.st, n * sizeof (double));
  g_free (c.r);
  return table;
}

/* ---- the student: EPD along its own trajectory, with exact gradients ------- */

typedef struct
{
  EpdDenoiser  *denoiser;    /* owned: the model, or its flow-matching view */
  guint         dim;
  guint         steps;
  guint         K;
  const double *grid;        /* steps + 1 times */
  gboolean      afs;
  gboolean      plugin;
  guint         max_order;
  gboolean      time_grad;   /* scale_time is trained: differentiate along sigma */
  EpdDistillLoss loss;
  Coefs         coefs;       /* borrowed */
} Student;

/* Scratch buffers of one EPD step over `rows` point rows (two blocks when the
 * scale_time derivative is wanted). */
typedef struct
{
  double *x;      /* [rows][dim] evaluation points */
  double *sigma;  /* [rows] */
  double *dx;     /* [rows][dim] tangent */
  double *dsigma; /* [rows] */
  double *den;    /* [rows][dim] D */
  double *dden;   /* [rows][dim] JVP */
} StepScratch;

static void
step_scratch_init (StepScratch *s,
                   gsize        rows,
                   guint        dim)
{
  s->x = g_new (double, rows * dim);
  s->sigma = g_new (double, rows);
  s->dx = g_new (double, rows * dim);
  s->dsigma = g_new (double, rows);
  s->den = g_new (double, rows * dim);
  s->dden = g_new (double, rows * dim);
}

static void
step_scratch_clear (StepScratch *s)
{
  g_free (s->x);
  g_free (s->sigma);
  g_free (s->dx);
  g_free (s->dsigma);
  g_free (s->den);
  g_free (s->dden);
}

/* The predictor direction g that forms the points x_k = x + (tau_k - t) g:
 * d itself for EPD; for the plug-in, iPNDM's combination of d and the history
 * (hist[0] the newest of n_hist earlier directions). */
static void
predictor_direction (const Student *st,
                     const double  *d,
                     double *const *hist,
                     guint          n_hist,
                     gsize          n,
                     double        *g)
{
  guint order = st->plugin ? epd_ipndm_order (st->max_order, n_hist) : 1;

  epd_ipndm_direction (order, d, (const double *const *) hist, n, g);
}

/* Fills the evaluation rows of step n: block 1 carries the r tangent, block 2
 * (time_grad) the scale_time tangent. */
static void
step_fill_rows (const Student *st,
                guint          n,
                const double  *x,
                const double  *g,
                gsize          B,
                const double  *tau,
                const double  *dtau,
                StepScratch   *s)
{
  guint dim = st->dim, K = st->K;
  gsize rows = B * K;
  double t = st->grid[n];

  for (guint k = 0; k < K; k++)
    {
      double stk = st->coefs.st[(gsize) n * K + k];

      for (gsize b = 0; b < B; b++)
        {
          gsize row = (gsize) k * B + b;

          for (guint j = 0; j < dim; j++)
            {
              s->x[row * dim + j] = x[b * dim + j] + (tau[k] - t) * g[b * dim + j];
              s->dx[row * dim + j] = dtau[k] * g[b * dim + j];
            }
          s->sigma[row] = stk * tau[k];
          s->dsigma[row] = stk * dtau[k];
          if (!st->time_grad)
            continue;
          memcpy (s->x + (rows + row) * dim, s->x + row * dim, dim * sizeof (double));
          memset (s->dx + (rows + row) * dim, 0, dim * sizeof (double));
          s->sigma[rows + row] = s->sigma[row];
          s->dsigma[rows + row] = tau[k];
        }
    }
}

static double
dot (const double *a,
     const double *b,
     guint         n)
{
  double s = 0.0;

  for (guint i = 0; i < n; i++)
    s += a[i] * b[i];
  return s;
}

/* Gradient of step n's coefficients given e = d loss / d x_next ([B][dim]). */
static void
step_gradient (const Student     *st,
               guint              n,
               const double      *g,
               gsize              B,
               const double      *tau,
               const double      *dtau,
               const StepScratch *s,
               const double      *e,
               Coefs             *grad)
{
  guint dim = st->dim, K = st->K;
  gsize rows = B * K;
  double h = st->grid[n + 1] - st->grid[n];

  for (guint k = 0; k < K; k++)
    {
      gsize i = (gsize) n * K + k;
      double coef = h * st->coefs.w[i] * st->coefs.sd[i];
      double e_d = 0.0, e_dr = 0.0, e_dst = 0.0;

      for (gsize b = 0; b < B; b++)
        {
          gsize row = (gsize) k * B + b;
          const double *eb = e + b * dim;

          for (guint j = 0; j < dim; j++)
            {
              gsize a = row * dim + j;
              double dk = (s->x[a] - s->den[a]) / tau[k];
              /* d d_k / d r = (dtau g - dD) / tau - d_k dtau / tau */
              double dk_dr = (dtau[k] * g[b * dim + j] - s->dden[a] - dk * dtau[k]) / tau[k];

              e_d += eb[j] * dk;
              e_dr += eb[j] * dk_dr;
            }
          if (st->time_grad)
            e_dst -= dot (eb, s->dden + (rows + row) * dim, dim) / tau[k];
        }
      grad->w[i] += h * st->coefs.sd[i] * e_d;
      grad->sd[i] += h * st->coefs.w[i] * e_d;
      grad->r[i] += coef * e_dr;
      grad->st[i] += coef * e_dst;
    }
}

/* Adds the step's error (times scale) to *loss: the squared distance, or the
 * distance itself per noise (EPD_DISTILL_LOSS_L2); e = d loss / d x_next (may be NULL). */
static void
step_loss (EpdDistillLoss kind,
           const double  *x_next,
           const double  *target,
           gsize          B,
           guint          dim,
           double         scale,
           double        *loss,
           double        *e)
{
  for (gsize b = 0; b < B; b++)
    {
      const double *x = x_next + b * dim, *y = target + b * dim;
      double sq = 0.0, dist, slope;

      for (guint j = 0; j < dim; j++)
        sq += (x[j] - y[j]) * (x[j] - y[j]);
      dist = sqrt (sq);
      *loss += scale * (kind == EPD_DISTILL_LOSS_L2 ? dist : sq);
      if (e == NULL)
        continue;
      /* d dist / d x = diff / dist, taken as 0 where the distance is 0. */
      slope = kind == EPD_DISTILL_LOSS_L2 ? (dist > 0 ? scale / dist : 0.0) : 2.0 * scale;
      for (guint j = 0; j < dim; j++)
        e[b * dim + j] = slope * (x[j] - y[j]);
    }
}

/* The differentiated EPD step: the same equations as epd_epd_step(), with the
 * denoiser's JVP along r (and scale_time) in the same batched call; adds the
 * step's loss and the gradient of its coefficients. */
static gboolean
student_step_grad (const Student *st,
                   guint          n,
                   const double  *x,
                   const double  *g,
                   gsize          B,
                   const double  *target,
                   double         scale,
                   double        *x_next,
                   double        *loss,
                   Coefs         *grad,
                   GError       **error)
{
  guint dim = st->dim, K = st->K;
  gsize rows = B * K, nd = B * dim, n_rows = (st->time_grad ? 2 : 1) * rows;
  double t = st->grid[n], h = st->grid[n + 1] - t;
  g_autofree double *tau = g_new (double, K);
  g_autofree double *dtau = g_new (double, K);
  g_autofree double *e = g_new (double, nd);
  StepScratch s;
  gboolean ok;

  for (guint k = 0; k < K; k++)
    {
      tau[k] = epd_epd_point_time (t, st->grid[n + 1], st->coefs.r[(gsize) n * K + k]);
      dtau[k] = tau[k] * log (st->grid[n + 1] / t);
    }
  step_scratch_init (&s, n_rows, dim);
  step_fill_rows (st, n, x, g, B, tau, dtau, &s);
  ok = epd_denoiser_denoise_jvp (st->denoiser, s.x, s.sigma, s.dx, s.dsigma, n_rows,
                                 s.den, s.dden, error);
  if (ok)
    {
      memcpy (x_next, x, nd * sizeof (double));
      for (guint k = 0; k < K; k++)
        {
          gsize i = (gsize) n * K + k;
          double c = h * st->coefs.w[i] * st->coefs.sd[i] / tau[k];

          for (gsize a = 0; a < nd; a++)
            x_next[a] += c * (s.x[k * nd + a] - s.den[k * nd + a]);
        }
      step_loss (st->loss, x_next, target, B, dim, scale, loss, e);
      step_gradient (st, n, g, B, tau, dtau, &s, e, grad);
    }
  step_scratch_clear (&s);
  return ok;
}

/* One EPD step from x with predictor direction g into x_next; with a target it
 * adds the step's loss and, with grad, the gradient. */
static gboolean
student_step (const Student *st,
              guint          n,
              const double  *x,
              const double  *g,
              gsize          B,
              const double  *target,
              double         scale,
              double        *x_next,
              double        *loss,
              Coefs         *grad,
              GError       **error)
{
  EpdEpdRow row = {
    st->K,
    st->coefs.r + (gsize) n * st->K,
    st->coefs.w + (gsize) n * st->K,
    st->coefs.sd + (gsize) n * st->K,
    st->coefs.st + (gsize) n * st->K,
  };

  if (grad != NULL && target != NULL)
    return student_step_grad (st, n, x, g, B, target, scale, x_next, loss, grad, error);
  if (!epd_epd_step (st->denoiser, st->dim, B, st->grid[n], st->grid[n + 1], &row,
                     x, g, x_next, NULL, NULL, error))
    return FALSE;
  if (target != NULL && loss != NULL)
    step_loss (st->loss, x_next, target, B, st->dim, scale, loss, NULL);
  return TRUE;
}

/* The first direction of step n at x: AFS on the first step, else (x - D(x,t)) / t. */
static gboolean
student_direction (const Student *st,
                   guint          n,
                   const double  *x,
                   gsize          B,
                   double        *d,
                   GError       **error)
{
  gsize nd = B * st->dim;
  double t = st->grid[n];
  g_autofree double *sigma = NULL;

  if (st->afs && n == 0)
    {
      for (gsize a = 0; a < nd; a++)
        d[a] = x[a] / sqrt (1.0 + t * t);
      return TRUE;
    }
  sigma = g_new (double, B);
  for (gsize b = 0; b < B; b++)
    sigma[b] = t;
  if (!epd_denoiser_denoise (st->denoiser, x, sigma, B, d, error))
    return FALSE;
  for (gsize a = 0; a < nd; a++)
    d[a] = (x[a] - d[a]) / t;
  return TRUE;
}

static double
mean_distance (const double *a,
               const double *b,
               gsize         B,
               guint         dim)
{
  double sum = 0.0;

  for (gsize i = 0; i < B; i++)
    {
      double s = 0.0;

      for (guint j = 0; j < dim; j++)
        s += (a[i * dim + j] - b[i * dim + j]) * (a[i * dim + j] - b[i * dim + j]);
      sum += sqrt (s);
    }
  return sum / B;
}

/* Runs the student over B noises from x_init. targets [steps][B][dim] (may be
 * NULL) give the loss, per_step errors and, with grad, the gradient of the
 * step-by-step loss: each step starts from the student's own state, held fixed. */
static gboolean
student_run (const Student *st,
             const double  *x_init,
             const double  *targets,
             gsize          B,
             double        *per_step,
             double        *loss,
             Coefs         *grad,
             double        *x_final,
             GError       **error)
{
  gsize nd = B * st->dim;
  /* Squared: per coordinate; L2: per noise; both averaged over the steps. */
  double scale = 1.0 / ((st->loss == EPD_DISTILL_LOSS_L2 ? (double) B : (double) nd) * st->steps);
  g_autofree double *x = g_memdup2 (x_init, nd * sizeof (double));
  g_autofree double *x_next = g_new (double, nd);
  g_autofree double *g = g_new (double, nd);
  double *hist[4] = { NULL, NULL, NULL, NULL };  /* hist[0..2] history, hist[3] the new d */
  guint n_hist = 0;
  gboolean ok = TRUE;

  if (loss != NULL)
    *loss = 0.0;
  for (guint i = 0; i < 4; i++)
    hist[i] = g_new (double, nd);
  for (guint n = 0; ok && n < st->steps; n++)
    {
      const double *target = targets ? targets + (gsize) n * nd : NULL;
      double *d = hist[3];

      ok = student_direction (st, n, x, B, d, error);
      if (!ok)
        break;
      predictor_direction (st, d, hist, n_hist, nd, g);
      ok = student_step (st, n, x, g, B, target, scale, x_next, loss, grad, error);
      if (per_step != NULL && target != NULL)
        per_step[n] = mean_distance (x_next, target, B, st->dim);
      /* Rotate: the new direction becomes hist[0]. */
      memmove (hist + 1, hist, 3 * sizeof (double *));
      hist[0] = d;
      n_hist = MIN (n_hist + 1, 3);
      memcpy (x, x_next, nd * sizeof (double));
    }
  if (ok && x_final != NULL)
    memcpy (x_final, x, nd * sizeof (double));
  for (guint i = 0; i < 4; i++)
    g_free (hist[i]);
  return ok;
}

/* ---- public entry points --------------------------------------------------- */

void
epd_distill_options_init (EpdDistillOptions *self)
{
  memset (self, 0, sizeof *self);
  self->solver = EPD_SOLVER_EPD;
  self->steps = 4;
  self->n_points = 2;
  epd_schedule_init (&self->schedule, EPD_SCHEDULE_POLYNOMIAL);
  self->afs = TRUE;
  self->max_order = EPD_DISTILL_DEFAULT_MAX_ORDER;
  self->scale_dir_range = EPD_DISTILL_DEFAULT_SCALE_DIR;
  self->scale_time_range = EPD_DISTILL_DEFAULT_SCALE_TIME;
  self->n_train = EPD_DISTILL_DEFAULT_N_TRAIN;
  self->n_val = EPD_DISTILL_DEFAULT_N_VAL;
  self->iterations = EPD_DISTILL_DEFAULT_ITERATIONS;
  self->learning_rate = EPD_DISTILL_DEFAULT_LR;
  self->lr_final = EPD_DISTILL_DEFAULT_LR_FINAL;
  self->train_seed = 0;
  self->val_seed = 1;
  self->teacher_rtol = EPD_DISTILL_DEFAULT_RTOL;
  self->loss = EPD_DISTILL_DEFAULT_LOSS;
  self->final_iterations = EPD_DISTILL_FINAL_AUTO;
  self->final_n_train = EPD_DISTILL_DEFAULT_FINAL_N_TRAIN;
  self->final_batch = EPD_DISTILL_DEFAULT_FINAL_BATCH;
  self->final_lr = EPD_DISTILL_DEFAULT_FINAL_LR;
  self->final_patience = EPD_DISTILL_DEFAULT_FINAL_PATIENCE;
}

guint
epd_distill_final_iterations (const EpdDistillOptions *self,
                              guint                    dim)
{
  if (self->final_iterations != EPD_DISTILL_FINAL_AUTO)
    return self->final_iterations;
  return dim <= EPD_DISTILL_FINAL_AUTO_MAX_DIM ? EPD_DISTILL_DEFAULT_FINAL_ITERATIONS : 0;
}

EpdDistillOptions *
epd_distill_options_copy (const EpdDistillOptions *self)
{
  EpdDistillOptions *copy = g_memdup2 (self, sizeof *self);

  copy->model_spec = g_strdup (self->model_spec);
  copy->init = self->init ? epd_table_copy (self->init) : NULL;
  return copy;
}

void
epd_distill_options_free (EpdDistillOptions *self)
{
  if (self == NULL)
    return;
  g_free ((char *) self->model_spec);
  if (self->init != NULL)
    epd_table_free ((EpdTable *) self->init);
  g_free (self);
}

static gboolean
check_init_table (const EpdDistillOptions *o,
                  GError                 **error)
{
  const EpdTable *t = o->init;

  if (t == NULL)
    return TRUE;
  if (t->steps != o->steps || t->n_points != o->n_points)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "initial table has %u steps and %u points, distillation wants %u and %u",
                   t->steps, t->n_points, o->steps, o->n_points);
      return FALSE;
    }
  return epd_table_validate (t, error);
}

gboolean
epd_distill_options_validate (const EpdDistillOptions *o,
                              GError                 **error)
{
  const char *bad = NULL;

  if (o->solver != EPD_SOLVER_EPD && o->solver != EPD_SOLVER_EPD_PLUGIN)
    bad = "the solver must be epd or epd-plugin";
  else if (o->steps < 1 || o->steps > 1000)
    bad = "steps must be between 1 and 1000";
  else if (o->n_points < 1 || o->n_points > 64)
    bad = "the number of points K must be between 1 and 64";
  else if (o->max_order < 1 || o->max_order > 4)
    bad = "max-order must be between 1 and 4";
  else if (!(o->scale_dir_range >= 0 && o->scale_dir_range < 1) ||
           !(o->scale_time_range >= 0 && o->scale_time_range < 1))
    bad = "scale ranges must lie in [0, 1) so that scales stay positive";
  else if (o->n_train < 1 || o->n_val < 1)
    bad = "training and validation sets need at least one noise each";
  else if (o->batch > o->n_train)
    bad = "the batch cannot exceed the number of training noises";
  else if (!(o->learning_rate > 0 && isfinite (o->learning_rate)) ||
           !(o->lr_final >= 0 && o->lr_final <= o->learning_rate))
    bad = "the learning rate must be positive and lr-final in [0, lr]";
  else if (o->loss != EPD_DISTILL_LOSS_SQUARED && o->loss != EPD_DISTILL_LOSS_L2)
    bad = "the loss must be squared or l2";
  else if (o->train_seed == o->val_seed)
    bad = "training and validation seeds must differ";
  else if (!(o->teacher_rtol > 0 && o->teacher_rtol < 1))
    bad = "the teacher tolerance must lie in (0, 1)";
  else if (o->teacher_heun_m > EPD_DISTILL_MAX_TEACHER_HEUN)
    bad = "the Heun teacher takes at most " G_STRINGIFY (EPD_DISTILL_MAX_TEACHER_HEUN) " intermediate times per step";
  else if (o->final_iterations > 0 &&
           (o->final_n_train < 1 || o->final_batch < 1 || o->final_batch > o->final_n_train ||
            !(o->final_lr > 0 && isfinite (o->final_lr)) || o->final_patience < 1))
    bad = "the final stage needs noises, a batch no larger than them, a positive rate and patience";
  if (bad != NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "distillation: %s", bad);
      return FALSE;
    }
  if (!epd_schedule_validate (&o->schedule, error))
    return FALSE;
  return check_init_table (o, error);
}

static void
student_init (Student                 *st,
              EpdDenoiser             *denoiser,
              const EpdDistillOptions *o,
              const double            *grid,
              const Coefs             *coefs,
              gboolean                 with_grad)
{
  /* Flow-matching schedules run the same equations in t on the model's flow
   * view, exactly as epd_solve() does. */
  st->denoiser = epd_schedule_is_flow (&o->schedule) ? epd_flow_denoiser_new (denoiser)
                                                     : g_object_ref (denoiser);
  st->dim = epd_denoiser_get_dim (denoiser);
  st->steps = o->steps;
  st->K = o->n_points;
  st->grid = grid;
  st->afs = o->afs;
  st->plugin = o->solver == EPD_SOLVER_EPD_PLUGIN;
  st->max_order = o->max_order;
  st->time_grad = with_grad && o->scale_time_range > 0;
  st->loss = o->loss;
  st->coefs = *coefs;
}

gboolean
epd_distill_loss_grad (EpdDenoiser             *denoiser,
                       const EpdDistillOptions *o,
                       const double            *theta,
                       const double            *x_init,
                       const double            *teacher_states,
                       gsize                    batch,
                       double                  *loss,
                       double                  *grad,
                       GError                 **error)
{
  gsize n = (gsize) o->steps * o->n_points;
  g_autofree double *grid = epd_schedule_grid (&o->schedule, o->steps, error);
  Coefs value, cgrad;
  Student st;
  double total = 0.0;
  gboolean ok;

  if (grid == NULL)
    return FALSE;
  coefs_init (&value, n);
  coefs_init (&cgrad, n);
  coefs_from_params (o, theta, &value);
  student_init (&st, denoiser, o, grid, &value, grad != NULL);
  ok = student_run (&st, x_init, teacher_states, batch, NULL, &total,
                    grad ? &cgrad : NULL, NULL, error);
  g_object_unref (st.denoiser);
  if (ok && grad != NULL)
    coefs_grad_to_params (o, theta, &value, &cgrad, grad);
  if (ok && loss != NULL)
    *loss = total;
  g_free (value.r);
  g_free (cgrad.r);
  return ok;
}

/* Mean L2 distance of the final samples at theta (the student's coefficients
 * are rewritten in place). */
static gboolean
final_error_at (Student                 *st,
                const EpdDistillOptions *o,
                const double            *theta,
                const double            *x_init,
                const double            *y,
                gsize                    B,
                double                  *x_out,
                double                  *err,
                GError                 **error)
{
  coefs_from_params (o, theta, &st->coefs);
  if (!student_run (st, x_init, NULL, B, NULL, NULL, NULL, x_out, error))
    return FALSE;
  *err = mean_distance (x_out, y, B, st->dim);
  return TRUE;
}

/* Whether raw parameter i moves the table (a disabled scale's does not). */
static gboolean
param_active (const EpdDistillOptions *o,
              gsize                    i)
{
  gsize n = (gsize) o->steps * o->n_points;

  if (i >= 3 * n)
    return o->scale_time_range > 0;
  if (i >= 2 * n)
    return o->scale_dir_range > 0;
  return TRUE;
}

/* threads, or for 0 the processors that the last minute's load average
 * leaves free, this process's own included (at least one): on a machine
 * whose cores are all taken, a second thread cannot run beside the first,
 * and its hand-offs only cost. */
static guint
distill_threads (guint threads)
{
  guint n = g_get_num_processors ();
  double load;

  if (threads > 0)
    return threads;
  if (getloadavg (&load, 1) != 1)
    return n;
  return (guint) CLAMP (floor (n - load + 0.5) + 1.0, 1.0, (double) n);
}

/* The final stage's central differences: each parameter's two probes are one
 * work item. The caller takes items in turn with up to threads - 1 helpers
 * from a shared pool, and never waits for a helper: once no item is left to
 * take, it computes any item still unfinished itself (a helper starved by a
 * loaded machine costs at most that duplicate work, not a wait). Every
 * thread has its own student, probe and results; an item's value is the
 * same bit for bit whoever computes it, so the thread count never changes
 * the gradient. A job owns copies of its inputs: a late helper may still be
 * reading them after the caller has moved on. */
typedef struct
{
  gint               ref;
  gint               next;     /* the next item to take */
  gint               stop;     /* set when the caller is done: helpers leave */
  EpdDenoiser       *denoiser;
  EpdDistillOptions  o;        /* a copy; the student reads its plain fields only */
  double            *grid, *theta, *x_init, *y;
  gsize              batch, n_par;
  gint              *done;     /* [n_par]: 0, or 1 + the slot that finished item i first */
  double           **value;    /* [slots][n_par] */
  guint              slots;
} Probes;

typedef struct
{
  Probes *job;
  guint   slot;
} ProbeTask;

static Probes *
probes_ref (Probes *job)
{
  g_atomic_int_inc (&job->ref);
  return job;
}

static void
probes_unref (Probes *job)
{
  if (!g_atomic_int_dec_and_test (&job->ref))
    return;
  g_object_unref (job->denoiser);
  g_free (job->grid);
  g_free (job->theta);
  g_free (job->x_init);
  g_free (job->y);
  g_free (job->done);
  for (guint t = 0; t < job->slots; t++)
    g_free (job->value[t]);
  g_free (job->value);
  g_free (job);
}

/* Item i into value[slot][i], marked done unless another thread was first. */
static gboolean
probe_item (Probes   *job,
            guint     slot,
            Student  *st,
            double   *probe,
            double   *x_out,
            gsize     i,
            GError  **error)
{
  double up = 0.0, down = 0.0;

  if (g_atomic_int_get (&job->done[i]) != 0)
    return TRUE;
  job->value[slot][i] = 0.0;
  if (param_active (&job->o, i))
    {
      probe[i] = job->theta[i] + EPD_DISTILL_FINAL_FD_STEP;
      if (!final_error_at (st, &job->o, probe, job->x_init, job->y, job->batch, x_out, &up, error))
        return FALSE;
      probe[i] = job->theta[i] - EPD_DISTILL_FINAL_FD_STEP;
      if (!final_error_at (st, &job->o, probe, job->x_init, job->y, job->batch, x_out, &down, error))
        return FALSE;
      probe[i] = job->theta[i];
      job->value[slot][i] = (up - down) / (2.0 * EPD_DISTILL_FINAL_FD_STEP);
    }
  g_atomic_int_compare_and_exchange (&job->done[i], 0, (gint) slot + 1);
  return TRUE;
}

/* Takes items until none is left; the caller (slot 0) then finishes every
 * open one itself. A helper's error is dropped: the caller meets it again. */
static gboolean
probe_items (Probes  *job,
             guint    slot,
             GError **error)
{
  gsize n = (gsize) job->o.steps * job->o.n_points;
  g_autofree double *x_out = g_new (double, job->batch * epd_denoiser_get_dim (job->denoiser));
  g_autofree double *probe = g_memdup2 (job->theta, job->n_par * sizeof (double));
  Coefs value;
  Student st;
  gboolean ok = TRUE;
  gint i;

  coefs_init (&value, n);
  student_init (&st, job->denoiser, &job->o, job->grid, &value, FALSE);
  while (ok && !g_atomic_int_get (&job->stop) &&
         (i = g_atomic_int_add (&job->next, 1)) < (gint) job->n_par)
    ok = probe_item (job, slot, &st, probe, x_out, (gsize) i, slot == 0 ? error : NULL);
  for (gsize k = 0; ok && slot == 0 && k < job->n_par; k++)
    ok = probe_item (job, slot, &st, probe, x_out, k, error);
  g_object_unref (st.denoiser);
  g_free (value.r);
  return ok;
}

static void
probe_task_run (gpointer data,
                gpointer unused)
{
  ProbeTask *task = data;

  if (!g_atomic_int_get (&task->job->stop))
    probe_items (task->job, task->slot, NULL);
  probes_unref (task->job);
  g_free (task);
}

/* The helpers, one per processor but the caller's, created on first use;
 * NULL when there is one processor or no thread could start. */
static gpointer
probe_pool_new (gpointer unused)
{
  guint n = g_get_num_processors ();

  return n > 1 ? g_thread_pool_new (probe_task_run, NULL, (gint) n - 1, FALSE, NULL) : NULL;
}

static GThreadPool *
probe_pool (void)
{
  static GOnce once = G_ONCE_INIT;

  return g_once (&once, probe_pool_new, NULL);
}

/* Threads: distill_threads(), at most one per parameter. */
static guint
probe_threads (const EpdDistillOptions *o)
{
  guint t = distill_threads (o->threads);

  return CLAMP (t, 1, MIN (epd_distill_n_params (o), 64));
}

static Probes *
probes_new (EpdDenoiser             *denoiser,
            const EpdDistillOptions *o,
            const double            *grid,
            const double            *theta,
            const double            *x_init,
            const double            *y,
            gsize                    batch)
{
  Probes *job = g_new0 (Probes, 1);
  gsize nd = batch * epd_denoiser_get_dim (denoiser);

  job->ref = 1;
  job->denoiser = g_object_ref (denoiser);
  job->o = *o;
  job->n_par = epd_distill_n_params (o);
  job->grid = g_memdup2 (grid, (o->steps + 1) * sizeof (double));
  job->theta = g_memdup2 (theta, job->n_par * sizeof (double));
  job->x_init = g_memdup2 (x_init, nd * sizeof (double));
  job->y = g_memdup2 (y, nd * sizeof (double));
  job->batch = batch;
  job->done = g_new0 (gint, job->n_par);
  job->slots = probe_threads (o);
  job->value = g_new0 (double *, job->slots);
  for (guint t = 0; t < job->slots; t++)
    job->value[t] = g_new (double, job->n_par);
  return job;
}

/* grad by central differences; see Probes. */
static gboolean
final_grad (EpdDenoiser             *denoiser,
            const EpdDistillOptions *o,
            const double            *grid,
            const double            *theta,
            const double            *x_init,
            const double            *y,
            gsize                    batch,
            double                  *grad,
            GError                 **error)
{
  Probes *job = probes_new (denoiser, o, grid, theta, x_init, y, batch);
  GThreadPool *pool = job->slots > 1 ? probe_pool () : NULL;
  gboolean ok;

  /* Helpers still busy with an earlier job (starved) get no new one. */
  for (guint t = 1; pool != NULL && t < job->slots && g_thread_pool_unprocessed (pool) == 0; t++)
    {
      ProbeTask *task = g_new (ProbeTask, 1);

      task->job = probes_ref (job);
      task->slot = t;
      if (!g_thread_pool_push (pool, task, NULL))
        {
          probes_unref (job);
          g_free (task);
          break;
        }
    }
  ok = probe_items (job, 0, error);
  g_atomic_int_set (&job->stop, 1);
  for (gsize i = 0; ok && i < job->n_par; i++)
    grad[i] = job->value[g_atomic_int_get (&job->done[i]) - 1][i];
  probes_unref (job);
  return ok;
}

gboolean
epd_distill_final_loss_grad (EpdDenoiser             *denoiser,
                             const EpdDistillOptions *o,
                             const double            *theta,
                             const double            *x_init,
                             const double            *teacher_final,
                             gsize                    batch,
                             double                  *loss,
                             double                  *grad,
                             GError                 **error)
{
  gsize n = (gsize) o->steps * o->n_points;
  g_autofree double *grid = epd_schedule_grid (&o->schedule, o->steps, error);
  g_autofree double *x_out = NULL;
  Coefs value;
  Student st;
  gboolean ok;

  if (grid == NULL)
    return FALSE;
  x_out = g_new (double, batch * epd_denoiser_get_dim (denoiser));
  coefs_init (&value, n);
  student_init (&st, denoiser, o, grid, &value, FALSE);
  ok = final_error_at (&st, o, theta, x_init, teacher_final, batch, x_out, loss, error);
  g_object_unref (st.denoiser);
  g_free (value.r);
  if (ok && grad != NULL)
    ok = final_grad (denoiser, o, grid, theta, x_init, teacher_final, batch, grad, error);
  return ok;
}

static void
options_from_table (EpdDistillOptions *o,
                    const EpdTable    *table)
{
  epd_distill_options_init (o);
  o->solver = g_strcmp0 (table->solver, "epd-plugin") == 0 ? EPD_SOLVER_EPD_PLUGIN : EPD_SOLVER_EPD;
  o->steps = table->steps;
  o->n_points = table->n_points;
  o->schedule = table->schedule;
  o->afs = table->afs;
  o->max_order = table->max_order ? table->max_order : 4;
}

double
epd_distill_table_error (EpdDenoiser    *denoiser,
                         const EpdTable *table,
                         const double   *x_init,
                         const double   *teacher_states,
                         gsize           batch,
                         double         *per_step,
                         GError        **error)
{
  gsize n = (gsize) table->steps * table->n_points;
  g_autofree double *steps_err = g_new (double, table->steps);
  g_autofree double *grid = NULL;
  EpdDistillOptions o;
  Coefs c;
  Student st;
  gboolean ok;

  if (!epd_table_validate (table, error))
    return -1.0;
  options_from_table (&o, table);
  grid = epd_schedule_grid (&o.schedule, o.steps, error);
  if (grid == NULL)
    return -1.0;
  coefs_init (&c, n);
  memcpy (c.r, table->r, n * sizeof (double));
  memcpy (c.w, table->weight, n * sizeof (double));
  for (gsize i = 0; i < n; i++)
    {
      c.sd[i] = table->scale_dir ? table->scale_dir[i] : 1.0;
      c.st[i] = table->scale_time ? table->scale_time[i] : 1.0;
    }
  student_init (&st, denoiser, &o, grid, &c, FALSE);
  ok = student_run (&st, x_init, teacher_states, batch, steps_err, NULL, NULL, NULL, error);
  g_object_unref (st.denoiser);
  g_free (c.r);
  if (!ok)
    return -1.0;
  if (per_step != NULL)
    memcpy (per_step, steps_err, table->steps * sizeof (double));
  return steps_err[table->steps - 1];
}

/* The trace step whose start time is t (the teacher records the grid's times). */
static const EpdTraceStep *
trace_step_at (const EpdTrace *trace,
               double          t)
{
  for (guint i = 0; i < epd_trace_n_steps (trace); i++)
    {
      const EpdTraceStep *step = epd_trace_get_step (trace, i);

      if (fabs (step->t_cur - t) <= 1e-12 * t)
        return step;
    }
  return NULL;
}

double *
epd_distill_teacher_states (EpdDenoiser             *denoiser,
                            const EpdDistillOptions *o,
                            const double            *x_init,
                            gsize                    batch,
                            GCancellable            *cancellable,
                            GError                 **error)
{
  gsize nd = batch * epd_denoiser_get_dim (denoiser);
  g_autofree double *grid = epd_schedule_grid (&o->schedule, o->steps, error);
  g_autoptr(EpdTrace) trace = epd_trace_new ();
  g_autofree double *states = NULL;
  EpdSolveOptions so;

  if (grid == NULL)
    return NULL;
  epd_solve_options_init (&so);
  so.solver = o->teacher_heun_m > 0 ? EPD_SOLVER_HEUN : EPD_SOLVER_TEACHER;
  so.steps = o->steps * (o->teacher_heun_m + 1);
  so.schedule = o->schedule;
  so.teacher_rtol = o->teacher_rtol;
  states = g_new (double, o->steps * nd);
  if (!epd_solve (denoiser, &so, x_init, batch, states + (o->steps - 1) * nd,
                  trace, NULL, cancellable, error))
    return NULL;
  for (guint n = 1; n < o->steps; n++)
    {
      const EpdTraceStep *step = trace_step_at (trace, grid[n]);

      if (step == NULL || step->x == NULL)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                       "the teacher's trace has no state at grid time %g (step %u)", grid[n], n);
          return NULL;
        }
      memcpy (states + (n - 1) * nd, step->x, nd * sizeof (double));
    }
  return g_steal_pointer (&states);
}

/* ---- the training loop ----------------------------------------------------- */

typedef struct
{
  EpdDenoiser             *denoiser;
  const EpdDistillOptions *o;
  guint                    dim;
  gsize                    n_par;
  gsize                    batch;
  double                  *train_x;       /* [n_train][dim] */
  double                  *train_target;  /* [steps][n_train][dim] */
  double                  *val_x;
  double                  *val_target;
  double                  *theta;
  double                  *grad;
  double                  *adam_m;
  double                  *adam_v;
  double                  *best_theta;
  double                  *best_per_step;
  double                  *last_per_step;
  double                  *batch_x;
  double                  *batch_target;
  guint                   *order;         /* shuffled training indices */
  guint                    cursor;
  GRand                   *rand;
  GArray                  *loss_curve;
  GArray                  *val_iterations;
  GArray                  *val_errors;
  double                   initial_val;
  double                   best_val;
  guint                    best_iteration;
  guint                    done;
  guint                    skipped;       /* updates skipped for a non-finite loss or gradient */
  guint                    last_validated; /* iteration of the latest validation */
  guint                    invalid_validations;
  gint64                   start_us;
  gint64                   train_start_us;
  /* The final stage (final_run): the step-wise stage's records are kept here. */
  gboolean                 final_run;
  guint                    since_best;     /* validations since the last new best */
  gboolean                 stopped_early;
  const char              *best_stage;
  GArray                  *stepwise_loss;
  GArray                  *stepwise_val_iterations;
  GArray                  *stepwise_val_errors;
  guint                    stepwise_done;
  guint                    stepwise_best_iteration;
  double                   final_start_val;
  EpdDistillProgressFunc   progress;
  gpointer                 user_data;
} Distill;

static void
distill_free (Distill *d)
{
  g_free (d->train_x);
  g_free (d->train_target);
  g_free (d->val_x);
  g_free (d->val_target);
  g_free (d->theta);
  g_free (d->best_per_step);
  g_free (d->last_per_step);
  g_free (d->batch_x);
  g_free (d->batch_target);
  g_free (d->order);
  g_clear_pointer (&d->rand, g_rand_free);
  g_clear_pointer (&d->loss_curve, g_array_unref);
  g_clear_pointer (&d->val_iterations, g_array_unref);
  g_clear_pointer (&d->val_errors, g_array_unref);
  g_clear_pointer (&d->stepwise_loss, g_array_unref);
  g_clear_pointer (&d->stepwise_val_iterations, g_array_unref);
  g_clear_pointer (&d->stepwise_val_errors, g_array_unref);
}

/* The teacher's states of every training and validation noise at every step,
 * a batch of targets, and the solves: checked before any of it is allocated. */
static gboolean
distill_check_memory (const EpdDistillOptions  *o,
                      guint                     dim,
                      guint                     batch,
                      GError                  **error)
{
  g_autofree char *what = g_strdup_printf ("distillation of %u training and %u validation noises of %u values",
                                           o->n_train, o->n_val, dim);
  guint64 rows = (guint64) o->n_train + o->n_val + batch;

  return epd_memory_check (what, rows * dim, sizeof (double) * (o->steps + 2 * (guint64) o->n_points + 12), error);
}

static void
distill_alloc (Distill *d)
{
  const EpdDistillOptions *o = d->o;
  gsize nd = d->batch * d->dim;

  /* theta, grad, Adam's moments and the best theta share one block. */
  d->theta = g_new0 (double, 5 * d->n_par);
  d->grad = d->theta + d->n_par;
  d->adam_m = d->theta + 2 * d->n_par;
  d->adam_v = d->theta + 3 * d->n_par;
  d->best_theta = d->theta + 4 * d->n_par;
  d->best_per_step = g_new0 (double, o->steps);
  d->last_per_step = g_new0 (double, o->steps);
  d->batch_x = g_new (double, nd);
  d->batch_target = g_new (double, o->steps * nd);
  d->order = g_new (guint, o->n_train);
  for (guint i = 0; i < o->n_train; i++)
    d->order[i] = i;
  d->rand = g_rand_new_with_seed (o->train_seed ^ 0x9e3779b9u);
  d->loss_curve = g_array_new (FALSE, FALSE, sizeof (double));
  d->val_iterations = g_array_new (FALSE, FALSE, sizeof (guint));
  d->val_errors = g_array_new (FALSE, FALSE, sizeof (double));
}

static void
distill_report (Distill    *d,
                const char *phase,
                double      loss)
{
  EpdDistillProgress p = { phase, d->done, d->o->iterations, loss, NAN, d->best_val,
                           d->o->steps, NULL, 0, -1 };
  gint64 now = g_get_monotonic_time ();

  if (d->progress == NULL)
    return;
  if (d->final_run && g_strcmp0 (phase, "training") == 0)
    p.phase = "final";
  if (d->val_errors->len > 0)
    {
      p.val_error = g_array_index (d->val_errors, double, d->val_errors->len - 1);
      p.val_per_step = d->last_per_step;
    }
  else if (d->final_run)
    p.val_error = d->final_start_val;  /* before the final stage's first validation */
  p.elapsed_s = (now - d->start_us) / 1e6;
  if (d->done > 0)
    p.remaining_s = (now - d->train_start_us) / 1e6 / d->done * (d->o->iterations - d->done);
  d->progress (&p, d->user_data);
}

double *
epd_distill_initial_states (const EpdDistillOptions *o,
                            guint32                  seed,
                            guint                    n,
                            guint                    dim)
{
  g_autofree double *z = epd_random_latents (seed, n, dim);
  double *x = g_new (double, (gsize) n * dim);
  EpdSolveOptions so;

  epd_solve_options_init (&so);
  so.schedule = o->schedule;
  so.steps = o->steps;
  epd_solve_init_from_noise (&so, z, (gsize) n * dim, x);
  return x;
}

/* The teacher's states of one noise set: the shared ones when given, else solved. */
static double *
distill_targets (Distill      *d,
                 const double *x,
                 guint         n,
                 const double *shared,
                 GCancellable *cancellable,
                 GError      **error)
{
  if (shared != NULL)
    return g_memdup2 (shared, (gsize) d->o->steps * n * d->dim * sizeof (double));
  return epd_distill_teacher_states (d->denoiser, d->o, x, n, cancellable, error);
}

static gboolean
distill_teacher (Distill      *d,
                 GCancellable *cancellable,
                 GError      **error)
{
  const EpdDistillOptions *o = d->o;

  d->train_x = epd_distill_initial_states (o, o->train_seed, o->n_train, d->dim);
  d->val_x = epd_distill_initial_states (o, o->val_seed, o->n_val, d->dim);
  distill_report (d, "teacher", NAN);
  d->train_target = distill_targets (d, d->train_x, o->n_train, o->teacher_train, cancellable, error);
  if (d->train_target == NULL)
    return FALSE;
  d->val_target = distill_targets (d, d->val_x, o->n_val, o->teacher_val, cancellable, error);
  return d->val_target != NULL;
}

/* Validation error of theta; records it and keeps the best. A table that does
 * not validate (a non-finite coefficient) is recorded as null and never kept:
 * it must not cost the run. */
static gboolean
distill_validate (Distill *d,
                  GError **error)
{
  g_autoptr(EpdTable) table = epd_distill_table_from_params (d->o, d->theta);
  g_autofree double *per_step = g_new (double, d->o->steps);
  double err;

  d->last_validated = d->done;
  if (!epd_table_validate (table, NULL))
    {
      err = NAN;
      d->invalid_validations++;
      g_array_append_val (d->val_iterations, d->done);
      g_array_append_val (d->val_errors, err);
      return TRUE;
    }
  err = epd_distill_table_error (d->denoiser, table, d->val_x, d->val_target,
                                 d->o->n_val, per_step, error);
  if (err < 0)
    return FALSE;
  g_array_append_val (d->val_iterations, d->done);
  g_array_append_val (d->val_errors, err);
  memcpy (d->last_per_step, per_step, d->o->steps * sizeof (double));
  if (d->val_errors->len == 1 && !d->final_run)
    d->initial_val = err;
  d->since_best++;
  if (isnan (d->best_val) || err < d->best_val)
    {
      d->since_best = 0;
      d->best_val = err;
      d->best_iteration = d->done;
      d->best_stage = d->final_run ? "final" : "step-wise";
      memcpy (d->best_theta, d->theta, d->n_par * sizeof (double));
      memcpy (d->best_per_step, per_step, d->o->steps * sizeof (double));
    }
  return TRUE;
}

/* The next minibatch, drawn without replacement from a reshuffled order. */
static void
distill_gather_batch (Distill *d)
{
  const EpdDistillOptions *o = d->o;
  gsize nd_all = (gsize) o->n_train * d->dim, nd = d->batch * d->dim;

  for (gsize b = 0; b < d->batch; b++)
    {
      guint i;

      if (d->cursor == 0 && d->batch < o->n_train)
        for (guint j = o->n_train - 1; j > 0; j--)
          {
            guint k = g_rand_int_range (d->rand, 0, j + 1), tmp = d->order[j];

            d->order[j] = d->order[k];
            d->order[k] = tmp;
          }
      i = d->order[d->cursor];
      d->cursor = (d->cursor + 1) % o->n_train;
      memcpy (d->batch_x + b * d->dim, d->train_x + (gsize) i * d->dim, d->dim * sizeof (double));
      for (guint n = 0; n < o->steps; n++)
        memcpy (d->batch_target + n * nd + b * d->dim,
                d->train_target + n * nd_all + (gsize) i * d->dim, d->dim * sizeof (double));
    }
}

static double
cosine_lr (const EpdDistillOptions *o,
           guint                    it)
{
  double progress = o->iterations > 1 ? (double) it / (o->iterations - 1) : 1.0;

  return o->lr_final + 0.5 * (o->learning_rate - o->lr_final) * (1.0 + cos (G_PI * progress));
}

static void
adam_update (Distill *d,
             guint    it)
{
  const EpdAdam adam = EPD_ADAM_DEFAULTS;

  epd_adam_step (&adam, (guint64) it + 1, cosine_lr (d->o, it), d->theta, d->grad, d->adam_m, d->adam_v, d->n_par);
  params_project (d->o, d->theta);
}

static guint
val_every (const EpdDistillOptions *o)
{
  if (o->val_every > 0)
    return o->val_every;
  return CLAMP (o->iterations / 20, 1, EPD_DISTILL_MAX_VAL_EVERY);
}

/* This iteration's loss and gradient: the step-by-step loss, or in the final
 * stage the final error (the batch's teacher states end with the final ones). */
static gboolean
distill_loss_grad (Distill *d,
                   double  *loss,
                   GError **error)
{
  const EpdDistillOptions *o = d->o;
  gsize nd = d->batch * d->dim;

  if (d->final_run)
    return epd_distill_final_loss_grad (d->denoiser, o, d->theta, d->batch_x,
                                        d->batch_target + (o->steps - 1) * nd, d->batch,
                                        loss, d->grad, error);
  return epd_distill_loss_grad (d->denoiser, o, d->theta, d->batch_x, d->batch_target,
                                d->batch, loss, d->grad, error);
}

/* Iterates until done or cancelled (not an error: the best table is kept). */
static gboolean
distill_train (Distill      *d,
               GCancellable *cancellable,
               GError      **error)
{
  const EpdDistillOptions *o = d->o;

  d->train_start_us = g_get_monotonic_time ();
  while (d->done < o->iterations && !g_cancellable_is_cancelled (cancellable))
    {
      double loss;

      distill_gather_batch (d);
      if (!distill_loss_grad (d, &loss, error))
        return FALSE;
      /* A diverging minibatch must not poison the parameters: skip it, and say so. */
      if (epd_first_non_finite (d->grad, d->n_par) < 0 && isfinite (loss))
        adam_update (d, d->done);
      else
        d->skipped++;
      g_array_append_val (d->loss_curve, loss);
      d->done++;
      if ((d->done % val_every (o) == 0 || d->done == o->iterations) && !distill_validate (d, error))
        return FALSE;
      distill_report (d, "training", loss);
      if (d->final_run && d->since_best >= o->final_patience)
        {
          d->stopped_early = TRUE;
          break;
        }
    }
  /* Cancelled between validations: the iterations since the last one count too. */
  if (d->done > d->last_validated && !distill_validate (d, error))
    return FALSE;
  return TRUE;
}

/* Swaps the records of the step-wise stage out, so that the final stage's curves
 * start empty. */
static void
distill_stash_stepwise (Distill *d)
{
  d->stepwise_loss = g_steal_pointer (&d->loss_curve);
  d->stepwise_val_iterations = g_steal_pointer (&d->val_iterations);
  d->stepwise_val_errors = g_steal_pointer (&d->val_errors);
  d->loss_curve = g_array_new (FALSE, FALSE, sizeof (double));
  d->val_iterations = g_array_new (FALSE, FALSE, sizeof (guint));
  d->val_errors = g_array_new (FALSE, FALSE, sizeof (double));
  d->stepwise_done = d->done;
  d->stepwise_best_iteration = d->best_iteration;
  d->final_start_val = d->best_val;
}

/* The final stage's training set, minibatch buffers and fresh Adam moments,
 * starting from the best parameters so far. */
static void
distill_final_reset (Distill                 *d,
                     const EpdDistillOptions *stage)
{
  gsize nd = (gsize) stage->batch * d->dim;

  g_free (d->train_x);
  g_clear_pointer (&d->train_target, g_free);
  g_free (d->batch_x);
  g_free (d->batch_target);
  g_free (d->order);
  d->batch = stage->batch;
  d->batch_x = g_new (double, nd);
  d->batch_target = g_new (double, stage->steps * nd);
  d->order = g_new (guint, stage->n_train);
  for (guint i = 0; i < stage->n_train; i++)
    d->order[i] = i;
  d->train_x = epd_distill_initial_states (stage, stage->train_seed, stage->n_train, d->dim);
  memcpy (d->theta, d->best_theta, d->n_par * sizeof (double));
  memset (d->adam_m, 0, 2 * d->n_par * sizeof (double));  /* m and v are adjacent */
  d->final_run = TRUE;
  d->done = d->cursor = d->since_best = d->last_validated = 0;
}

/* The final stage (see EpdDistillOptions): d->o points to the stage's own
 * settings while it runs. A cancel during its teacher solve keeps the best table. */
static gboolean
distill_final (Distill      *d,
               GCancellable *cancellable,
               GError      **error)
{
  const EpdDistillOptions *o = d->o;
  EpdDistillOptions stage = *o;
  g_autoptr(GError) local = NULL;
  gboolean ok;

  stage.n_train = o->final_n_train;
  stage.batch = o->final_batch;
  stage.iterations = epd_distill_final_iterations (o, d->dim);
  stage.learning_rate = o->final_lr;
  stage.lr_final = 0.01 * o->final_lr;
  stage.val_every = EPD_DISTILL_FINAL_VAL_EVERY;
  distill_stash_stepwise (d);
  distill_final_reset (d, &stage);
  d->o = &stage;
  distill_report (d, "teacher", NAN);
  d->train_target = epd_distill_teacher_states (d->denoiser, &stage, d->train_x, stage.n_train,
                                                cancellable, &local);
  if (d->train_target != NULL)
    ok = distill_train (d, cancellable, &local);
  else
    ok = g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  d->o = o;
  if (!ok)
    g_propagate_error (error, g_steal_pointer (&local));
  return ok;
}

static JsonArray *
double_array (const double *v,
              gsize         n)
{
  JsonArray *a = json_array_sized_new (n);

  /* A diverged value is written as null. */
  for (gsize i = 0; i < n; i++)
    epd_json_array_add_number (a, v[i]);
  return a;
}

static JsonArray *
uint_array (const GArray *v)
{
  JsonArray *a = json_array_sized_new (v->len);

  for (guint i = 0; i < v->len; i++)
    json_array_add_int_element (a, g_array_index (v, guint, i));
  return a;
}

static void
set_curves (JsonObject   *m,
            const GArray *loss,
            const GArray *val_iterations,
            const GArray *val_errors)
{
  json_object_set_array_member (m, "loss_curve", double_array ((double *) loss->data, loss->len));
  json_object_set_array_member (m, "val_iterations", uint_array (val_iterations));
  json_object_set_array_member (m, "val_curve",
                                double_array ((double *) val_errors->data, val_errors->len));
}

static JsonObject *
final_metadata (Distill *d)
{
  const EpdDistillOptions *o = d->o;
  JsonObject *f = json_object_new ();

  json_object_set_string_member (f, "loss", "mean L2 distance of the final samples to the teacher's");
  json_object_set_string_member (f, "gradients", "central differences of the table parameters");
  json_object_set_int_member (f, "n_train", o->final_n_train);
  json_object_set_int_member (f, "batch", o->final_batch);
  json_object_set_int_member (f, "iterations", epd_distill_final_iterations (o, d->dim));
  json_object_set_int_member (f, "iterations_done", d->done);
  json_object_set_double_member (f, "learning_rate", o->final_lr);
  json_object_set_int_member (f, "patience", o->final_patience);
  json_object_set_boolean_member (f, "stopped_early", d->stopped_early);
  epd_json_object_set_number (f, "val_error_start", d->final_start_val);
  set_curves (f, d->loss_curve, d->val_iterations, d->val_errors);
  return f;
}

static void
distill_metadata (Distill        *d,
                  JsonObject     *m,
                  gboolean        cancelled)
{
  const EpdDistillOptions *o = d->o;

  json_object_set_string_member (m, "created_by", "epd distill (Stage 1)");
  json_object_set_string_member (m, "model", o->model_spec ? o->model_spec : "unknown");
  json_object_set_string_member (m, "model_description", epd_denoiser_describe (d->denoiser));
  if (o->teacher_heun_m > 0)
    {
      g_autofree char *teacher = g_strdup_printf ("teacher: Heun with %u intermediate times per grid step",
                                                  o->teacher_heun_m);
      json_object_set_string_member (m, "teacher", teacher);
      json_object_set_int_member (m, "teacher_heun_m", o->teacher_heun_m);
    }
  else
    {
      json_object_set_string_member (m, "teacher", "teacher: adaptive Dormand-Prince 5(4), sampled at the grid times");
      json_object_set_double_member (m, "teacher_rtol", o->teacher_rtol);
    }
  json_object_set_string_member (m, "loss", o->loss == EPD_DISTILL_LOSS_L2 ?
                                 "L2 distance to the teacher state after every step (mean over noises), "
                                 "student on its own trajectory; the final step the same" :
                                 "squared distance to the teacher state after every step, "
                                 "student on its own trajectory; the final step the same");
  /* The flow-matching view has no exact JVP of its own. */
  json_object_set_string_member (m, "gradients", epd_denoiser_has_exact_jvp (d->denoiser) &&
                                 !epd_schedule_is_flow (&o->schedule) ?
                                 "exact (analytic denoiser JVP)" : "exact chain rule, finite-difference denoiser JVP");
  json_object_set_int_member (m, "train_seed", o->train_seed);
  json_object_set_int_member (m, "val_seed", o->val_seed);
  json_object_set_int_member (m, "n_train", o->n_train);
  json_object_set_int_member (m, "n_val", o->n_val);
  /* The step-wise stage's (the final stage records its own). */
  json_object_set_int_member (m, "batch", o->batch ? o->batch : o->n_train);
  json_object_set_int_member (m, "iterations", o->iterations);
  json_object_set_int_member (m, "iterations_done", d->final_run ? d->stepwise_done : d->done);
  json_object_set_int_member (m, "updates_skipped_non_finite", d->skipped);
  json_object_set_int_member (m, "invalid_validations", d->invalid_validations);
  json_object_set_string_member (m, "optimizer", "adam, cosine learning rate");
  json_object_set_double_member (m, "learning_rate", o->learning_rate);
  json_object_set_double_member (m, "lr_final", o->lr_final);
  json_object_set_double_member (m, "scale_dir_range", o->scale_dir_range);
  json_object_set_double_member (m, "scale_time_range", o->scale_time_range);
  set_curves (m, d->final_run ? d->stepwise_loss : d->loss_curve,
              d->final_run ? d->stepwise_val_iterations : d->val_iterations,
              d->final_run ? d->stepwise_val_errors : d->val_errors);
  epd_json_object_set_number (m, "val_error_initial", d->initial_val);
  epd_json_object_set_number (m, "val_error", d->best_val);
  json_object_set_int_member (m, "best_iteration", d->best_iteration);
  json_object_set_string_member (m, "best_stage", d->best_stage ? d->best_stage : "none");
  if (d->final_run)
    json_object_set_object_member (m, "final_stage", final_metadata (d));
  json_object_set_array_member (m, "val_error_per_step", double_array (d->best_per_step, o->steps));
  json_object_set_double_member (m, "wall_time_s", (g_get_monotonic_time () - d->start_us) / 1e6);
  json_object_set_boolean_member (m, "cancelled", cancelled);
}

/* One distillation on the options' own grid: the step-wise stage, then the final one. */
static EpdTable *
distill_once (EpdDenoiser             *denoiser,
              const EpdDistillOptions *options,
              EpdDistillProgressFunc   progress,
              gpointer                 user_data,
              GCancellable            *cancellable,
              GError                 **error)
{
  Distill d = { 0 };
  EpdTable *table = NULL;
  g_autoptr(EpdTable) uniform = NULL;

  d.denoiser = denoiser;
  d.o = options;
  d.dim = epd_denoiser_get_dim (denoiser);
  d.n_par = epd_distill_n_params (options);
  d.batch = options->batch ? options->batch : options->n_train;
  if (!distill_check_memory (options, d.dim, d.batch, error))
    return NULL;
  d.progress = progress;
  d.user_data = user_data;
  d.start_us = g_get_monotonic_time ();
  d.best_val = d.initial_val = NAN;
  distill_alloc (&d);
  uniform = table_new_for_options (options);
  params_from_table (options, options->init ? options->init : uniform, d.theta);
  params_project (options, d.theta);
  if (distill_teacher (&d, cancellable, error) &&
      distill_validate (&d, error) &&
      distill_train (&d, cancellable, error) &&
      (epd_distill_final_iterations (options, d.dim) == 0 || g_cancellable_is_cancelled (cancellable) ||
       distill_final (&d, cancellable, error)))
    {
      gboolean cancelled = g_cancellable_is_cancelled (cancellable);

      table = epd_distill_table_from_params (options, d.best_theta);
      distill_metadata (&d, table->metadata, cancelled);
    }
  distill_free (&d);
  return table;
}

/* The step-wise stage's records of the chosen grid, carried over to the table
 * that the final stage (run as a second, step-less distillation) returns. */
static void
copy_stepwise_metadata (JsonObject *to,
                        JsonObject *from)
{
  static const char *const names[] = {
    "n_train", "batch", "iterations", "iterations_done", "learning_rate", "lr_final",
    "loss_curve", "val_iterations", "val_curve", "val_error_initial",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if (json_object_has_member (from, names[i]))
      json_object_set_member (to, names[i], json_node_copy (json_object_get_member (from, names[i])));
  if (g_strcmp0 (json_object_get_string_member_with_default (to, "best_stage", ""), "final") != 0)
    json_object_set_member (to, "best_iteration",
                            json_node_copy (json_object_get_member (from, "best_iteration")));
}

static const EpdScheduleKind search_kinds[] = {
  EPD_SCHEDULE_POLYNOMIAL, EPD_SCHEDULE_LOGSNR, EPD_SCHEDULE_TIME_UNIFORM,
};

/* The step-wise stages of the grid search. Each grid's run is independent of
 * the others, so they go to up to options->threads threads; the caller runs
 * its share with the progress callback (only ever called on its thread). */
typedef struct
{
  EpdDenoiser             *denoiser;
  const EpdDistillOptions *options;
  GCancellable            *cancellable;
  EpdTable                *tables[G_N_ELEMENTS (search_kinds)];
  GError                  *errors[G_N_ELEMENTS (search_kinds)];
  gint                     next;
} GridRuns;

static void
grid_runs_take (GridRuns               *runs,
                EpdDistillProgressFunc  progress,
                gpointer                user_data)
{
  gint i;

  while ((i = g_atomic_int_add (&runs->next, 1)) < (gint) G_N_ELEMENTS (search_kinds))
    {
      EpdDistillOptions c = *runs->options;

      c.search_schedule = FALSE;
      c.final_iterations = 0;
      c.teacher_train = c.teacher_val = NULL;
      epd_schedule_init (&c.schedule, search_kinds[i]);
      c.schedule.sigma_min = runs->options->schedule.sigma_min;
      c.schedule.sigma_max = runs->options->schedule.sigma_max;
      runs->tables[i] = distill_once (runs->denoiser, &c, progress, user_data, runs->cancellable,
                                      &runs->errors[i]);
    }
}

static gpointer
grid_worker (gpointer data)
{
  grid_runs_take (data, NULL, NULL);
  return NULL;
}

/* Threads for the grids: one each on a model of low dimension, whose
 * denoiser calls are too small to use two cores; one on a larger model,
 * whose calls spread over threads of their own. */
static guint
grid_threads (const EpdDistillOptions *options,
              EpdDenoiser             *denoiser)
{
  guint t = distill_threads (options->threads);

  if (epd_denoiser_get_dim (denoiser) > EPD_DISTILL_FINAL_AUTO_MAX_DIM)
    return 1;
  return CLAMP (t, 1, G_N_ELEMENTS (search_kinds));
}

/* The step-wise stage on every grid of search_kinds; returns the table with the
 * lowest validation error and records each grid's in tried. A cancel keeps the
 * best of the grids that finished. */
static EpdTable *
distill_search_grids (EpdDenoiser             *denoiser,
                      const EpdDistillOptions *options,
                      EpdDistillProgressFunc   progress,
                      gpointer                 user_data,
                      GCancellable            *cancellable,
                      JsonArray               *tried,
                      GError                 **error)
{
  GridRuns runs = { denoiser, options, cancellable, { NULL }, { NULL }, 0 };
  GThread *threads[G_N_ELEMENTS (search_kinds)] = { NULL };
  guint n_threads = grid_threads (options, denoiser);
  EpdTable *best = NULL;
  GError *failure = NULL;

  /* A thread that cannot start leaves its share to the others. */
  for (guint t = 1; t < n_threads; t++)
    threads[t] = g_thread_try_new ("epd-distill-grid", grid_worker, &runs, NULL);
  grid_runs_take (&runs, progress, user_data);
  for (guint t = 1; t < n_threads; t++)
    if (threads[t] != NULL)
      g_thread_join (threads[t]);
  /* In the grids' order, whoever ran them. */
  for (gsize i = 0; i < G_N_ELEMENTS (search_kinds); i++)
    {
      EpdTable *t = g_steal_pointer (&runs.tables[i]);
      JsonObject *entry;

      if (t == NULL)
        {
          /* The first failure, a real one before a cancel. */
          if (failure == NULL || (g_error_matches (failure, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
                                  !g_error_matches (runs.errors[i], G_IO_ERROR, G_IO_ERROR_CANCELLED)))
            {
              g_clear_error (&failure);
              failure = g_steal_pointer (&runs.errors[i]);
            }
          g_clear_error (&runs.errors[i]);
          continue;
        }
      entry = json_object_new ();
      json_object_set_string_member (entry, "schedule", epd_schedule_kind_to_string (search_kinds[i]));
      json_object_set_member (entry, "val_error",
                              json_node_copy (json_object_get_member (t->metadata, "val_error")));
      json_array_add_object_element (tried, entry);
      if (best == NULL || json_object_get_double_member (t->metadata, "val_error") <
                          json_object_get_double_member (best->metadata, "val_error"))
        {
          g_clear_pointer (&best, epd_table_free);
          best = g_steal_pointer (&t);
        }
      g_clear_pointer (&t, epd_table_free);
    }
  /* A grid that failed (not cancelled) fails the search; a cancel fails it
   * only when no grid finished. */
  if (failure != NULL && (best == NULL || !g_error_matches (failure, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      g_clear_pointer (&best, epd_table_free);
      g_propagate_error (error, failure);
      return NULL;
    }
  g_clear_error (&failure);
  return best;
}

/* search_schedule: the step-wise stage on each grid, then the final stage from
 * the best of them (on its grid). */
static EpdTable *
distill_with_search (EpdDenoiser             *denoiser,
                     const EpdDistillOptions *options,
                     EpdDistillProgressFunc   progress,
                     gpointer                 user_data,
                     GCancellable            *cancellable,
                     GError                 **error)
{
  gint64 start_us = g_get_monotonic_time ();
  JsonArray *tried = json_array_new ();
  g_autoptr(EpdTable) best = distill_search_grids (denoiser, options, progress, user_data,
                                                   cancellable, tried, error);
  EpdDistillOptions c = *options;
  EpdTable *table;

  if (best == NULL || g_cancellable_is_cancelled (cancellable) ||
      epd_distill_final_iterations (options, epd_denoiser_get_dim (denoiser)) == 0)
    {
      if (best != NULL)
        json_object_set_array_member (best->metadata, "schedule_search", tried);
      else
        json_array_unref (tried);
      return g_steal_pointer (&best);
    }
  c.search_schedule = FALSE;
  c.schedule = best->schedule;
  c.init = best;
  c.iterations = 0;
  c.teacher_train = c.teacher_val = NULL;
  table = distill_once (denoiser, &c, progress, user_data, cancellable, error);
  if (table == NULL)
    {
      json_array_unref (tried);
      return NULL;
    }
  copy_stepwise_metadata (table->metadata, best->metadata);
  json_object_set_array_member (table->metadata, "schedule_search", tried);
  /* The whole run, every grid included. */
  json_object_set_double_member (table->metadata, "wall_time_s", (g_get_monotonic_time () - start_us) / 1e6);
  return table;
}

EpdTable *
epd_distill_run (EpdDenoiser             *denoiser,
                 const EpdDistillOptions *options,
                 EpdDistillProgressFunc   progress,
                 gpointer                 user_data,
                 GCancellable            *cancellable,
                 GError                 **error)
{
  g_return_val_if_fail (EPD_IS_DENOISER (denoiser), NULL);
  if (!epd_distill_options_validate (options, error))
    return NULL;
  if (options->search_schedule)
    return distill_with_search (denoiser, options, progress, user_data, cancellable, error);
  return distill_once (denoiser, options, progress, user_data, cancellable, error);
}

static void
distill_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  EpdDistillOptions *o = task_data;
  EpdDistillProgressFunc progress = g_object_get_data (G_OBJECT (task), "epd-progress");
  gpointer user_data = g_object_get_data (G_OBJECT (task), "epd-progress-data");
  GError *error = NULL;
  EpdTable *table = epd_distill_run (EPD_DENOISER (source), o, progress, user_data,
                                     cancellable, &error);

  if (table == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, table, (GDestroyNotify) epd_table_free);
}

void
epd_distill_run_async (EpdDenoiser             *denoiser,
                       const EpdDistillOptions *options,
                       EpdDistillProgressFunc   progress,
                       gpointer                 user_data,
                       GCancellable            *cancellable,
                       GAsyncReadyCallback      callback,
                       gpointer                 callback_data)
{
  g_autoptr(GTask) task = g_task_new (denoiser, cancellable, callback, callback_data);

  g_task_set_source_tag (task, epd_distill_run_async);
  /* A cancelled run still returns its best table. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, epd_distill_options_copy (options),
                        (GDestroyNotify) epd_distill_options_free);
  g_object_set_data (G_OBJECT (task), "epd-progress", progress);
  g_object_set_data (G_OBJECT (task), "epd-progress-data", user_data);
  g_task_run_in_thread (task, distill_thread);
}

EpdTable *
epd_distill_run_finish (GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
