/* SPDX-License-Identifier: MIT */
/* epd-schedule.c: the five time grids.
 *
 * polynomial   EDM: (smax^(1/rho) + i/N (smin^(1/rho) - smax^(1/rho)))^rho.
 * logsnr       uniform in log sigma.
 * time-uniform VP: t uniform from 1 down to eps_s = 1e-3, sigma(t) =
 *              sqrt(exp(beta_d t^2/2 + beta_min t) - 1). The defaults are the
 *              standard VP (beta_d 19.9, beta_min 0.1), i.e. sigma from 0.0105 to
 *              152; other end points refit beta_d and beta_min so the curve passes
 *              through them (as the reference does), instead of clipping the grid,
 *              which would repeat times.
 * discrete     Stable Diffusion 1.5: 1000 scaled-linear betas; log alpha is
 *              piecewise linear in the continuous time t = (k+1)/1000 of training
 *              step k, and the grid is uniform in t from sigma_inv(sigma_max)
 *              down to sigma_inv(sigma_min) (the reference's rho = 1 path).
 *              Defaults: steps 999 and 0, sigma 14.61 to 0.0292.
 * flowmatch    diffusers' FlowMatchEulerDiscreteScheduler as the reference uses
 *              it: u uniform from u(t_max) to u(t_min), t = shift u / (1 + (shift-1) u),
 *              sigma = t/(1-t). sigma_max may be +inf (t = 1). */
#include "epd-schedule.h"

#include <math.h>
#include <string.h>

#define VP_EPS_S      1e-3
#define VP_BETA_D     19.9
#define VP_BETA_MIN   0.1
#define SD_TRAIN_STEPS 1000
#define SD_BETA_START 0.00085
#define SD_BETA_END   0.012
/* diffusers' 1000 training steps: the last flow time before shifting. */
#define FLOW_TRAIN_STEPS 1000.0
/* FLUX.1-dev at 1024x1024: mu = max_shift = 1.15 for 4096 image tokens. */
#define FLUX_MU_1024  1.15

static const char *const kind_names[] = {
  [EPD_SCHEDULE_POLYNOMIAL] = "polynomial",
  [EPD_SCHEDULE_LOGSNR] = "logsnr",
  [EPD_SCHEDULE_TIME_UNIFORM] = "time-uniform",
  [EPD_SCHEDULE_DISCRETE] = "discrete",
  [EPD_SCHEDULE_FLOWMATCH] = "flowmatch",
};

/* ---- VP ---- */

static double
vp_sigma (double beta_d,
          double beta_min,
          double t)
{
  return sqrt (expm1 (0.5 * beta_d * t * t + beta_min * t));
}

/* beta_d and beta_min of the VP curve through (eps_s, smin) and (1, smax). */
static void
vp_fit (double  smin,
        double  smax,
        double *beta_d,
        double *beta_min)
{
  double a = log1p (smax * smax);
  double b = log1p (smin * smin);

  *beta_d = 2.0 * (b / VP_EPS_S - a) / (VP_EPS_S - 1.0);
  *beta_min = a - 0.5 * *beta_d;
}

/* ---- SD 1.5 discrete ---- */

/* 0.5 log(alphas_cumprod[k]) at t = (k+1)/1000. */
static const double *
sd_log_alpha (void)
{
  static double log_alpha[SD_TRAIN_STEPS];
  static gsize done;

  if (g_once_init_enter (&done))
    {
      double lo = sqrt (SD_BETA_START), hi = sqrt (SD_BETA_END);
      double acc = 0.0;

      for (guint k = 0; k < SD_TRAIN_STEPS; k++)
        {
          double s = lo + (hi - lo) * k / (SD_TRAIN_STEPS - 1);

          acc += log1p (-s * s);
          log_alpha[k] = 0.5 * acc;
        }
      g_once_init_leave (&done, 1);
    }
  return log_alpha;
}

/* Piecewise linear log alpha(t), extended by the outer segments. */
static double
sd_log_alpha_at (double t)
{
  const double *la = sd_log_alpha ();
  double pos = t * SD_TRAIN_STEPS - 1.0;
  /* Clamped before the cast: a NaN or huge pos would not fit an int. */
  int k = isnan (pos) ? 0 : (int) CLAMP (floor (pos), 0.0, SD_TRAIN_STEPS - 2.0);

  return la[k] + (pos - k) * (la[k + 1] - la[k]);
}

static double
sd_sigma (double t)
{
  double x = -2.0 * sd_log_alpha_at (t);

  /* Past sigma ~ 1e150, expm1 overflows; sqrt(e^x - 1) = e^(x/2) sqrt(1 - e^-x). */
  return x > 690.0 ? exp (0.5 * x) * sqrt (-expm1 (-x)) : sqrt (expm1 (x));
}

