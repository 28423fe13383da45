/* SPDX-License-Identifier: MIT */
/* epd-solver.c: options, NFE accounting, validation and the step loop of
 * every fixed-grid solver. Each step starts with the Euler direction
 * d = (x - D(x, t_n)) / t_n (or AFS d = x / sqrt(1 + t_n^2) on the first step,
 * in the solver's own time variable); the solvers differ in what they do
 * with it. */
#include "epd-solver-private.h"
#include "epd-flowmatch.h"
#include "epd-numeric.h"

#include <math.h>
#include <string.h>

static const char *const solver_names[] = {
  [EPD_SOLVER_EULER] = "euler",
  [EPD_SOLVER_HEUN] = "heun",
  [EPD_SOLVER_DPM2] = "dpm2",
  [EPD_SOLVER_DPMPP2M] = "dpmpp2m",
  [EPD_SOLVER_DPMPP3M] = "dpmpp3m",
  [EPD_SOLVER_IPNDM] = "ipndm",
  [EPD_SOLVER_EPD] = "epd",
  [EPD_SOLVER_EPD_PLUGIN] = "epd-plugin",
  [EPD_SOLVER_TEACHER] = "teacher",
};

#define MAX_STEPS 100000

/* Per-solve memory of the multistep solvers: newest first. */
typedef struct
{
  double *dir[EPD_IPNDM_MAX_ORDER - 1];  /* past Euler directions (iPNDM, plug-in) */
  guint   n_dir;
  double *den[2];                        /* past denoised outputs (DPM-Solver++) */
  double  den_t[2];
  guint   n_den;
} EpdHistory;

void
epd_solve_options_init (EpdSolveOptions *self)
{
  g_return_if_fail (self != NULL);
  memset (self, 0, sizeof *self);
  self->solver = EPD_SOLVER_EPD;
  self->steps = 4;
  epd_schedule_init (&self->schedule, EPD_SCHEDULE_POLYNOMIAL);
  self->max_order = 4;
  self->teacher_rtol = 1e-8;
}

const char *
epd_solver_kind_to_string (EpdSolverKind kind)
{
  if ((guint) kind >= G_N_ELEMENTS (solver_names))
    return "unknown";
  return solver_names[kind];
}

gboolean
epd_solver_kind_from_string (const char     *name,
                             EpdSolverKind  *kind,
                             GError        **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (solver_names); i++)
    if (g_strcmp0 (name, solver_names[i]) == 0)
      {
        *kind = (EpdSolverKind) i;
        return TRUE;
      }
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "unknown solver '%s' (expected euler, heun, dpm2, dpmpp2m, dpmpp3m, ipndm, "
               "epd, epd-plugin or teacher)", name ? name : "(null)");
  return FALSE;
}

static gboolean
solver_is_epd (EpdSolverKind kind)
{
  return kind == EPD_SOLVER_EPD || kind == EPD_SOLVER_EPD_PLUGIN;
}

EpdNfe
epd_solve_options_nfe (const EpdSolveOptions *self)
{
  EpdNfe nfe = { 0, 0 };
  guint latency = 1, total = 1;

  switch (self->solver)
    {
    case EPD_SOLVER_HEUN:
    case EPD_SOLVER_DPM2:
      latency = total = 2;
      break;
    case EPD_SOLVER_EPD:
    case EPD_SOLVER_EPD_PLUGIN:
      latency = 2;
      total = 1 + (self->table ? self->table->n_points : 0);
      break;
    case EPD_SOLVER_TEACHER:
      /* Adaptive: known only after the solve. */
      return nfe;
    default:
      break;
    }
  nfe.latency = latency * self->steps;
  nfe.total = total * self->steps;
  if (self->afs && self->steps > 0)
    {
      nfe.latency--;
      nfe.total--;
    }
  return nfe;
}

void
epd_solve_init_from_noise (const EpdSolveOptions *self,
                           const double          *z,
                           gsize                  n,
                           double                *x_init)
{
  double t_max = epd_schedule_time_from_sigma (&self->schedule, self->schedule.sigma_max);

  for (gsize i = 0; i < n; i++)
    x_init[i] = t_max * z[i];
}

