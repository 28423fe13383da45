/* SPDX-License-Identifier: MIT */
/* epd-trace.h: everything a view needs to draw a solve. */
#pragma once

#include <json-glib/json-glib.h>

#include "epd-types.h"

G_BEGIN_DECLS

struct _EpdTraceStep
{
  double   t_cur;
  double   t_next;
  double  *x;             /* [batch][dim] state at t_cur */
  double  *denoised;      /* [batch][dim] D(x, t_cur), NULL when not evaluated (AFS) */
  double  *euler_dir;     /* [batch][dim] the first direction d at x, NULL if none */
  guint    n_points;      /* EPD parallel points, 0 for other solvers */
  double  *point_t;       /* [n_points] evaluation time st_k * tau_k */
  double  *point_weight;  /* [n_points] w_k * sd_k */
  double  *point_x;       /* [n_points][batch][dim] */
  double  *point_dir;     /* [n_points][batch][dim] d_k */
};

struct _EpdTrace
{
  gsize    batch;
  guint    dim;
  GArray  *steps;         /* of EpdTraceStep, owned */
  double  *x_final;       /* [batch][dim] */
  gboolean flow_time;     /* times are flow-matching t, not sigma */
};

EpdTrace     *epd_trace_new          (void);
void          epd_trace_free         (EpdTrace      *self);
void          epd_trace_clear        (EpdTrace      *self);
guint         epd_trace_n_steps      (const EpdTrace *self);
EpdTraceStep *epd_trace_get_step     (const EpdTrace *self,
                                      guint           i);
/* Recording, in step order. The first step fixes batch and dim; every array
 * is copied. denoised/dir may be NULL (AFS). */
EpdTraceStep *epd_trace_add_step     (EpdTrace      *self,
                                      gsize          batch,
                                      guint          dim,
                                      double         t_cur,
                                      double         t_next,
                                      const double  *x);
void          epd_trace_step_set_denoised (EpdTraceStep *step,
                                           gsize         n,
                                           const double *denoised,
                                           const double *euler_dir);
/* point_x and point_dir are [n_points][n] with n = batch * dim. */
void          epd_trace_step_set_points (EpdTraceStep *step,
                                         guint         n_points,
                                         gsize         n,
                                         const double *point_t,
                                         const double *point_weight,
                                         const double *point_x,
                                         const double *point_dir);
void          epd_trace_set_final    (EpdTrace      *self,
                                      const double  *x);
/* {"format": "epd-trace", "version": 1, "time": "sigma"|"flow-t", "batch", "dim",
 *  "steps": [{"t_cur", "t_next", "x": [[..]], "denoised", "euler_dir" (null when
 *  absent), "points": [{"t", "weight", "x", "dir"}]}], "x_final", "x_final_scale"}
 * where x_final_scale says whether x_final is on the data scale or, in flow
 * time, the flow-matching state (1 - t) x0 + t n at the last t. */
JsonNode     *epd_trace_to_json      (const EpdTrace *self);
gboolean      epd_trace_save         (const EpdTrace *self,
                                      const char     *path,
                                      GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdTrace, epd_trace_free)

G_END_DECLS
