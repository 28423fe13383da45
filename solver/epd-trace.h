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
};

EpdTrace     *epd_trace_new          (void);
void          epd_trace_free         (EpdTrace      *self);
void          epd_trace_clear        (EpdTrace      *self);
guint         epd_trace_n_steps      (const EpdTrace *self);
EpdTraceStep *epd_trace_get_step     (const EpdTrace *self,
                                      guint           i);
JsonNode     *epd_trace_to_json      (const EpdTrace *self);
gboolean      epd_trace_save         (const EpdTrace *self,
                                      const char     *path,
                                      GError        **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdTrace, epd_trace_free)

G_END_DECLS