/* ---- validation ---- */

static gboolean
validate_table (const EpdSolveOptions  *o,
                GError                **error)
{
  if (o->table == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "solver %s needs a coefficient table", epd_solver_kind_to_string (o->solver));
      return FALSE;
    }
  if (!epd_table_validate (o->table, error))
    return FALSE;
  if (o->table->steps != o->steps)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "the table has %u steps (%u grid points) but the solve asks for %u steps",
                   o->table->steps, o->table->steps + 1, o->steps);
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_options (const EpdSolveOptions  *o,
                  GError                **error)
{
  if ((guint) o->solver >= EPD_N_SOLVERS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "unknown solver kind %d", o->solver);
      return FALSE;
    }
  if (o->steps == 0 || o->steps > MAX_STEPS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "steps must be between 1 and %d (got %u)", MAX_STEPS, o->steps);
      return FALSE;
    }
  if ((o->solver == EPD_SOLVER_IPNDM || o->solver == EPD_SOLVER_EPD_PLUGIN) &&
      (o->max_order < 1 || o->max_order > EPD_IPNDM_MAX_ORDER))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "max-order must be between 1 and %d (got %u)", EPD_IPNDM_MAX_ORDER, o->max_order);
      return FALSE;
    }
  if (o->solver == EPD_SOLVER_TEACHER &&
      !(isfinite (o->teacher_rtol) && o->teacher_rtol > 0.0 && o->teacher_rtol < 1.0))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "teacher tolerance must be in (0, 1) (got %g)", o->teacher_rtol);
      return FALSE;
    }
  if (!epd_schedule_validate (&o->schedule, error))
    return FALSE;
  return !solver_is_epd (o->solver) || validate_table (o, error);
}

static gboolean
validate_input (const double  *x,
                gsize          batch,
                guint          dim,
                GError       **error)
{
  if (batch == 0 || dim == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "nothing to solve: batch %" G_GSIZE_FORMAT ", dimension %u", batch, dim);
      return FALSE;
    }
  gssize bad = epd_first_non_finite (x, batch * dim);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "the initial state has a non-finite value %g at row %" G_GSIZE_FORMAT
                   ", column %u", x[i], i / dim, (guint) (i % dim));
      return FALSE;
    }
  return TRUE;
}

/* ---- the context ---- */

gboolean
epd_solve_context_denoise (EpdSolveContext *ctx,
                           const double    *x,
                           double           t,
                           double          *denoised,
                           GError         **error)
{
  for (gsize b = 0; b < ctx->batch; b++)
    ctx->sigma[b] = t;
  if (!epd_denoiser_denoise (ctx->denoiser, x, ctx->sigma, ctx->batch, denoised, error))
    return FALSE;
  ctx->nfe.latency++;
  ctx->nfe.total++;
  return TRUE;
}

gboolean
epd_solve_context_direction (EpdSolveContext *ctx,
                             const double    *x,
                             double           t,
                             double          *denoised,
                             double          *dir,
                             GError         **error)
{
  double *den = denoised ? denoised : dir;

  if (!epd_solve_context_denoise (ctx, x, t, den, error))
    return FALSE;
  for (gsize i = 0; i < ctx->n; i++)
    dir[i] = (x[i] - den[i]) / t;
  return TRUE;
}

gboolean
epd_solve_context_check (EpdSolveContext *ctx,
                         GError         **error)
{
  return !g_cancellable_set_error_if_cancelled (ctx->cancellable, error);
}

/* ---- single steps, each from x at grid[i] with its Euler direction d ---- */

static void
axpy_into (gsize         n,
           const double *x,
           double        h,
           const double *d,
           double       *out)
{
  for (gsize i = 0; i < n; i++)
    out[i] = x[i] + h * d[i];
}

