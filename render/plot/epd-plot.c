/* SPDX-License-Identifier: MIT */
/* epd-plot.c: viewport, axes, palette and export shared by every plot. */
#include "epd-plot.h"
#include "epd-file.h"

#include <math.h>
#include <string.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <pango/pangocairo.h>

#define EPD_PLOT_FONT "Sans"
/* The smallest value a log axis shows: log10 stays finite and far from subnormals. */
#define LOG_AXIS_MIN 1e-300

void
epd_plot_viewport_init (EpdPlotViewport *self,
                        double           x0,
                        double           x1,
                        double           y0,
                        double           y1)
{
  memset (self, 0, sizeof *self);
  self->x0 = x0;
  self->x1 = x1;
  self->y0 = y0;
  self->y1 = y1;
  self->width = 1;
  self->height = 1;
}

void
epd_plot_viewport_set_area (EpdPlotViewport *self,
                            double           left,
                            double           top,
                            double           width,
                            double           height)
{
  self->left = left;
  self->top = top;
  self->width = MAX (width, 1);
  self->height = MAX (height, 1);
}

void
epd_plot_viewport_set_area_with_margins (EpdPlotViewport *self,
                                         double           width,
                                         double           height)
{
  epd_plot_viewport_set_area (self, 62, 26, width - 62 - 16, height - 26 - 44);
}

void
epd_plot_viewport_equal_aspect (EpdPlotViewport *self)
{
  double aspect = self->width / MAX (self->height, 1);
  double cx = (self->x0 + self->x1) / 2, cy = (self->y0 + self->y1) / 2;
  double half = MAX ((self->x1 - self->x0) / 2 / aspect, (self->y1 - self->y0) / 2);

  self->x0 = cx - half * aspect;
  self->x1 = cx + half * aspect;
  self->y0 = cy - half;
  self->y1 = cy + half;
  self->log_x = self->log_y = FALSE;
}

/* One axis value -> [0, 1]; log axes use log10 so that decades are even. */
static double
axis_normalise (double   value,
                double   lo,
                double   hi,
                gboolean log_scale)
{
  if (log_scale)
    {
      value = log10 (MAX (value, 1e-300));
      lo = log10 (MAX (lo, 1e-300));
      hi = log10 (MAX (hi, 1e-300));
    }
  return hi != lo ? (value - lo) / (hi - lo) : 0.5;
}

static double
axis_denormalise (double   u,
                  double   lo,
                  double   hi,
                  gboolean log_scale)
{
  if (log_scale)
    return pow (10.0, log10 (lo) + u * (log10 (hi) - log10 (lo)));
  return lo + u * (hi - lo);
}

void
epd_plot_viewport_normalise (const EpdPlotViewport *self,
                             double                 x,
                             double                 y,
                             double                *u,
                             double                *v)
{
  *u = axis_normalise (x, self->x0, self->x1, self->log_x);
  *v = axis_normalise (y, self->y0, self->y1, self->log_y);
}

void
epd_plot_viewport_to_pixel (const EpdPlotViewport *self,
                            double                 x,
                            double                 y,
                            double                *px,
                            double                *py)
{
  double u, v;

  epd_plot_viewport_normalise (self, x, y, &u, &v);
  *px = self->left + u * self->width;
  *py = self->top + (1.0 - v) * self->height;
}

void
epd_plot_viewport_from_pixel (const EpdPlotViewport *self,
                              double                 px,
                              double                 py,
                              double                *x,
                              double                *y)
{
  double u = (px - self->left) / self->width;
  double v = 1.0 - (py - self->top) / self->height;

  *x = axis_denormalise (u, self->x0, self->x1, self->log_x);
  *y = axis_denormalise (v, self->y0, self->y1, self->log_y);
}

