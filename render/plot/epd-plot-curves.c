/* SPDX-License-Identifier: MIT */
/* epd-plot-curves.c: named numeric columns from JSON lines, drawn as panels. */
#include "epd-plot-curves.h"

#include <math.h>
#include <string.h>

#include "epd-file.h"
#include "epd-json.h"

/* A training log grows by a few hundred bytes per iteration: the reference
 * RDPO log is 3.5 MB for 8966 iterations. */
#define EPD_CURVE_LOG_MAX_BYTES ((gsize) 256 << 20)

struct _EpdCurveLog
{
  GPtrArray  *names;    /* column names in order of appearance */
  GHashTable *columns;  /* name -> GArray of double */
  guint       n_rows;
};

EpdCurveLog *
epd_curve_log_new (void)
{
  EpdCurveLog *self = g_new0 (EpdCurveLog, 1);

  self->names = g_ptr_array_new_with_free_func (g_free);
  self->columns = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                         (GDestroyNotify) g_array_unref);
  return self;
}

void
epd_curve_log_free (EpdCurveLog *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->columns);
  g_ptr_array_unref (self->names);
  g_free (self);
}

guint
epd_curve_log_n_rows (const EpdCurveLog *self)
{
  return self->n_rows;
}

const double *
epd_curve_log_column (const EpdCurveLog *self,
                      const char        *name)
{
  GArray *column = g_hash_table_lookup (self->columns, name);

  return column != NULL ? (const double *) column->data : NULL;
}

static GArray *
column_for (EpdCurveLog *self,
            const char  *name)
{
  GArray *column = g_hash_table_lookup (self->columns, name);
  double nan_value = NAN;

  if (column != NULL)
    return column;
  column = g_array_new (FALSE, FALSE, sizeof (double));
  /* Earlier rows did not have this field. */
  for (guint i = 0; i < self->n_rows; i++)
    g_array_append_val (column, nan_value);
  g_ptr_array_add (self->names, g_strdup (name));
  g_hash_table_insert (self->columns, self->names->pdata[self->names->len - 1], column);
  return column;
}

void
epd_curve_log_append (EpdCurveLog *self,
                      JsonObject  *object)
{
  g_autoptr(GList) members = json_object_get_members (object);
  double nan_value = NAN;

  for (GList *l = members; l != NULL; l = l->next)
    {
      double value;

      if (!epd_json_node_get_number (json_object_get_member (object, l->data), &value))
        continue;
      g_array_append_val (column_for (self, l->data), value);
    }
  self->n_rows++;
  for (guint i = 0; i < self->names->len; i++)
    {
      GArray *column = g_hash_table_lookup (self->columns, self->names->pdata[i]);
      if (column->len < self->n_rows)
        g_array_append_val (column, nan_value);
    }
}

/* JSON has no NaN, but Python's json module writes it: bare NaN / Infinity
 * tokens outside strings become null. */
static char *
replace_non_finite (const char *line,
                    gsize       length)
{
  GString *out = g_string_sized_new (length + 16);
  gboolean in_string = FALSE;

  for (gsize i = 0; i < length; i++)
    {
      char c = line[i];

      if (in_string && c == '\\' && i + 1 < length)
        {
          g_string_append_c (out, c);
          g_string_append_c (out, line[++i]);
          continue;
        }
      if (c == '"')
        in_string = !in_string;
      if (!in_string && c == 'N' && length - i >= 3 && strncmp (line + i, "NaN", 3) == 0)
        {
          g_string_append (out, "null");
          i += 2;
          continue;
        }
      if (!in_string && (c == 'I' || c == '-') && length - i >= 8)
        {
          gsize skip = c == '-' ? 1 : 0;
          if (length - i >= 8 + skip && strncmp (line + i + skip, "Infinity", 8) == 0)
            {
              g_string_append (out, "null");
              i += 7 + skip;
              continue;
            }
        }
      g_string_append_c (out, c);
    }
  return g_string_free (out, FALSE);
}

/* Through epd_json_parse(): a line nested thousands deep would overflow
 * json-glib's recursive parser. */
static gboolean
parse_line (EpdCurveLog *self,
            const char  *line,
            gsize        length,
            const char  *name,
            guint        number,
            GError     **error)
{
  g_autofree char *clean = replace_non_finite (line, length);
  g_autofree char *source = g_strdup_printf ("%s, line %u", name, number);
  g_autoptr(JsonNode) root = epd_json_parse (clean, strlen (clean), source, error);

  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s: expected one JSON object per line", source);
      return FALSE;
    }
  epd_curve_log_append (self, json_node_get_object (root));
  return TRUE;
}

EpdCurveLog *
epd_curve_log_parse_jsonl (const char *text,
                           gsize       length,
                           const char *name,
                           GError    **error)
{
  g_autoptr(EpdCurveLog) self = epd_curve_log_new ();
  const char *end = text + length;
  guint number = 0;

  for (const char *line = text; line < end;)
    {
      const char *eol = memchr (line, '\n', end - line);
      gsize len = (eol != NULL ? eol : end) - line;
      g_autofree char *trimmed = g_strstrip (g_strndup (line, len));

      number++;
      if (*trimmed != '\0' && !parse_line (self, trimmed, strlen (trimmed), name, number, error))
        return NULL;
      line += len + 1;
    }
  if (self->n_rows == 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_PARSE, "%s has no records", name);
      return NULL;
    }
  return g_steal_pointer (&self);
}

