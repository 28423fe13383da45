/* SPDX-License-Identifier: MIT */
/* epd-epd-step.h: the single EPD step and the iPNDM (Adams-Bashforth)
 * predictor, shared by the solvers and by distillation. */
#pragma once

#include "epd-types.h"
#include "epd-denoiser.h"
#include "epd-table.h"

G_BEGIN_DECLS

/* Highest iPNDM order (directions used: the current one and 3 of history). */
#define EPD_IPNDM_MAX_ORDER 4

/* One row of a table: the K parallel points of one step. scale_dir and
 * scale_time may be NULL (all 1). All arrays hold n_points values. */
typedef struct
{
  guint         n_points;
  const double *r;
  const double *weight;
  const double *scale_dir;
  const double *scale_time;
} EpdEpdRow;

/* Row `step` of a table (borrowed pointers into the table). */
void     epd_epd_row_from_table  (EpdEpdRow      *row,
                                  const EpdTable *table,
                                  guint           step);

/* tau = t_next^r * t_cur^(1-r): the point's place between t_cur and t_next. */
double   epd_epd_point_time      (double          t_cur,
                                  double          t_next,
                                  double          r);

/* One EPD step from t_cur to t_next for batch rows of dim values.
 * pred_dir [batch][dim] is the direction that places the points,
 * x_k = x + (tau_k - t_cur) pred_dir: the Euler direction d = (x - D(x,t_cur))/t_cur
 * (or the AFS direction) for EPD, the iPNDM predictor direction for EPD-Plugin.
 * The K evaluations D(x_k, st_k tau_k) go out as ONE denoiser call of K*batch rows.
 * x_next = x + (t_next - t_cur) sum_k w_k sd_k d_k with d_k = (x_k - D(x_k, st_k tau_k))/tau_k.
 * point_x and point_dir ([K][batch][dim], may be NULL) receive x_k and d_k.
 * x_next may alias x. */
gboolean epd_epd_step            (EpdDenoiser     *denoiser,
                                  guint            dim,
                                  gsize            batch,
                                  double           t_cur,
                                  double           t_next,
                                  const EpdEpdRow *row,
                                  const double    *x,
                                  const double    *pred_dir,
                                  double          *x_next,
                                  double          *point_x,
                                  double          *point_dir,
                                  GError         **error);

/* The iPNDM coefficients of an order 1..4, newest direction first:
 * order 1: {1}, 2: {3,-1}/2, 3: {23,-16,5}/12, 4: {55,-59,37,-9}/24. */
const double *epd_ipndm_coefficients (guint order);

/* The order iPNDM uses with n_history past directions: min(max_order, n_history + 1). */
guint    epd_ipndm_order         (guint           max_order,
                                  guint           n_history);

/* out[n] = c_0 d_cur[n] + sum_j c_j history[j-1][n] with the coefficients of
 * `order`; history[0] is the newest past direction (the previous step's d).
 * out may alias d_cur. */
void     epd_ipndm_direction     (guint                order,
                                  const double        *d_cur,
                                  const double *const *history,
                                  gsize                n,
                                  double              *out);

G_END_DECLS