/* The inverse of sd_sigma: log alpha is strictly decreasing in t. */
static double
sd_sigma_inv (double sigma)
{
  const double *la = sd_log_alpha ();
  /* log1p (sigma^2) / 2 without overflowing sigma^2. */
  double target = sigma > 1e150 ? -(log (sigma) + 0.5 * log1p (1.0 / (sigma * sigma)))
                                : -0.5 * log1p (sigma * sigma);
  int k = 0;

  while (k < SD_TRAIN_STEPS - 2 && la[k + 1] > target)
    k++;
  return (k + 1 + (target - la[k]) / (la[k + 1] - la[k])) / SD_TRAIN_STEPS;
}

/* ---- flow matching ---- */

static double
flow_shift (double shift,
            double u)
{
  return shift * u / (1.0 + (shift - 1.0) * u);
}

static double
flow_unshift (double shift,
              double t)
{
  return t / (shift - (shift - 1.0) * t);
}

/* ---- public ---- */

void
epd_schedule_init (EpdSchedule     *self,
                   EpdScheduleKind  kind)
{
  g_return_if_fail (self != NULL);

  self->kind = kind;
  self->sigma_min = 0.002;
  self->sigma_max = 80.0;
  self->rho = 7.0;
  self->shift = 1.0;
  switch (kind)
    {
    case EPD_SCHEDULE_TIME_UNIFORM:
      self->sigma_min = vp_sigma (VP_BETA_D, VP_BETA_MIN, VP_EPS_S);
      self->sigma_max = vp_sigma (VP_BETA_D, VP_BETA_MIN, 1.0);
      break;
    case EPD_SCHEDULE_DISCRETE:
      self->sigma_min = sd_sigma (1.0 / SD_TRAIN_STEPS);
      self->sigma_max = sd_sigma (1.0);
      break;
    case EPD_SCHEDULE_FLOWMATCH:
      epd_schedule_init_flowmatch_preset (self, "sd3", NULL);
      break;
    case EPD_SCHEDULE_POLYNOMIAL:
    case EPD_SCHEDULE_LOGSNR:
    default:
      break;
    }
}

gboolean
epd_schedule_init_flowmatch_preset (EpdSchedule  *self,
                                    const char   *name,
                                    GError      **error)
{
  double u_last = 1.0 / FLOW_TRAIN_STEPS;
  double t_min;

  self->kind = EPD_SCHEDULE_FLOWMATCH;
  self->rho = 7.0;
  if (g_strcmp0 (name, "sd3") == 0)
    {
      /* SD3's scheduler shifts its own end point once at init, then again
       * in set_timesteps. */
      self->shift = 3.0;
      t_min = flow_shift (self->shift, flow_shift (self->shift, u_last));
    }
  else if (g_strcmp0 (name, "flux") == 0)
    {
      /* Dynamic shifting: exp(mu) / (exp(mu) + 1/u - 1) is the shift exp(mu). */
      self->shift = exp (FLUX_MU_1024);
      t_min = flow_shift (self->shift, u_last);
    }
  else
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "unknown flow-matching preset '%s' (expected sd3 or flux)",
                   name ? name : "(null)");
      return FALSE;
    }
  self->sigma_max = INFINITY;
  self->sigma_min = t_min / (1.0 - t_min);
  return TRUE;
}

const char *
epd_schedule_kind_to_string (EpdScheduleKind kind)
{
  if ((guint) kind >= G_N_ELEMENTS (kind_names))
    return "unknown";
  return kind_names[kind];
}

gboolean
epd_schedule_kind_from_string (const char       *name,
                               EpdScheduleKind  *kind,
                               GError          **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (kind_names); i++)
    if (g_strcmp0 (name, kind_names[i]) == 0)
      {
        *kind = (EpdScheduleKind) i;
        return TRUE;
      }
  /* The reference's spelling. */
  if (g_strcmp0 (name, "time_uniform") == 0)
    {
      *kind = EPD_SCHEDULE_TIME_UNIFORM;
      return TRUE;
    }
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "unknown schedule '%s' (expected polynomial, logsnr, time-uniform, discrete or flowmatch)",
               name ? name : "(null)");
  return FALSE;
}

gboolean
epd_schedule_is_flow (const EpdSchedule *self)
{
  return self->kind == EPD_SCHEDULE_FLOWMATCH;
}