static gboolean
step_heun (EpdSolveContext  *ctx,
           double           *x,
           const double     *d,
           double            t0,
           double            t1,
           GError          **error)
{
  g_autofree double *xe = g_new (double, ctx->n);
  g_autofree double *d1 = g_new (double, ctx->n);

  axpy_into (ctx->n, x, t1 - t0, d, xe);
  if (!epd_solve_context_direction (ctx, xe, t1, NULL, d1, error))
    return FALSE;
  for (gsize i = 0; i < ctx->n; i++)
    x[i] += (t1 - t0) * 0.5 * (d[i] + d1[i]);
  return TRUE;
}

/* DPM-Solver-2 in this form: the midpoint in log t. */
static gboolean
step_dpm2 (EpdSolveContext  *ctx,
           double           *x,
           const double     *d,
           double            t0,
           double            t1,
           GError          **error)
{
  double tm = sqrt (t0 * t1);
  g_autofree double *xm = g_new (double, ctx->n);
  g_autofree double *dm = g_new (double, ctx->n);

  axpy_into (ctx->n, x, tm - t0, d, xm);
  if (!epd_solve_context_direction (ctx, xm, tm, NULL, dm, error))
    return FALSE;
  axpy_into (ctx->n, x, t1 - t0, dm, x);
  return TRUE;
}

/* DPM-Solver++ (data prediction, lambda = -log t) of order 1..3 from the
 * current denoised output den0 at t0 and the history. */
static void
step_dpmpp (EpdSolveContext  *ctx,
            const EpdHistory *hist,
            guint             order,
            double           *x,
            const double     *den0,
            double            t0,
            double            t1)
{
  double h = log (t0) - log (t1);
  double phi1 = expm1 (-h);
  double phi2 = phi1 / h + 1.0;
  double phi3 = phi2 / h - 0.5;
  double r0 = 0.0, r1 = 0.0;

  if (order >= 2)
    r0 = (log (hist->den_t[0]) - log (t0)) / h;
  if (order >= 3)
    r1 = (log (hist->den_t[1]) - log (hist->den_t[0])) / h;
  for (gsize i = 0; i < ctx->n; i++)
    {
      double lin = (t1 / t0) * x[i] - phi1 * den0[i];

      if (order == 2)
        lin -= 0.5 * phi1 * (den0[i] - hist->den[0][i]) / r0;
      else if (order == 3)
        {
          double d10 = (den0[i] - hist->den[0][i]) / r0;
          double d11 = (hist->den[0][i] - hist->den[1][i]) / r1;
          double dd1 = d10 + r0 / (r0 + r1) * (d10 - d11);
          double dd2 = (d10 - d11) / (r0 + r1);

          lin += phi2 * dd1 - phi3 * dd2;
        }
      x[i] = lin;
    }
}

static void
history_push (double  **slots,
              guint    *count,
              guint     capacity,
              gsize     n,
              const double *v)
{
  double *oldest;

  if (capacity == 0)
    return;
  oldest = *count == capacity ? slots[capacity - 1] : g_new (double, n);
  memmove (slots + 1, slots, (capacity - 1) * sizeof (double *));
  slots[0] = oldest;
  memcpy (oldest, v, n * sizeof (double));
  *count = MIN (*count + 1, capacity);
}

static void
history_clear (EpdHistory *hist)
{
  for (guint j = 0; j < G_N_ELEMENTS (hist->dir); j++)
    g_clear_pointer (&hist->dir[j], g_free);
  for (guint j = 0; j < G_N_ELEMENTS (hist->den); j++)
    g_clear_pointer (&hist->den[j], g_free);
}

static void
push_denoised (EpdHistory   *hist,
               gsize         n,
               const double *den,
               double        t)
{
  hist->den_t[1] = hist->den_t[0];
  hist->den_t[0] = t;
  history_push (hist->den, &hist->n_den, 2, n, den);
}

