/* SPDX-License-Identifier: MIT */
/* epd-schedule.h: time grids from t_max down to t_min. */
#pragma once

#include "epd-types.h"

G_BEGIN_DECLS

typedef enum {
  EPD_SCHEDULE_POLYNOMIAL,   /* EDM: (smax^(1/rho) + i/N (smin^(1/rho) - smax^(1/rho)))^rho */
  EPD_SCHEDULE_LOGSNR,       /* uniform in log sigma */
  EPD_SCHEDULE_TIME_UNIFORM, /* VP: uniform in the VP time t in [1e-3, 1]; beta_d, beta_min
                              * fitted to the end points (defaults: the standard VP 19.9, 0.1) */
  EPD_SCHEDULE_DISCRETE,     /* SD 1.5 scaled-linear betas, 1000 training steps */
  EPD_SCHEDULE_FLOWMATCH,    /* SD3/FLUX: flow-matching time with shift, x = (1-t) x0 + t n;
                              * the default end point is the sd3 preset's: with another
                              * shift, set sigma_min too to match diffusers for it */
} EpdScheduleKind;

struct _EpdSchedule
{
  EpdScheduleKind kind;
  double sigma_min;   /* for FLOWMATCH these are sigma = t/(1-t) of the end points */
  double sigma_max;
  double rho;         /* POLYNOMIAL only */
  double shift;       /* FLOWMATCH only */
};

/* Defaults of each kind (EDM: sigma_min 0.002, sigma_max 80, rho 7; see
 * epd-schedule.c for the others; flowmatch defaults to the "sd3" preset). */
void         epd_schedule_init            (EpdSchedule     *self,
                                           EpdScheduleKind  kind);
/* A flowmatch schedule whose grid is diffusers' FlowMatchEulerDiscreteScheduler
 * grid as the reference samples it: "sd3" (shift 3) or "flux" (FLUX.1-dev at
 * 1024x1024, shift exp(1.15)). Both start at t = 1 (sigma_max = +inf). */
gboolean     epd_schedule_init_flowmatch_preset (EpdSchedule  *self,
                                                 const char   *name,
                                                 GError      **error);
const char  *epd_schedule_kind_to_string  (EpdScheduleKind  kind);
gboolean     epd_schedule_kind_from_string (const char      *name,
                                            EpdScheduleKind *kind,
                                            GError         **error);
gboolean     epd_schedule_validate        (const EpdSchedule *self,
                                           GError           **error);
/* TRUE when the solver runs in flow-matching time t instead of sigma. */
gboolean     epd_schedule_is_flow         (const EpdSchedule *self);
/* steps + 1 solver times, strictly decreasing, in the solver's time variable
 * (sigma, or flow-matching t). g_free() the result. */
double      *epd_schedule_grid            (const EpdSchedule *self,
                                           guint              steps,
                                           GError           **error);
/* The solver time of a sigma and back (identity except for FLOWMATCH). */
double       epd_schedule_time_from_sigma (const EpdSchedule *self,
                                           double             sigma);
double       epd_schedule_sigma_from_time (const EpdSchedule *self,
                                           double             t);

G_END_DECLS
