/* SPDX-License-Identifier: MIT */
/* epd-plot-error.c: error-to-teacher data, its CSV, and its two charts. */
#include "epd-plot-error.h"

#include <math.h>

static double
row_distance (const double *a,
              const double *b,
              guint         dim)
{
  double s = 0;

  for (guint j = 0; j < dim; j++)
    s += (a[j] - b[j]) * (a[j] - b[j]);
  return sqrt (s);
}

double
epd_final_error (const double *x,
                 const double *reference,
                 gsize         batch,
                 guint         dim)
{
  double s = 0;

  for (gsize i = 0; i < batch; i++)
    s += row_distance (x + i * dim, reference + i * dim, dim);
  return batch > 0 ? s / batch : NAN;
}

double *
epd_trace_error_per_step (const EpdTrace *trace,
                          const EpdTrace *teacher,
                          GError        **error)
{
  guint n_steps = epd_trace_n_steps (trace);
  double *out;

  if (teacher->batch != trace->batch || teacher->dim != trace->dim ||
      epd_trace_n_steps (teacher) != n_steps)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "the teacher trace (%" G_GSIZE_FORMAT " x %u, %u steps) does not match "
                   "the solver's (%" G_GSIZE_FORMAT " x %u, %u steps)",
                   teacher->batch, teacher->dim, epd_trace_n_steps (teacher),
                   trace->batch, trace->dim, n_steps);
      return NULL;
    }
  out = g_new (double, n_steps + 1);
  for (guint s = 0; s < n_steps; s++)
    out[s] = epd_final_error (epd_trace_get_step (trace, s)->x,
                              epd_trace_get_step (teacher, s)->x, trace->batch, trace->dim);
  out[n_steps] = epd_final_error (trace->x_final, teacher->x_final, trace->batch, trace->dim);
  return out;
}

static void
curve_free (gpointer data)
{
  EpdErrorCurve *curve = data;

  g_free (curve->name);
  g_free (curve->per_step);
  g_free (curve->nfe);
  g_free (curve);
}

static void
sweep_free (gpointer data)
{
  EpdErrorSweep *sweep = data;

  g_free (sweep->name);
  g_array_unref (sweep->nfe);
  g_array_unref (sweep->error);
  g_free (sweep);
}

EpdErrorReport *
epd_error_report_new (void)
{
  EpdErrorReport *self = g_new0 (EpdErrorReport, 1);

  self->curves = g_ptr_array_new_with_free_func (curve_free);
  self->sweeps = g_ptr_array_new_with_free_func (sweep_free);
  return self;
}

void
epd_error_report_free (EpdErrorReport *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->curves);
  g_ptr_array_unref (self->sweeps);
  g_free (self);
}

void
epd_error_report_add_curve (EpdErrorReport *self,
                            const char     *name,
                            double         *per_step,
                            guint           n_points)
{
  EpdErrorCurve *curve = g_new0 (EpdErrorCurve, 1);

  curve->name = g_strdup (name);
  curve->per_step = per_step;
  curve->n_points = n_points;
  g_ptr_array_add (self->curves, curve);
}

void
epd_error_report_add_curve_nfe (EpdErrorReport *self,
                                const char     *name,
                                double         *per_step,
                                double         *nfe,
                                guint           n_points)
{
  epd_error_report_add_curve (self, name, per_step, n_points);
  ((EpdErrorCurve *) self->curves->pdata[self->curves->len - 1])->nfe = nfe;
}

void
epd_error_report_add_point (EpdErrorReport *self,
                            const char     *name,
                            double          nfe,
                            double          error)
{
  EpdErrorSweep *sweep = NULL;

  for (guint i = 0; i < self->sweeps->len && sweep == NULL; i++)
    if (g_strcmp0 (((EpdErrorSweep *) self->sweeps->pdata[i])->name, name) == 0)
      sweep = self->sweeps->pdata[i];
  if (sweep == NULL)
    {
      sweep = g_new0 (EpdErrorSweep, 1);
      sweep->name = g_strdup (name);
      sweep->nfe = g_array_new (FALSE, FALSE, sizeof (double));
      sweep->error = g_array_new (FALSE, FALSE, sizeof (double));
      g_ptr_array_add (self->sweeps, sweep);
    }
  g_array_append_val (sweep->nfe, nfe);
  g_array_append_val (sweep->error, error);
}