static void
record_points (EpdSolveContext *ctx,
               EpdTraceStep    *ts,
               const EpdEpdRow *row,
               double           t0,
               double           t1,
               const double    *px,
               const double    *pd)
{
  g_autofree double *pt = g_new (double, row->n_points);
  g_autofree double *pw = g_new (double, row->n_points);

  for (guint k = 0; k < row->n_points; k++)
    {
      pt[k] = (row->scale_time ? row->scale_time[k] : 1.0) * epd_epd_point_time (t0, t1, row->r[k]);
      pw[k] = row->weight[k] * (row->scale_dir ? row->scale_dir[k] : 1.0);
    }
  epd_trace_step_set_points (ts, row->n_points, ctx->n, pt, pw, px, pd);
}

/* EPD, or the plug-in when pred differs from d. One batched call. */
static gboolean
step_epd (EpdSolveContext  *ctx,
          guint             step,
          EpdTraceStep     *ts,
          double           *x,
          const double     *pred,
          GError          **error)
{
  double t0 = ctx->grid[step], t1 = ctx->grid[step + 1];
  EpdEpdRow row;
  g_autofree double *px = NULL;
  g_autofree double *pd = NULL;

  epd_epd_row_from_table (&row, ctx->options->table, step);
  if (ts != NULL)
    {
      px = g_new (double, row.n_points * ctx->n);
      pd = g_new (double, row.n_points * ctx->n);
    }
  if (!epd_epd_step (ctx->denoiser, ctx->dim, ctx->batch, t0, t1, &row, x, pred, x, px, pd, error))
    return FALSE;
  ctx->nfe.latency++;
  ctx->nfe.total += row.n_points;
  if (ts != NULL)
    record_points (ctx, ts, &row, t0, t1, px, pd);
  return TRUE;
}

/* The Euler direction at the start of a step: AFS on step 0 when asked. */
static gboolean
step_start (EpdSolveContext  *ctx,
            guint             step,
            const double     *x,
            double           *den,
            double           *d,
            gboolean         *evaluated,
            GError          **error)
{
  double t = ctx->grid[step];

  *evaluated = !(ctx->options->afs && step == 0);
  if (*evaluated)
    return epd_solve_context_direction (ctx, x, t, den, d, error);
  for (gsize i = 0; i < ctx->n; i++)
    {
      d[i] = x[i] / sqrt (1.0 + t * t);
      den[i] = x[i] - t * d[i];
    }
  return TRUE;
}

static gboolean
step_update (EpdSolveContext  *ctx,
             EpdHistory       *hist,
             guint             step,
             EpdTraceStep     *ts,
             double           *x,
             const double     *den,
             const double     *d,
             GError          **error)
{
  const EpdSolveOptions *o = ctx->options;
  double t0 = ctx->grid[step], t1 = ctx->grid[step + 1];
  g_autofree double *pred = NULL;
  guint order;

  switch (o->solver)
    {
    case EPD_SOLVER_EULER:
      axpy_into (ctx->n, x, t1 - t0, d, x);
      return TRUE;
    case EPD_SOLVER_HEUN:
      return step_heun (ctx, x, d, t0, t1, error);
    case EPD_SOLVER_DPM2:
      return step_dpm2 (ctx, x, d, t0, t1, error);
    case EPD_SOLVER_DPMPP2M:
    case EPD_SOLVER_DPMPP3M:
      order = MIN (o->solver == EPD_SOLVER_DPMPP2M ? 2u : 3u, hist->n_den + 1);
      step_dpmpp (ctx, hist, order, x, den, t0, t1);
      push_denoised (hist, ctx->n, den, t0);
      return TRUE;
    case EPD_SOLVER_EPD:
      return step_epd (ctx, step, ts, x, d, error);
    case EPD_SOLVER_IPNDM:
    case EPD_SOLVER_EPD_PLUGIN:
    default:
      pred = g_new (double, ctx->n);
      order = epd_ipndm_order (o->max_order, hist->n_dir);
      epd_ipndm_direction (order, d, (const double *const *) hist->dir, ctx->n, pred);
      history_push (hist->dir, &hist->n_dir, o->max_order - 1, ctx->n, d);
      if (o->solver == EPD_SOLVER_IPNDM)
        {
          axpy_into (ctx->n, x, t1 - t0, pred, x);
          return TRUE;
        }
      return step_epd (ctx, step, ts, x, pred, error);
    }
}

