/* epd-schedule.h: time grids from t_max down to t_min. */
#pragma once

#include "epd-types.h"

G_BEGIN_DECLS

typedef enum {
  EPD_SCHEDULE_POLYNOMIAL,   /* EDM: (smax^(1/rho) + i/N (smin^(1/rho) - smax^(1/rho)))^rho */
  EPD_SCHEDULE_LOGSNR,       /* uniform in log sigma */
  EPD_SCHEDULE_TIME_UNIFORM, /* VP: uniform in the VP time variable */
  EPD_SCHEDULE_DISCRETE,     /* SD 1.5 scaled-linear betas, 1000 training steps */
  EPD_SCHEDULE_FLOWMATCH,    /* SD3/FLUX: flow-matching time with shift, x = (1-t) x0 + t n */
} EpdScheduleKind;

struct _EpdSchedule
{
  EpdScheduleKind kind;
  double sigma_min;   /* for FLOWMATCH these are sigma = t/(1-t) of the end points */
  double sigma_max;
  double rho;         /* POLYNOMIAL only */
  double shift;       /* FLOWMATCH only */
};

/* Defaults of each kind (EDM: sigma_min 0.002, sigma_max 80, rho 7). */
void         epd_schedule_init            (EpdSchedule     *self,
                                           EpdScheduleKind  kind);
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