EpdCurveLog *
epd_curve_log_load_jsonl (const char *path,
                          GError    **error)
{
  g_autofree char *text = NULL;
  g_autofree char *name = g_filename_display_name (path);
  gsize length;

  /* Not a FIFO or a device, and not without end. */
  if (!epd_file_read_capped (path, EPD_CURVE_LOG_MAX_BYTES, &text, &length, error))
    return NULL;
  return epd_curve_log_parse_jsonl (text, length, name, error);
}

/* A centred running mean over up to `window` finite values. */
static double *
running_mean (const double *values,
              guint         n,
              guint         window)
{
  double *out = g_new (double, n);
  guint half = window / 2;

  for (guint i = 0; i < n; i++)
    {
      double s = 0;
      guint count = 0;

      for (guint j = i > half ? i - half : 0; j <= MIN (n - 1, i + half); j++)
        if (isfinite (values[j]))
          {
            s += values[j];
            count++;
          }
      out[i] = count > 0 ? s / count : NAN;
    }
  return out;
}

/* Readable titles for the columns the studio plots (others keep their name),
 * and whether a log axis may show them: errors and losses fall by decades,
 * while a KL growing from 0 reads best on a linear axis. */
static const struct {
  const char *name;
  const char *title;
  gboolean    log_ok;
} columns_known[] = {
  { "loss", "Training loss", TRUE },
  { "val_error", "Validation error to the teacher", TRUE },
  { "mixed_reward_mean", "Mean reward", FALSE },
  { "kl", "KL divergence to the start table", FALSE },
};

static const char *
column_title (const char *name,
              gboolean   *log_ok)
{
  for (guint i = 0; i < G_N_ELEMENTS (columns_known); i++)
    if (g_str_equal (name, columns_known[i].name))
      {
        *log_ok = columns_known[i].log_ok;
        return columns_known[i].title;
      }
  *log_ok = FALSE;
  return name;
}

/* Keeps the rows where y is finite; returns how many. */
static guint
finite_rows (const double *x,
             const double *y,
             guint         n,
             double       *x_out,
             double       *y_out)
{
  guint m = 0;

  for (guint i = 0; i < n; i++)
    if (isfinite (y[i]))
      {
        x_out[m] = x[i];
        y_out[m++] = y[i];
      }
  return m;
}

/* A positive loss spanning more than a decade (a distillation loss falls by
 * orders of magnitude) reads best on a log axis. */
static gboolean
wants_log_axis (const double *y,
                guint         n)
{
  double lo = INFINITY, hi = 0;

  for (guint i = 0; i < n; i++)
    {
      if (y[i] <= 0)
        return FALSE;
      lo = MIN (lo, y[i]);
      hi = MAX (hi, y[i]);
    }
  return n > 1 && hi > 10 * lo;
}

static void
draw_panel (cairo_t           *cr,
            double             width,
            double             height,
            const EpdCurveLog *log,
            const char        *name,
            guint              colour,
            guint              smooth)
{
  guint n = log->n_rows, m;
  const double *y = epd_curve_log_column (log, name);
  const double *step = epd_curve_log_column (log, "step");
  g_autofree double *index = NULL;
  g_autofree double *xs = g_new (double, n);
  g_autofree double *ys = g_new (double, n);
  g_autofree double *mean = NULL;
  g_autofree char *title = NULL;
  gboolean log_ok;
  const char *readable = column_title (name, &log_ok);
  EpdPlotSeries series[2];
  /* Steps and iterations are counts: whole-number ticks. */
  EpdLinePlot plot = { NULL, step != NULL ? "step" : "iteration", NULL, FALSE, FALSE, series, 1, TRUE };

  if (step == NULL)
    {
      index = g_new (double, n);
      for (guint i = 0; i < n; i++)
        index[i] = i + 1;
      step = index;
    }
  /* Sparse columns (validation every few hundred steps) join their points. */
  m = finite_rows (step, y, n, xs, ys);
  plot.log_y = log_ok && wants_log_axis (ys, m);
  series[0] = (EpdPlotSeries) { NULL, xs, ys, m, colour, m < 60, FALSE, 0, 1.2 };
  /* Noisy RL curves: the raw values faint, their running mean on top; the
   * title says so, where a legend would cover the curve. Sparse ones as they are. */
  if (smooth > 1 && m > smooth && m > n / 2)
    {
      mean = running_mean (ys, m, smooth);
      series[0].alpha = 0.25;
      series[1] = (EpdPlotSeries) { NULL, xs, mean, m, colour, FALSE, FALSE, 1, 2.2 };
      plot.n_series = 2;
      title = g_strdup_printf ("%s (line: running mean of %u)", readable, smooth);
    }
  plot.title = title != NULL ? title : readable;
  epd_line_plot_draw (cr, width, height, &plot);
}

void
epd_curve_plot_draw (cairo_t             *cr,
                     double               width,
                     double               height,
                     const EpdCurveLog   *log,
                     const char * const  *names,
                     guint                smooth)
{
  g_autoptr(GPtrArray) present = g_ptr_array_new ();
  double panel;

  for (guint i = 0; names[i] != NULL; i++)
    if (epd_curve_log_column (log, names[i]) != NULL)
      g_ptr_array_add (present, (gpointer) names[i]);
  if (present->len == 0)
    return;
  panel = floor (height / present->len);
  for (guint i = 0; i < present->len; i++)
    {
      cairo_save (cr);
      cairo_translate (cr, 0, i * panel);
      draw_panel (cr, width, panel, log, present->pdata[i], i, smooth);
      cairo_restore (cr);
    }
}
