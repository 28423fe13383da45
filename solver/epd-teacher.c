/* SPDX-License-Identifier: MIT */
/* epd-teacher.c: the reference solution. Dormand-Prince 5(4) with FSAL in
 * u = log t, where the ODE is dx/du = x - D(x, e^u): smooth and well scaled
 * over the whole range of t. The step size adapts to the worst sample of the
 * batch (all rows share the steps, so every stage is one batched call), and
 * every interval of the grid ends exactly on its grid time, where the trace
 * records the teacher's state. */
#include "epd-solver-private.h"

#include <math.h>
#include <string.h>

#define DP_STAGES 7
#define MAX_TEACHER_STEPS 200000

static const double dp_c[DP_STAGES] = { 0.0, 1.0 / 5, 3.0 / 10, 4.0 / 5, 8.0 / 9, 1.0, 1.0 };
static const double dp_a[DP_STAGES][DP_STAGES - 1] = {
  { 0 },
  { 1.0 / 5 },
  { 3.0 / 40, 9.0 / 40 },
  { 44.0 / 45, -56.0 / 15, 32.0 / 9 },
  { 19372.0 / 6561, -25360.0 / 2187, 64448.0 / 6561, -212.0 / 729 },
  { 9017.0 / 3168, -355.0 / 33, 46732.0 / 5247, 49.0 / 176, -5103.0 / 18656 },
  { 35.0 / 384, 0.0, 500.0 / 1113, 125.0 / 192, -2187.0 / 6784, 11.0 / 84 },
};
/* 5th-order weights minus the embedded 4th-order ones. */
static const double dp_e[DP_STAGES] = {
  71.0 / 57600, 0.0, -71.0 / 16695, 71.0 / 1920, -17253.0 / 339200, 22.0 / 525, -1.0 / 40
};

typedef struct
{
  EpdSolveContext *ctx;
  double          *k[DP_STAGES];   /* stage derivatives, [n] each */
  double          *x_stage;
  double          *x_new;
  double          *den;
  guint            n_steps;
} Teacher;

/* k = x - D(x, e^u). */
static gboolean
teacher_rhs (Teacher       *self,
             const double  *x,
             double         u,
             double        *k,
             GError       **error)
{
  EpdSolveContext *ctx = self->ctx;

  if (!epd_solve_context_denoise (ctx, x, exp (u), self->den, error))
    return FALSE;
  for (gsize i = 0; i < ctx->n; i++)
    k[i] = x[i] - self->den[i];
  return TRUE;
}

/* One trial step of size h from (x, u), with k[0] = f(x, u) known. Leaves the
 * candidate in x_new, its derivative in k[6], and returns the error norm:
 * the largest per-row RMS of the error scaled by atol + rtol |x|. */
static gboolean
teacher_try (Teacher       *self,
             const double  *x,
             double         u,
             double         h,
             double        *err,
             GError       **error)
{
  EpdSolveContext *ctx = self->ctx;
  double rtol = ctx->options->teacher_rtol, atol = rtol;

  for (guint s = 1; s < DP_STAGES; s++)
    {
      double *dst = s == DP_STAGES - 1 ? self->x_new : self->x_stage;

      for (gsize i = 0; i < ctx->n; i++)
        {
          double acc = 0.0;

          for (guint j = 0; j < s; j++)
            acc += dp_a[s][j] * self->k[j][i];
          dst[i] = x[i] + h * acc;
        }
      if (!teacher_rhs (self, dst, u + dp_c[s] * h, self->k[s], error))
        return FALSE;
    }
  *err = 0.0;
  for (gsize b = 0; b < ctx->batch; b++)
    {
      double sum = 0.0;

      for (guint j = 0; j < ctx->dim; j++)
        {
          gsize i = b * ctx->dim + j;
          double e = 0.0;

          for (guint s = 0; s < DP_STAGES; s++)
            e += dp_e[s] * self->k[s][i];
          e *= h / (atol + rtol * MAX (fabs (x[i]), fabs (self->x_new[i])));
          sum += e * e;
        }
      *err = MAX (*err, sqrt (sum / ctx->dim));
    }
  return TRUE;
}

/* Integrates x from u0 to u1 (< u0), h carrying the step size across calls. */
static gboolean
teacher_interval (Teacher       *self,
                  double        *x,
                  double         u0,
                  double         u1,
                  double        *h,
                  GError       **error)
{
  EpdSolveContext *ctx = self->ctx;
  double u = u0;

  while (u > u1)
    {
      double step = MAX (*h, u1 - u);   /* both negative: never past u1 */
      gboolean last = step == u1 - u;
      double err;

      if (++self->n_steps > MAX_TEACHER_STEPS || !epd_solve_context_check (ctx, error))
        {
          if (self->n_steps > MAX_TEACHER_STEPS)
            g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                         "the teacher needed more than %d steps (tolerance %g too tight?)",
                         MAX_TEACHER_STEPS, ctx->options->teacher_rtol);
          return FALSE;
        }
      if (!teacher_try (self, x, u, step, &err, error))
        return FALSE;
      if (!isfinite (err))
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                       "the teacher diverged at t = %g", exp (u));
          return FALSE;
        }
      if (err <= 1.0)
        {
          u = last ? u1 : u + step;
          memcpy (x, self->x_new, ctx->n * sizeof (double));
          memcpy (self->k[0], self->k[DP_STAGES - 1], ctx->n * sizeof (double));
        }
      /* The standard controller; a clipped last step does not shrink h. */
      if (!(last && err <= 1.0))
        *h = step * CLAMP (0.9 * pow (MAX (err, 1e-10), -0.2), 0.2, 5.0);
    }
  return TRUE;
}

static void
teacher_record (Teacher      *self,
                guint         step,
                const double *x)
{
  EpdSolveContext *ctx = self->ctx;
  double t = ctx->grid[step];
  g_autofree double *den = g_new (double, ctx->n);
  g_autofree double *dir = g_new (double, ctx->n);
  EpdTraceStep *ts;

  /* k[0] = x - D at the grid time: no extra evaluation. */
  for (gsize i = 0; i < ctx->n; i++)
    {
      den[i] = x[i] - self->k[0][i];
      dir[i] = self->k[0][i] / t;
    }
  ts = epd_trace_add_step (ctx->trace, ctx->batch, ctx->dim, t, ctx->grid[step + 1], x);
  epd_trace_step_set_denoised (ts, ctx->n, den, dir);
}

gboolean
epd_teacher_run (EpdSolveContext *ctx,
                 double          *x,
                 GError         **error)
{
  Teacher self = { .ctx = ctx };
  double h = log (ctx->grid[1]) - log (ctx->grid[0]);
  gboolean ok;

  for (guint s = 0; s < DP_STAGES; s++)
    self.k[s] = g_new (double, ctx->n);
  self.x_stage = g_new (double, ctx->n);
  self.x_new = g_new (double, ctx->n);
  self.den = g_new (double, ctx->n);

  ok = teacher_rhs (&self, x, log (ctx->grid[0]), self.k[0], error);
  for (guint step = 0; ok && step < ctx->steps; step++)
    {
      if (ctx->trace != NULL)
        teacher_record (&self, step, x);
      ok = teacher_interval (&self, x, log (ctx->grid[step]), log (ctx->grid[step + 1]), &h, error);
    }

  for (guint s = 0; s < DP_STAGES; s++)
    g_free (self.k[s]);
  g_free (self.x_stage);
  g_free (self.x_new);
  g_free (self.den);
  return ok;
}