void
epd_plot_viewport_zoom (EpdPlotViewport *self,
                        double           px,
                        double           py,
                        double           factor)
{
  double u = (px - self->left) / self->width;
  double v = 1.0 - (py - self->top) / self->height;
  double lo_x = self->log_x ? log10 (self->x0) : self->x0;
  double hi_x = self->log_x ? log10 (self->x1) : self->x1;
  double lo_y = self->log_y ? log10 (self->y0) : self->y0;
  double hi_y = self->log_y ? log10 (self->y1) : self->y1;
  double cx = lo_x + u * (hi_x - lo_x);
  double cy = lo_y + v * (hi_y - lo_y);

  lo_x = cx - (cx - lo_x) / factor;
  hi_x = cx + (hi_x - cx) / factor;
  lo_y = cy - (cy - lo_y) / factor;
  hi_y = cy + (hi_y - cy) / factor;
  self->x0 = self->log_x ? pow (10.0, lo_x) : lo_x;
  self->x1 = self->log_x ? pow (10.0, hi_x) : hi_x;
  self->y0 = self->log_y ? pow (10.0, lo_y) : lo_y;
  self->y1 = self->log_y ? pow (10.0, hi_y) : hi_y;
}

void
epd_plot_viewport_pan (EpdPlotViewport *self,
                       double           dpx,
                       double           dpy)
{
  double x0, y0, x1, y1;

  /* The data point that was under the pointer must follow it. */
  epd_plot_viewport_from_pixel (self, self->left - dpx, self->top + self->height - dpy, &x0, &y0);
  epd_plot_viewport_from_pixel (self, self->left + self->width - dpx, self->top - dpy, &x1, &y1);
  self->x0 = x0;
  self->x1 = x1;
  self->y0 = y0;
  self->y1 = y1;
}

void
epd_plot_range_fit (const double *values,
                    gsize         n,
                    gboolean      log_scale,
                    double        margin,
                    double       *lo,
                    double       *hi)
{
  double a = INFINITY, b = -INFINITY;

  for (gsize i = 0; i < n; i++)
    {
      if (!isfinite (values[i]) || (log_scale && values[i] <= 0))
        continue;
      a = MIN (a, values[i]);
      b = MAX (b, values[i]);
    }
  if (!isfinite (a))
    {
      a = log_scale ? 0.1 : 0;
      b = log_scale ? 10 : 1;
    }
  if (log_scale)
    {
      double la = log10 (a), lb = log10 (b);
      double pad = MAX (lb - la, 0.5) * margin;
      *lo = MAX (pow (10.0, la - pad), LOG_AXIS_MIN);
      *hi = MAX (pow (10.0, lb + pad), 10 * LOG_AXIS_MIN);
      return;
    }
  if (b - a < 1e-12)
    {
      a -= 0.5;
      b += 0.5;
    }
  *lo = a - (b - a) * margin;
  *hi = b + (b - a) * margin;
}

static double
nice_step (double span,
           guint  max_ticks)
{
  double raw = span / MAX (max_ticks - 1, 1);
  double mag = pow (10.0, floor (log10 (raw)));
  double f = raw / mag;

  if (f <= 1)
    return mag;
  if (f <= 2)
    return 2 * mag;
  if (f <= 5)
    return 5 * mag;
  return 10 * mag;
}

