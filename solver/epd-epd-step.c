/* SPDX-License-Identifier: MIT */
/* epd-epd-step.c: one EPD step (K parallel points, one batched call) and the
 * iPNDM predictor coefficients. */
#include "epd-epd-step.h"

#include <math.h>

static const double ipndm_c1[] = { 1.0 };
static const double ipndm_c2[] = { 3.0 / 2.0, -1.0 / 2.0 };
static const double ipndm_c3[] = { 23.0 / 12.0, -16.0 / 12.0, 5.0 / 12.0 };
static const double ipndm_c4[] = { 55.0 / 24.0, -59.0 / 24.0, 37.0 / 24.0, -9.0 / 24.0 };

const double *
epd_ipndm_coefficients (guint order)
{
  static const double *const table[] = { ipndm_c1, ipndm_c2, ipndm_c3, ipndm_c4 };

  g_return_val_if_fail (order >= 1 && order <= EPD_IPNDM_MAX_ORDER, NULL);
  return table[order - 1];
}

guint
epd_ipndm_order (guint max_order,
                 guint n_history)
{
  return MIN (max_order, n_history + 1);
}

void
epd_ipndm_direction (guint                order,
                     const double        *d_cur,
                     const double *const *history,
                     gsize                n,
                     double              *out)
{
  const double *c = epd_ipndm_coefficients (order);

  g_return_if_fail (c != NULL);
  for (gsize i = 0; i < n; i++)
    {
      double v = c[0] * d_cur[i];

      for (guint j = 1; j < order; j++)
        v += c[j] * history[j - 1][i];
      out[i] = v;
    }
}

void
epd_epd_row_from_table (EpdEpdRow      *row,
                        const EpdTable *table,
                        guint           step)
{
  gsize off = (gsize) step * table->n_points;

  g_return_if_fail (step < table->steps);
  row->n_points = table->n_points;
  row->r = table->r + off;
  row->weight = table->weight + off;
  row->scale_dir = table->scale_dir ? table->scale_dir + off : NULL;
  row->scale_time = table->scale_time ? table->scale_time + off : NULL;
}

double
epd_epd_point_time (double t_cur,
                    double t_next,
                    double r)
{
  return pow (t_next, r) * pow (t_cur, 1.0 - r);
}

/* x_k = x + (tau_k - t_cur) pred_dir and the per-row evaluation times. */
static void
epd_points_place (guint            dim,
                  gsize            batch,
                  double           t_cur,
                  double           t_next,
                  const EpdEpdRow *row,
                  const double    *x,
                  const double    *pred_dir,
                  double          *xs,
                  double          *sigmas)
{
  gsize n = batch * dim;

  for (guint k = 0; k < row->n_points; k++)
    {
      double tau = epd_epd_point_time (t_cur, t_next, row->r[k]);
      double st = row->scale_time ? row->scale_time[k] : 1.0;

      for (gsize i = 0; i < n; i++)
        xs[k * n + i] = x[i] + (tau - t_cur) * pred_dir[i];
      for (gsize b = 0; b < batch; b++)
        sigmas[k * batch + b] = st * tau;
    }
}

gboolean
epd_epd_step (EpdDenoiser     *denoiser,
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
              GError         **error)
{
  gsize n = batch * dim;
  guint K = row->n_points;
  g_autofree double *own_x = point_x ? NULL : g_new (double, K * n);
  g_autofree double *own_d = point_dir ? NULL : g_new (double, K * n);
  g_autofree double *sigmas = g_new (double, K * batch);
  double *xs = point_x ? point_x : own_x;
  double *ds = point_dir ? point_dir : own_d;

  epd_points_place (dim, batch, t_cur, t_next, row, x, pred_dir, xs, sigmas);
  if (!epd_denoiser_denoise (denoiser, xs, sigmas, K * batch, ds, error))
    return FALSE;
  for (guint k = 0; k < K; k++)
    {
      double tau = epd_epd_point_time (t_cur, t_next, row->r[k]);

      for (gsize i = 0; i < n; i++)
        ds[k * n + i] = (xs[k * n + i] - ds[k * n + i]) / tau;
    }
  for (gsize i = 0; i < n; i++)
    {
      double acc = 0.0;

      for (guint k = 0; k < K; k++)
        acc += row->weight[k] * (row->scale_dir ? row->scale_dir[k] : 1.0) * ds[k * n + i];
      x_next[i] = x[i] + (t_next - t_cur) * acc;
    }
  return TRUE;
}