static gboolean
check_finite (EpdSolveContext  *ctx,
              const double     *x,
              guint             step,
              GError          **error)
{
  gssize bad = epd_first_non_finite (x, ctx->n);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "the %s solve diverged: non-finite state after step %u (t = %g), row %"
                   G_GSIZE_FORMAT, epd_solver_kind_to_string (ctx->options->solver),
                   step, ctx->grid[step + 1], i / ctx->dim);
      return FALSE;
    }
  return TRUE;
}

static gboolean
run_fixed_grid (EpdSolveContext  *ctx,
                double           *x,
                GError          **error)
{
  EpdHistory hist = { 0 };
  g_autofree double *den = g_new (double, ctx->n);
  g_autofree double *d = g_new (double, ctx->n);
  gboolean ok = TRUE;

  for (guint step = 0; ok && step < ctx->steps; step++)
    {
      EpdTraceStep *ts = NULL;
      gboolean evaluated;

      ok = epd_solve_context_check (ctx, error) &&
           step_start (ctx, step, x, den, d, &evaluated, error);
      if (ok && ctx->trace != NULL)
        {
          ts = epd_trace_add_step (ctx->trace, ctx->batch, ctx->dim,
                                   ctx->grid[step], ctx->grid[step + 1], x);
          epd_trace_step_set_denoised (ts, ctx->n, evaluated ? den : NULL, d);
        }
      ok = ok && step_update (ctx, &hist, step, ts, x, den, d, error) &&
           check_finite (ctx, x, step, error);
    }
  history_clear (&hist);
  return ok;
}

gboolean
epd_solve (EpdDenoiser           *denoiser,
           const EpdSolveOptions *options,
           const double          *x_init,
           gsize                  batch,
           double                *x_out,
           EpdTrace              *trace,
           EpdNfe                *nfe,
           GCancellable          *cancellable,
           GError               **error)
{
  EpdSolveContext ctx = { 0 };
  g_autofree double *grid = NULL;
  g_autofree double *sigma = NULL;
  g_autoptr(EpdDenoiser) view = NULL;
  gboolean ok;

  g_return_val_if_fail (EPD_IS_DENOISER (denoiser), FALSE);
  g_return_val_if_fail (options != NULL && x_init != NULL && x_out != NULL, FALSE);

  ctx.dim = epd_denoiser_get_dim (denoiser);
  if (!validate_options (options, error) || !validate_input (x_init, batch, ctx.dim, error))
    return FALSE;
  grid = epd_schedule_grid (&options->schedule, options->steps, error);
  if (grid == NULL)
    return FALSE;
  view = epd_schedule_is_flow (&options->schedule) ? epd_flow_denoiser_new (denoiser)
                                                   : g_object_ref (denoiser);
  sigma = g_new (double, batch);
  ctx = (EpdSolveContext) { .denoiser = view, .options = options, .batch = batch,
                            .dim = ctx.dim, .n = batch * ctx.dim, .grid = grid,
                            .steps = options->steps, .trace = trace,
                            .cancellable = cancellable, .sigma = sigma };
  if (trace != NULL)
    {
      epd_trace_clear (trace);
      trace->flow_time = epd_schedule_is_flow (&options->schedule);
    }
  memmove (x_out, x_init, ctx.n * sizeof (double));
  /* Denoisers that wait on a device honour it (their interface has no
   * cancellable parameter). */
  if (cancellable != NULL)
    g_cancellable_push_current (cancellable);
  if (options->solver == EPD_SOLVER_TEACHER)
    ok = epd_teacher_run (&ctx, x_out, error);
  else
    ok = run_fixed_grid (&ctx, x_out, error);
  if (cancellable != NULL)
    g_cancellable_pop_current (cancellable);
  if (ok && trace != NULL)
    epd_trace_set_final (trace, x_out);
  if (nfe != NULL)
    *nfe = ctx.nfe;
  return ok;
}
