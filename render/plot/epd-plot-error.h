/* SPDX-License-Identifier: MIT */
/* epd-plot-error.h: error to the teacher, per step and against NFE. */
#pragma once

#include "epd-plot-lines.h"

G_BEGIN_DECLS

typedef struct
{
  char   *name;
  guint   n_points;    /* grid points: steps + 1 */
  double *per_step;    /* [n_points]: mean over the batch of |x_n - x_teacher_n| */
  double *nfe;         /* [n_points]: latency NFE spent to reach each grid point, or NULL */
} EpdErrorCurve;

typedef struct
{
  char   *name;
  GArray *nfe;         /* double */
  GArray *error;       /* double: final error at that NFE */
} EpdErrorSweep;

typedef struct
{
  GPtrArray *curves;   /* EpdErrorCurve, owned */
  GPtrArray *sweeps;   /* EpdErrorSweep, owned */
} EpdErrorReport;

/* Mean over the batch of the Euclidean distance between the two traces' states
 * at each grid point (the final states included): [n_steps + 1] values. The
 * traces must have the same batch, dimension and number of steps. */
double         *epd_trace_error_per_step   (const EpdTrace       *trace,
                                            const EpdTrace       *teacher,
                                            GError              **error);
/* Mean distance between two [batch][dim] sets of final samples. */
double          epd_final_error            (const double         *x,
                                            const double         *reference,
                                            gsize                 batch,
                                            guint                 dim);

EpdErrorReport *epd_error_report_new       (void);
void            epd_error_report_free      (EpdErrorReport       *self);
/* Takes per_step ([n_points] values). */
void            epd_error_report_add_curve (EpdErrorReport       *self,
                                            const char           *name,
                                            double               *per_step,
                                            guint                 n_points);
/* The same with the latency NFE spent to reach each grid point (takes nfe):
 * curves with it are drawn against NFE, so that solvers run at the same
 * latency NFE on grids of different lengths compare point by point. */
void            epd_error_report_add_curve_nfe (EpdErrorReport   *self,
                                                const char       *name,
                                                double           *per_step,
                                                double           *nfe,
                                                guint             n_points);
/* Adds (nfe, error) to the sweep called name, creating it if needed. */
void            epd_error_report_add_point (EpdErrorReport       *self,
                                            const char           *name,
                                            double                nfe,
                                            double                error);
/* "kind,series,x,error" rows: kind is per_step (x = grid point) or nfe. */
char           *epd_error_report_to_csv    (const EpdErrorReport *self);

/* Per-step errors (log scale) on the left, final error against NFE on the right. */
void            epd_error_plot_draw        (cairo_t              *cr,
                                            double                width,
                                            double                height,
                                            const EpdErrorReport *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdErrorReport, epd_error_report_free)

G_END_DECLS