char *
epd_error_report_to_csv (const EpdErrorReport *self)
{
  GString *csv = g_string_new ("kind,series,x,error\n");
  char number[G_ASCII_DTOSTR_BUF_SIZE];

  for (guint c = 0; c < self->curves->len; c++)
    {
      const EpdErrorCurve *curve = self->curves->pdata[c];
      for (guint i = 0; i < curve->n_points; i++)
        g_string_append_printf (csv, "per_step,%s,%u,%s\n", curve->name, i,
                                g_ascii_dtostr (number, sizeof number, curve->per_step[i]));
    }
  for (guint s = 0; s < self->sweeps->len; s++)
    {
      const EpdErrorSweep *sweep = self->sweeps->pdata[s];
      for (guint i = 0; i < sweep->nfe->len; i++)
        {
          g_string_append_printf (csv, "nfe,%s,%g,", sweep->name,
                                  g_array_index (sweep->nfe, double, i));
          g_string_append_printf (csv, "%s\n",
                                  g_ascii_dtostr (number, sizeof number,
                                                  g_array_index (sweep->error, double, i)));
        }
    }
  return g_string_free (csv, FALSE);
}

/* Against the NFE spent when every curve has it (equal latency NFE), else
 * against the grid point (equal steps). */
static void
draw_per_step (cairo_t              *cr,
               double                width,
               double                height,
               const EpdErrorReport *self)
{
  guint n = self->curves->len;
  g_autofree EpdPlotSeries *series = g_new0 (EpdPlotSeries, MAX (n, 1));
  g_autofree double *xs = NULL;
  guint longest = 0;
  gboolean by_nfe = n > 0;
  EpdLinePlot plot = { NULL, NULL, "mean |x_n − x_teacher|", FALSE, TRUE, series, n, TRUE };

  for (guint c = 0; c < n; c++)
    {
      const EpdErrorCurve *curve = self->curves->pdata[c];
      longest = MAX (longest, curve->n_points);
      by_nfe &= curve->nfe != NULL;
    }
  xs = g_new (double, MAX (longest, 1));
  for (guint i = 0; i < longest; i++)
    xs[i] = i;
  for (guint c = 0; c < n; c++)
    {
      const EpdErrorCurve *curve = self->curves->pdata[c];
      series[c] = (EpdPlotSeries) { curve->name, by_nfe ? curve->nfe : xs, curve->per_step, curve->n_points,
                                    c, TRUE, FALSE };
    }
  plot.title = by_nfe ? "Error to the teacher, equal latency NFE" : "Error to the teacher, equal steps";
  plot.x_title = by_nfe ? "NFE spent (latency)" : "grid point n";
  epd_line_plot_draw (cr, width, height, &plot);
}

static void
draw_sweep (cairo_t              *cr,
            double                width,
            double                height,
            const EpdErrorReport *self)
{
  guint n = self->sweeps->len;
  g_autofree EpdPlotSeries *series = g_new0 (EpdPlotSeries, MAX (n, 1));
  EpdLinePlot plot = { "Final error against NFE", "NFE (latency)", "mean |x_N − x_teacher|",
                       FALSE, TRUE, series, n, TRUE };

  for (guint s = 0; s < n; s++)
    {
      const EpdErrorSweep *sweep = self->sweeps->pdata[s];
      series[s] = (EpdPlotSeries) { sweep->name, (double *) sweep->nfe->data,
                                    (double *) sweep->error->data, sweep->nfe->len, s, TRUE, FALSE };
    }
  epd_line_plot_draw (cr, width, height, &plot);
}

void
epd_error_plot_draw (cairo_t              *cr,
                     double                width,
                     double                height,
                     const EpdErrorReport *self)
{
  double half = floor (width / 2);

  draw_per_step (cr, half, height, self);
  cairo_save (cr);
  cairo_translate (cr, half, 0);
  draw_sweep (cr, width - half, height, self);
  cairo_restore (cr);
}
