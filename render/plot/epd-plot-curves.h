/* SPDX-License-Identifier: MIT */
/* epd-plot-curves.h: training curves (loss, reward, KL) over iterations.
 * An EpdCurveLog is a table of named numeric columns, one row per iteration,
 * filled live from progress records or read from a JSON-lines log in the
 * reference RDPO trainer's format (NaN allowed for unused fields). */
#pragma once

#include <json-glib/json-glib.h>

#include "epd-plot-lines.h"

G_BEGIN_DECLS

typedef struct _EpdCurveLog EpdCurveLog;

EpdCurveLog  *epd_curve_log_new          (void);
void          epd_curve_log_free         (EpdCurveLog       *self);
guint         epd_curve_log_n_rows       (const EpdCurveLog *self);
/* The column called name ([n_rows] values, NaN where a row lacked it), or NULL. */
const double *epd_curve_log_column       (const EpdCurveLog *self,
                                          const char        *name);
/* Adds one row: every numeric member of object (null counts as NaN). */
void          epd_curve_log_append       (EpdCurveLog       *self,
                                          JsonObject        *object);
/* One JSON object per line; bare NaN / Infinity tokens are accepted. Lines
 * nested deeper than EPD_JSON_MAX_DEPTH, files over 256 MiB and anything
 * but a regular file are refused with a GError. */
EpdCurveLog  *epd_curve_log_load_jsonl   (const char        *path,
                                          GError           **error);
EpdCurveLog  *epd_curve_log_parse_jsonl  (const char        *text,
                                          gsize              length,
                                          const char        *name,
                                          GError           **error);

/* One panel per column in names that exists (x = "step" if present, else the
 * row index; rows where the column is missing or NaN are skipped): the raw
 * values faint, a running mean over `smooth` rows solid (dense columns only).
 * A positive loss or error spanning more than a decade gets a log axis. */
void          epd_curve_plot_draw        (cairo_t             *cr,
                                          double               width,
                                          double               height,
                                          const EpdCurveLog   *log,
                                          const char * const  *names,
                                          guint                smooth);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdCurveLog, epd_curve_log_free)

G_END_DECLS