/* Decades; within less than two decades, 1-2-5 (or 1..9) multiples as well. */
static guint
log_ticks (double  a,
           double  b,
           double *ticks,
           guint   max_ticks)
{
  static const double fine[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
  static const double coarse[] = { 1, 2, 5 };
  int e0, e1;
  guint n = 0;

  /* Log axes stop at 1e-300 (as axis values are mapped): below it, and at 0,
   * log10 is -inf or subnormal and the decade loops would run 2^31 times. */
  a = MAX (a, LOG_AXIS_MIN);
  if (!(b >= a))
    return 0;
  e0 = (int) floor (log10 (a));
  e1 = (int) floor (log10 (b) + 1e-9);

  if (e1 - e0 >= 2)
    {
      int stride = MAX (1, (e1 - e0 + (int) max_ticks) / (int) max_ticks);
      for (int e = (int) ceil (log10 (a) - 1e-9); e <= e1 && n < max_ticks; e += stride)
        ticks[n++] = pow (10.0, e);
      /* Two decade ticks leave the ends of the axis unlabelled: 1-2-5 then. */
      if (n >= 3)
        return n;
    }
  for (guint pass = 0; pass < 2 && n < 3; pass++)
    {
      const double *mult = pass == 0 ? coarse : fine;
      guint n_mult = pass == 0 ? G_N_ELEMENTS (coarse) : G_N_ELEMENTS (fine);

      n = 0;
      for (int e = e0; e <= e1; e++)
        for (guint m = 0; m < n_mult && n < max_ticks; m++)
          {
            double v = mult[m] * pow (10.0, e);
            if (v >= a * (1 - 1e-9) && v <= b * (1 + 1e-9))
              ticks[n++] = v;
          }
    }
  return n;
}

guint
epd_plot_ticks (double   lo,
                double   hi,
                gboolean log_scale,
                double  *ticks,
                guint    max_ticks)
{
  guint n = 0;
  double a = MIN (lo, hi), b = MAX (lo, hi);

  if (max_ticks == 0 || !isfinite (a) || !isfinite (b))
    return 0;
  if (log_scale)
    return log_ticks (a, b, ticks, max_ticks);
  if (b - a <= 0)
    return 0;
  double step = nice_step (b - a, max_ticks);
  for (double v = ceil (a / step - 1e-9) * step; v <= b + step * 1e-9 && n < max_ticks; v += step)
    ticks[n++] = fabs (v) < step * 1e-9 ? 0 : v;
  return n;
}

/* ---- style and text ---------------------------------------------------- */

typedef struct
{
  gboolean     dark;
  double       text_scale;
  PangoLayout *layout;  /* reused for every text drawn on this cairo_t */
} PlotStyle;

static const cairo_user_data_key_t style_key;

/* Light and dark inks: r, g, b, alpha. */
static const double inks[2][EPD_PLOT_N_INKS][4] = {
  { { 1, 1, 1, 1 }, { 0.96, 0.96, 0.97, 1 }, { 0.1, 0.1, 0.1, 1 }, { 0.25, 0.25, 0.25, 1 },
    { 0.3, 0.3, 0.3, 1 }, { 0, 0, 0, 0.08 }, { 1, 1, 1, 0.85 }, { 0.6, 0.1, 0.1, 1 } },
  { { 0.14, 0.14, 0.15, 1 }, { 0.2, 0.2, 0.22, 1 }, { 0.93, 0.93, 0.93, 1 }, { 0.78, 0.78, 0.78, 1 },
    { 0.62, 0.62, 0.62, 1 }, { 1, 1, 1, 0.1 }, { 0.1, 0.1, 0.11, 0.85 }, { 1, 0.55, 0.5, 1 } },
};

static void
plot_style_free (gpointer data)
{
  PlotStyle *style = data;

  g_clear_object (&style->layout);
  g_free (style);
}

static PlotStyle *
get_style (cairo_t *cr)
{
  PlotStyle *style = cairo_get_user_data (cr, &style_key);

  if (style == NULL)
    {
      style = g_new0 (PlotStyle, 1);
      style->text_scale = 1;
      cairo_set_user_data (cr, &style_key, style, plot_style_free);
    }
  return style;
}

void
epd_plot_set_style (cairo_t  *cr,
                    gboolean  dark,
                    double    text_scale)
{
  PlotStyle *style = get_style (cr);

  style->dark = dark;
  style->text_scale = text_scale > 0 && isfinite (text_scale) ? text_scale : 1;
}

gboolean
epd_plot_is_dark (cairo_t *cr)
{
  return get_style (cr)->dark;
}

void
epd_plot_set_ink (cairo_t    *cr,
                  EpdPlotInk  ink)
{
  const double *c = inks[get_style (cr)->dark ? 1 : 0][MIN (ink, EPD_PLOT_N_INKS - 1)];

  cairo_set_source_rgba (cr, c[0], c[1], c[2], c[3]);
}

/* The cairo_t's layout, set to text in the plot font at size (pixels). */
static PangoLayout *
text_layout (cairo_t    *cr,
             const char *text,
             double      size,
             gboolean    bold)
{
  PlotStyle *style = get_style (cr);
  g_autoptr(PangoFontDescription) font = pango_font_description_from_string (EPD_PLOT_FONT);

  if (style->layout == NULL)
    style->layout = pango_cairo_create_layout (cr);
  else
    pango_cairo_update_layout (cr, style->layout);
  pango_font_description_set_absolute_size (font, size * style->text_scale * PANGO_SCALE);
  pango_font_description_set_weight (font, bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_layout_set_font_description (style->layout, font);
  pango_layout_set_text (style->layout, text, -1);
  return style->layout;
}

void
epd_plot_show_text (cairo_t    *cr,
                    const char *text,
                    double      x,
                    double      y,
                    double      align_x,
                    double      align_y,
                    double      size,
                    gboolean    bold)
{
  PangoLayout *layout = text_layout (cr, text, size, bold);
  PangoRectangle ink, logical;

  pango_layout_get_pixel_extents (layout, &ink, &logical);
  cairo_move_to (cr, x - logical.width * align_x, y - logical.height * align_y);
  pango_cairo_show_layout (cr, layout);
}

void
epd_plot_show_text_baseline (cairo_t    *cr,
                             const char *text,
                             double      x,
                             double      baseline,
                             double      size,
                             gboolean    bold)
{
  PangoLayout *layout = text_layout (cr, text, size, bold);

  cairo_move_to (cr, x, baseline - pango_layout_get_baseline (layout) / (double) PANGO_SCALE);
  pango_cairo_show_layout (cr, layout);
}

double
epd_plot_text_width (cairo_t    *cr,
                     const char *text,
                     double      size,
                     gboolean    bold)
{
  PangoRectangle logical;

  pango_layout_get_pixel_extents (text_layout (cr, text, size, bold), NULL, &logical);
  return logical.width;
}

/* ---- tick labels --------------------------------------------------------- */

/* "2.5e+04" -> "2.5e4", "1e-03" -> "1e-3". */
static void
tidy_exponent (char *label)
{
  char *e = strchr (label, 'e');
  char *digits;

  if (e == NULL)
    return;
  digits = e + 1;
  if (*digits == '+')
    memmove (digits, digits + 1, strlen (digits));
  if (*digits == '-')
    digits++;
  while (digits[0] == '0' && digits[1] != '\0')
    memmove (digits, digits + 1, strlen (digits));
}

static gboolean
labels_distinct (char  (*labels)[EPD_PLOT_TICK_LABEL],
                 guint   n)
{
  for (guint i = 1; i < n; i++)
    if (strcmp (labels[i], labels[i - 1]) == 0)
      return FALSE;
  return TRUE;
}

void
epd_plot_format_ticks (const double  *ticks,
                       guint          n,
                       gboolean       log_scale,
                       char         (*labels)[EPD_PLOT_TICK_LABEL])
{
  double largest = 0, step = INFINITY;
  gboolean scientific = FALSE;
  int digits;

  for (guint i = 0; i < n; i++)
    {
      double a = fabs (ticks[i]);

      largest = MAX (largest, a);
      scientific |= a != 0 && (a < 1e-2 || a >= 1e4);
      if (i > 0)
        step = MIN (step, fabs (ticks[i] - ticks[i - 1]));
    }
  if (!isfinite (step) || step <= 0)
    step = largest > 0 ? largest : 1;
  /* Linear axes: as many digits as the step needs; log axes: as few as tell
   * the ticks apart. */
  if (log_scale)
    digits = 0;
  else if (scientific)
    digits = MAX (0, (int) floor (log10 (largest) + 1e-9) - (int) floor (log10 (step) + 1e-9));
  else
    digits = MAX (0, -(int) floor (log10 (step) + 1e-9));
  for (; digits <= 12; digits++)
    {
      for (guint i = 0; i < n; i++)
        {
          if (ticks[i] == 0 && (scientific || log_scale))
            g_strlcpy (labels[i], "0", EPD_PLOT_TICK_LABEL);
          else if (scientific)
            g_snprintf (labels[i], EPD_PLOT_TICK_LABEL, "%.*e", digits, ticks[i]);
          else if (log_scale)
            g_snprintf (labels[i], EPD_PLOT_TICK_LABEL, "%g", ticks[i]);
          else
            g_snprintf (labels[i], EPD_PLOT_TICK_LABEL, "%.*f", digits, ticks[i]);
          tidy_exponent (labels[i]);
        }
      if (labels_distinct (labels, n))
        return;
    }
}

guint
epd_plot_ticks_integer (double  lo,
                        double  hi,
                        double *ticks,
                        guint   max_ticks)
{
  double a = MIN (lo, hi), b = MAX (lo, hi), step;
  guint n = 0;

  if (max_ticks == 0 || !isfinite (a) || !isfinite (b))
    return 0;
  /* Nice steps of 1 and above (1, 2, 5, 10...) are whole numbers already. */
  step = MAX (1, nice_step (MAX (b - a, 1), max_ticks));
  for (double v = ceil (a / step - 1e-9) * step; v <= b + 1e-9 && n < max_ticks; v += step)
    ticks[n++] = fabs (v) < 0.5 ? 0 : round (v);  /* never "-0" */
  return n;
}

void
epd_plot_clear (cairo_t *cr,
                double   width,
                double   height)
{
  cairo_save (cr);
  epd_plot_set_ink (cr, EPD_PLOT_INK_BACKGROUND);
  cairo_rectangle (cr, 0, 0, width, height);
  cairo_fill (cr);
  cairo_restore (cr);
}

#define TICK_FONT 10
#define AXIS_TITLE_FONT 11
#define TITLE_FONT 12
#define LEGEND_FONT 10

static guint
axis_ticks (double    lo,
            double    hi,
            gboolean  log_scale,
            gboolean  integer,
            double   *ticks,
            guint     max_ticks)
{
  guint n;
  guint kept = 0;

  if (integer && !log_scale)
    return epd_plot_ticks_integer (lo, hi, ticks, max_ticks);
  n = epd_plot_ticks (lo, hi, log_scale, ticks, max_ticks);
  for (guint i = 0; i < n; i++)
    if (!integer || ticks[i] == round (ticks[i]))
      ticks[kept++] = ticks[i];
  return kept;
}

static void
draw_x_ticks (cairo_t               *cr,
              const EpdPlotViewport *vp)
{
  double ticks[12], px, py;
  char labels[12][EPD_PLOT_TICK_LABEL];
  guint n = axis_ticks (vp->x0, vp->x1, vp->log_x, vp->integer_x, ticks, 8);

  epd_plot_format_ticks (ticks, n, vp->log_x, labels);
  for (guint i = 0; i < n; i++)
    {
      epd_plot_viewport_to_pixel (vp, ticks[i], vp->y0, &px, &py);
      epd_plot_set_ink (cr, EPD_PLOT_INK_GRID);
      cairo_move_to (cr, round (px) + 0.5, vp->top);
      cairo_line_to (cr, round (px) + 0.5, vp->top + vp->height);
      cairo_stroke (cr);
      epd_plot_set_ink (cr, EPD_PLOT_INK_LABEL);
      epd_plot_show_text (cr, labels[i], px, vp->top + vp->height + 3, 0.5, 0, TICK_FONT, FALSE);
    }
}

static void
draw_y_ticks (cairo_t               *cr,
              const EpdPlotViewport *vp)
{
  double ticks[12], px, py;
  char labels[12][EPD_PLOT_TICK_LABEL];
  guint n = axis_ticks (vp->y0, vp->y1, vp->log_y, FALSE, ticks, 7);

  epd_plot_format_ticks (ticks, n, vp->log_y, labels);
  for (guint i = 0; i < n; i++)
    {
      epd_plot_viewport_to_pixel (vp, vp->x0, ticks[i], &px, &py);
      epd_plot_set_ink (cr, EPD_PLOT_INK_GRID);
      cairo_move_to (cr, vp->left, round (py) + 0.5);
      cairo_line_to (cr, vp->left + vp->width, round (py) + 0.5);
      cairo_stroke (cr);
      epd_plot_set_ink (cr, EPD_PLOT_INK_LABEL);
      epd_plot_show_text (cr, labels[i], vp->left - 5, py, 1, 0.5, TICK_FONT, FALSE);
    }
}

void
epd_plot_draw_axes (cairo_t               *cr,
                    const EpdPlotViewport *vp,
                    const char            *x_title,
                    const char            *y_title)
{
  cairo_save (cr);
  cairo_set_line_width (cr, 1);
  draw_x_ticks (cr, vp);
  draw_y_ticks (cr, vp);
  epd_plot_set_ink (cr, EPD_PLOT_INK_FRAME);
  cairo_rectangle (cr, round (vp->left) + 0.5, round (vp->top) + 0.5,
                   round (vp->width), round (vp->height));
  cairo_stroke (cr);
  epd_plot_set_ink (cr, EPD_PLOT_INK_LABEL);
  if (x_title != NULL)
    epd_plot_show_text (cr, x_title, vp->left + vp->width / 2, vp->top + vp->height + 19, 0.5, 0,
                        AXIS_TITLE_FONT, FALSE);
  if (y_title != NULL)
    {
      cairo_save (cr);
      cairo_translate (cr, vp->left - 48, vp->top + vp->height / 2);
      cairo_rotate (cr, -G_PI / 2);
      epd_plot_show_text (cr, y_title, 0, 0, 0.5, 0.5, AXIS_TITLE_FONT, FALSE);
      cairo_restore (cr);
    }
  cairo_restore (cr);
}

void
epd_plot_draw_title (cairo_t    *cr,
                     double      x,
                     double      y,
                     const char *title)
{
  cairo_save (cr);
  epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
  epd_plot_show_text (cr, title, x, y, 0, 0, TITLE_FONT, TRUE);
  cairo_restore (cr);
}

#define LEGEND_ROW 14.0

void
epd_plot_legend_rect (cairo_t               *cr,
                      const EpdPlotViewport *vp,
                      const char * const    *names,
                      guint                  n,
                      EpdPlotCorner          corner,
                      double                 rect[4])
{
  double width = 0, w, h;

  for (guint i = 0; i < n; i++)
    width = MAX (width, epd_plot_text_width (cr, names[i], LEGEND_FONT, FALSE));
  w = width + 28;
  h = n * LEGEND_ROW + 4;
  rect[0] = corner == EPD_PLOT_CORNER_TOP_LEFT || corner == EPD_PLOT_CORNER_BOTTOM_LEFT
            ? vp->left + 6 : vp->left + vp->width - w - 6;
  rect[1] = corner == EPD_PLOT_CORNER_TOP_LEFT || corner == EPD_PLOT_CORNER_TOP_RIGHT
            ? vp->top + 4 : vp->top + vp->height - h - 4;
  rect[2] = w;
  rect[3] = h;
}

void
epd_plot_draw_legend_at (cairo_t               *cr,
                         const EpdPlotViewport *vp,
                         const char * const    *names,
                         const guint           *colours,
                         guint                  n,
                         EpdPlotCorner          corner)
{
  double rect[4], x, y;

  if (n == 0)
    return;
  epd_plot_legend_rect (cr, vp, names, n, corner, rect);
  x = rect[0] + 4;
  y = rect[1] + 2;
  cairo_save (cr);
  epd_plot_set_ink (cr, EPD_PLOT_INK_BACKDROP);
  cairo_rectangle (cr, rect[0], rect[1], rect[2], rect[3]);
  cairo_fill (cr);
  for (guint i = 0; i < n; i++)
    {
      epd_plot_set_palette_colour (cr, colours[i], 1);
      cairo_rectangle (cr, x, y + i * LEGEND_ROW + 3, 14, 6);
      cairo_fill (cr);
      epd_plot_set_ink (cr, EPD_PLOT_INK_TEXT);
      epd_plot_show_text (cr, names[i], x + 20, y + i * LEGEND_ROW + 6, 0, 0.5, LEGEND_FONT, FALSE);
    }
  cairo_restore (cr);
}

void
epd_plot_draw_legend (cairo_t               *cr,
                      const EpdPlotViewport *vp,
                      const char * const    *names,
                      const guint           *colours,
                      guint                  n)
{
  epd_plot_draw_legend_at (cr, vp, names, colours, n, EPD_PLOT_CORNER_TOP_RIGHT);
}

void
epd_plot_draw_outside_note (cairo_t               *cr,
                            const EpdPlotViewport *vp,
                            gsize                  outside,
                            gsize                  n)
{
  g_autofree char *label = NULL;
  double width;

  if (outside == 0)
    return;
  label = g_strdup_printf ("%" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " outside the view", outside, n);
  cairo_save (cr);
  width = epd_plot_text_width (cr, label, LEGEND_FONT, FALSE);
  epd_plot_set_ink (cr, EPD_PLOT_INK_BACKDROP);
  cairo_rectangle (cr, vp->left + vp->width - width - 10, vp->top + vp->height - 18, width + 8, 16);
  cairo_fill (cr);
  epd_plot_set_ink (cr, EPD_PLOT_INK_WARNING);
  epd_plot_show_text_baseline (cr, label, vp->left + vp->width - width - 6, vp->top + vp->height - 6,
                               LEGEND_FONT, FALSE);
  cairo_restore (cr);
}

void
epd_plot_draw_arrow (cairo_t *cr,
                     double   x0,
                     double   y0,
                     double   x1,
                     double   y1,
                     double   head)
{
  double dx = x1 - x0, dy = y1 - y0;
  double len = hypot (dx, dy);

  cairo_move_to (cr, x0, y0);
  cairo_line_to (cr, x1, y1);
  cairo_stroke (cr);
  if (len < 1e-9)
    return;
  head = MIN (head, len * 0.6);
  dx /= len;
  dy /= len;
  cairo_move_to (cr, x1, y1);
  cairo_line_to (cr, x1 - head * dx + head * 0.45 * dy, y1 - head * dy - head * 0.45 * dx);
  cairo_line_to (cr, x1 - head * dx - head * 0.45 * dy, y1 - head * dy + head * 0.45 * dx);
  cairo_close_path (cr);
  cairo_fill (cr);
}

/* Okabe–Ito, readable by colour-blind people, minus its black and yellow. */
static const double palette[][3] = {
  { 0.000, 0.447, 0.698 },  /* blue */
  { 0.835, 0.369, 0.000 },  /* vermillion */
  { 0.000, 0.620, 0.451 },  /* bluish green */
  { 0.800, 0.475, 0.655 },  /* reddish purple */
  { 0.902, 0.624, 0.000 },  /* orange */
  { 0.337, 0.706, 0.914 },  /* sky blue */
  { 0.400, 0.400, 0.400 },  /* grey */
};

void
epd_plot_palette (guint   index,
                  double *r,
                  double *g,
                  double *b)
{
  const double *c = palette[index % G_N_ELEMENTS (palette)];

  *r = c[0];
  *g = c[1];
  *b = c[2];
}

void
epd_plot_set_palette_colour (cairo_t *cr,
                             guint    index,
                             double   alpha)
{
  double r, g, b;

  epd_plot_palette (index, &r, &g, &b);
  cairo_set_source_rgba (cr, r, g, b, alpha);
}

/* A few stops of a viridis-like map, interpolated linearly. */
static const double colormap_stops[][3] = {
  { 0.267, 0.005, 0.329 },
  { 0.231, 0.322, 0.545 },
  { 0.129, 0.569, 0.549 },
  { 0.369, 0.788, 0.384 },
  { 0.992, 0.906, 0.145 },
};

void
epd_plot_colormap (double  v,
                   double *r,
                   double *g,
                   double *b)
{
  guint last = G_N_ELEMENTS (colormap_stops) - 1;
  double s = CLAMP (isfinite (v) ? v : 0, 0, 1) * last;
  guint i = MIN ((guint) s, last - 1);
  double f = s - i;

  *r = colormap_stops[i][0] * (1 - f) + colormap_stops[i + 1][0] * f;
  *g = colormap_stops[i][1] * (1 - f) + colormap_stops[i + 1][1] * f;
  *b = colormap_stops[i][2] * (1 - f) + colormap_stops[i + 1][2] * f;
}

static cairo_status_t
append_to_array (void                *closure,
                 const unsigned char *data,
                 unsigned int         length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

/* The surface for a path's extension, writing into buffer (PDF/SVG) or NULL. */
static cairo_surface_t *
export_surface_new (const char *path,
                    double      width,
                    double      height,
                    double      scale,
                    GByteArray *buffer,
                    GError    **error)
{
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (g_str_has_suffix (lower, ".png"))
    return cairo_image_surface_create (CAIRO_FORMAT_ARGB32, (int) ceil (width * scale), (int) ceil (height * scale));
  if (g_str_has_suffix (lower, ".svg"))
    return cairo_svg_surface_create_for_stream (append_to_array, buffer, width, height);
  if (g_str_has_suffix (lower, ".pdf"))
    return cairo_pdf_surface_create_for_stream (append_to_array, buffer, width, height);
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "cannot export “%s”: the name must end in .png, .svg or .pdf", path);
  return NULL;
}

gboolean
epd_plot_export (const char      *path,
                 double           width,
                 double           height,
                 EpdPlotDrawFunc  draw,
                 gpointer         user_data,
                 GError         **error)
{
  return epd_plot_export_scaled (path, width, height, 1, draw, user_data, error);
}

/* The largest PNG side an export makes: cairo's image limit. */
#define EXPORT_MAX_PIXELS 32767

gboolean
epd_plot_export_scaled (const char      *path,
                        double           width,
                        double           height,
                        double           scale,
                        EpdPlotDrawFunc  draw,
                        gpointer         user_data,
                        GError         **error)
{
  g_autoptr(GByteArray) buffer = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_t *cr;
  cairo_status_t status;

  g_return_val_if_fail (path != NULL && draw != NULL, FALSE);
  if (!(scale > 0) || width * scale > EXPORT_MAX_PIXELS || height * scale > EXPORT_MAX_PIXELS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "cannot export “%s” at scale %g: images are at most %d pixels a side",
                   path, scale, EXPORT_MAX_PIXELS);
      return FALSE;
    }
  surface = export_surface_new (path, width, height, scale, buffer, error);
  if (surface == NULL)
    return FALSE;
  cr = cairo_create (surface);
  if (cairo_surface_get_type (surface) == CAIRO_SURFACE_TYPE_IMAGE)
    cairo_scale (cr, scale, scale);
  epd_plot_clear (cr, width, height);
  draw (cr, width, height, user_data);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (status == CAIRO_STATUS_SUCCESS && cairo_surface_get_type (surface) == CAIRO_SURFACE_TYPE_IMAGE)
    status = cairo_surface_write_to_png_stream (surface, append_to_array, buffer);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "cannot draw “%s”: %s",
                   path, cairo_status_to_string (status));
      return FALSE;
    }
  return epd_file_write_atomic (path, buffer->data, buffer->len, error);
}
