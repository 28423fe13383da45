/* SPDX-License-Identifier: MIT */
/* epd-solver.h: sampling the probability-flow ODE dx/dt = (x - D(x,t))/t. */
#pragma once

#include "epd-types.h"
#include "epd-denoiser.h"
#include "epd-schedule.h"
#include "epd-table.h"
#include "epd-trace.h"

G_BEGIN_DECLS

typedef enum {
  EPD_SOLVER_EULER,
  EPD_SOLVER_HEUN,
  EPD_SOLVER_DPM2,
  EPD_SOLVER_DPMPP2M,
  EPD_SOLVER_DPMPP3M,
  EPD_SOLVER_IPNDM,
  EPD_SOLVER_EPD,
  EPD_SOLVER_EPD_PLUGIN,
  EPD_SOLVER_TEACHER,
  EPD_N_SOLVERS
} EpdSolverKind;

struct _EpdSolveOptions
{
  EpdSolverKind    solver;
  guint            steps;         /* intervals of the grid */
  EpdSchedule      schedule;
  const EpdTable  *table;         /* EPD / EPD-Plugin; borrowed */
  gboolean         afs;           /* analytical first step d = x / sqrt(1 + t^2) */
  guint            max_order;     /* iPNDM and EPD-Plugin, 1..4 (default 4) */
  double           teacher_rtol;  /* adaptive teacher tolerance */
};

void         epd_solve_options_init        (EpdSolveOptions *self);
const char  *epd_solver_kind_to_string     (EpdSolverKind    kind);
gboolean     epd_solver_kind_from_string   (const char      *name,
                                            EpdSolverKind   *kind,
                                            GError         **error);
/* Latency NFE of a configuration without running it. */
EpdNfe       epd_solve_options_nfe         (const EpdSolveOptions *self);

/* x_init = t_max * z, the start of every solve (also in flow-matching time). */
void         epd_solve_init_from_noise     (const EpdSolveOptions *self,
                                            const double          *z,
                                            gsize                  n,
                                            double                *x_init);

/* Solve a batch from x_init ([batch][dim] at the grid's first time) to the last
 * grid time into x_out. trace and nfe may be NULL. Flow-matching schedules wrap
 * the denoiser so that the same equations run in t. cancellable is checked
 * between steps and is the thread's current one during the solve
 * (g_cancellable_push_current()), so a denoiser waiting on a device honours it. */
gboolean     epd_solve                     (EpdDenoiser           *denoiser,
                                            const EpdSolveOptions *options,
                                            const double          *x_init,
                                            gsize                  batch,
                                            double                *x_out,
                                            EpdTrace              *trace,
                                            EpdNfe                *nfe,
                                            GCancellable          *cancellable,
                                            GError               **error);

G_END_DECLS