gboolean
epd_schedule_validate (const EpdSchedule  *self,
                       GError            **error)
{
  gboolean flow = epd_schedule_is_flow (self);

  if ((guint) self->kind >= G_N_ELEMENTS (kind_names))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "unknown schedule kind %d", self->kind);
      return FALSE;
    }
  if (!isfinite (self->sigma_min) || self->sigma_min <= 0.0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "sigma-min must be a positive finite number (got %g)", self->sigma_min);
      return FALSE;
    }
  if (isnan (self->sigma_max) || self->sigma_max <= self->sigma_min ||
      (!flow && isinf (self->sigma_max)))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "sigma-max must be %s and larger than sigma-min %g (got %g)",
                   flow ? "a number (inf allowed for flowmatch)" : "finite",
                   self->sigma_min, self->sigma_max);
      return FALSE;
    }
  if (self->kind == EPD_SCHEDULE_POLYNOMIAL && (!isfinite (self->rho) || self->rho <= 0.0))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "rho must be a positive finite number (got %g)", self->rho);
      return FALSE;
    }
  if (flow && (!isfinite (self->shift) || self->shift <= 0.0))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                   "shift must be a positive finite number (got %g)", self->shift);
      return FALSE;
    }
  return TRUE;
}

/* The end points of each kind in the variable the grid is uniform in. */
typedef struct
{
  double a, b;           /* variable at sigma_max and at sigma_min */
  double beta_d, beta_min;
} GridSpan;

static void
grid_span (const EpdSchedule *self,
           GridSpan          *span)
{
  double smin = self->sigma_min, smax = self->sigma_max;

  memset (span, 0, sizeof *span);
  switch (self->kind)
    {
    case EPD_SCHEDULE_POLYNOMIAL:
      span->a = pow (smax, 1.0 / self->rho);
      span->b = pow (smin, 1.0 / self->rho);
      break;
    case EPD_SCHEDULE_LOGSNR:
      span->a = log (smax);
      span->b = log (smin);
      break;
    case EPD_SCHEDULE_TIME_UNIFORM:
      span->a = 1.0;
      span->b = VP_EPS_S;
      vp_fit (smin, smax, &span->beta_d, &span->beta_min);
      break;
    case EPD_SCHEDULE_DISCRETE:
      span->a = sd_sigma_inv (smax);
      span->b = sd_sigma_inv (smin);
      break;
    case EPD_SCHEDULE_FLOWMATCH:
    default:
      span->a = flow_unshift (self->shift, epd_schedule_time_from_sigma (self, smax));
      span->b = flow_unshift (self->shift, epd_schedule_time_from_sigma (self, smin));
      break;
    }
}

/* The solver time at fraction f of the way from the first to the last point. */
static double
grid_point (const EpdSchedule *self,
            const GridSpan    *span,
            double             f)
{
  double v = span->a + f * (span->b - span->a);

  switch (self->kind)
    {
    case EPD_SCHEDULE_POLYNOMIAL:
      return pow (v, self->rho);
    case EPD_SCHEDULE_LOGSNR:
      return exp (v);
    case EPD_SCHEDULE_TIME_UNIFORM:
      return vp_sigma (span->beta_d, span->beta_min, v);
    case EPD_SCHEDULE_DISCRETE:
      return sd_sigma (v);
    case EPD_SCHEDULE_FLOWMATCH:
    default:
      return flow_shift (self->shift, v);
    }
}

static void
grid_fill (const EpdSchedule *self,
           guint              steps,
           double            *t)
{
  GridSpan span;

  grid_span (self, &span);
  for (guint i = 0; i <= steps; i++)
    t[i] = grid_point (self, &span, (double) i / steps);
  /* Exact end points where the formulas only round to them. */
  t[0] = epd_schedule_time_from_sigma (self, self->sigma_max);
  t[steps] = epd_schedule_time_from_sigma (self, self->sigma_min);
}

double *
epd_schedule_grid (const EpdSchedule  *self,
                   guint               steps,
                   GError            **error)
{
  g_autofree double *t = NULL;

  if (!epd_schedule_validate (self, error))
    return NULL;
  if (steps == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "a grid needs at least 1 step");
      return NULL;
    }
  t = g_new (double, steps + 1);
  grid_fill (self, steps, t);
  for (guint i = 0; i <= steps; i++)
    if (!isfinite (t[i]) || t[i] <= 0.0 || (i > 0 && !(t[i] < t[i - 1])))
      {
        g_set_error (error, EPD_ERROR, EPD_ERROR_NUMERIC,
                     "the %s schedule with %u steps gives a bad time %g at grid point %u "
                     "(times must be positive and strictly decreasing)",
                     epd_schedule_kind_to_string (self->kind), steps, t[i], i);
        return NULL;
      }
  return g_steal_pointer (&t);
}

double
epd_schedule_time_from_sigma (const EpdSchedule *self,
                              double             sigma)
{
  if (!epd_schedule_is_flow (self))
    return sigma;
  if (isinf (sigma))
    return 1.0;
  return sigma / (1.0 + sigma);
}

double
epd_schedule_sigma_from_time (const EpdSchedule *self,
                              double             t)
{
  if (!epd_schedule_is_flow (self))
    return t;
  if (t >= 1.0)
    return INFINITY;
  return t / (1.0 - t);
}
