/* SPDX-License-Identifier: MIT */
/* epd-solver-private.h: the state of one solve, shared by the solver files. */
#pragma once

#include <gio/gio.h>

#include "epd-solver.h"
#include "epd-epd-step.h"

G_BEGIN_DECLS

typedef struct
{
  EpdDenoiser           *denoiser;   /* the flow adapter for flowmatch schedules */
  const EpdSolveOptions *options;
  gsize                  batch;
  guint                  dim;
  gsize                  n;          /* batch * dim */
  const double          *grid;       /* steps + 1 solver times */
  guint                  steps;
  EpdTrace              *trace;      /* may be NULL */
  EpdNfe                 nfe;
  GCancellable          *cancellable;
  double                *sigma;      /* [batch] scratch for single-time calls */
} EpdSolveContext;

/* D(x, t) for every row at one time t, into denoised [n]; counts one
 * evaluation (latency and total). */
gboolean epd_solve_context_denoise  (EpdSolveContext *ctx,
                                     const double    *x,
                                     double           t,
                                     double          *denoised,
                                     GError         **error);
/* dir = (x - D(x, t)) / t, optionally keeping D in denoised (may be NULL). */
gboolean epd_solve_context_direction (EpdSolveContext *ctx,
                                      const double    *x,
                                      double           t,
                                      double          *denoised,
                                      double          *dir,
                                      GError         **error);
/* G_IO_ERROR_CANCELLED if the solve's cancellable fired. */
gboolean epd_solve_context_check     (EpdSolveContext *ctx,
                                      GError         **error);

/* The adaptive Dormand-Prince 5(4) teacher, x in place from grid[0] to grid[steps]. */
gboolean epd_teacher_run             (EpdSolveContext *ctx,
                                      double          *x,
                                      GError         **error);

G_END_DECLS
