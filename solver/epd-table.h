/* SPDX-License-Identifier: MIT */
/* epd-table.h: EPD coefficient tables, their JSON format and the reference .npz. */
#pragma once

#include <json-glib/json-glib.h>

#include "epd-types.h"
#include "epd-schedule.h"

G_BEGIN_DECLS

#define EPD_TABLE_SCHEMA_VERSION 1

struct _EpdTable
{
  char        *solver;      /* "epd" or "epd-plugin" */
  guint        steps;       /* intervals: one row per step (the reference's num_steps - 1) */
  guint        n_points;    /* K */
  EpdSchedule  schedule;
  gboolean     afs;
  guint        max_order;   /* epd-plugin's iPNDM order, default 4 */
  double      *r;           /* [steps][n_points], each in (0, 1) */
  double      *weight;      /* [steps][n_points], rows on the simplex */
  double      *scale_dir;   /* [steps][n_points] or NULL (all 1) */
  double      *scale_time;  /* [steps][n_points] or NULL (all 1) */
  JsonObject  *metadata;    /* provenance: free-form, never NULL */
};

/* A uniform table: r evenly spread in (0,1), equal weights, no scales. */
EpdTable   *epd_table_new          (const char      *solver,
                                    guint            steps,
                                    guint            n_points);
/* A boxed type, so signals and properties can carry tables. */
#define EPD_TYPE_TABLE (epd_table_get_type ())
GType       epd_table_get_type     (void) G_GNUC_CONST;
EpdTable   *epd_table_copy         (const EpdTable  *self);
/* The same without the metadata (an empty object): for the many short-lived
 * tables of a training loop, whose provenance (a loss curve of thousands of
 * points) would otherwise be deep-copied each time. */
EpdTable   *epd_table_copy_bare    (const EpdTable  *self);
void        epd_table_free         (EpdTable        *self);
gboolean    epd_table_equal        (const EpdTable  *a,
                                    const EpdTable  *b);
/* Shapes, NaN/Inf, r in (0,1), weights on the simplex (1e-6), scales > 0. */
gboolean    epd_table_validate     (const EpdTable  *self,
                                    GError         **error);

/* Load by content: a zip (.npz) or JSON (ours, or the reference's form with
 * num_steps = grid points); a name ending in .npz is read as a zip whatever
 * its content. Regular files of at most EPD_FILE_MAX_JSON (epd-file.h) only.
 * "builtin:NAME" loads a shipped table (see epd_table_builtin_names()).
 * Validated; errors name the file. */
EpdTable   *epd_table_load         (const char      *path,
                                    GError         **error);
/* Our schema (it has "schema_version") or the reference's JSON form
 * (num_steps, num_points, schedule_type, schedule_rho, afs, r, weight; other
 * members become metadata). Validated. */
EpdTable   *epd_table_from_json    (JsonNode        *node,
                                    GError         **error);
JsonNode   *epd_table_to_json      (const EpdTable  *self);
EpdTable   *epd_table_from_npz_bytes (GBytes        *bytes,
                                      GError       **error);
GBytes     *epd_table_to_npz_bytes (const EpdTable  *self,
                                    GError         **error);
/* Atomic writes (epd_file_write_atomic). Format by extension: .npz, else JSON. */
gboolean    epd_table_save         (const EpdTable  *self,
                                    const char      *path,
                                    GError         **error);

/* Shipped tables live in GResources under this path as NAME.json; the data
 * library registers them (link it to have any). */
#define EPD_TABLE_BUILTIN_RESOURCE_PATH "/org/epd-studio/data/tables/"
#define EPD_TABLE_BUILTIN_PREFIX        "builtin:"
/* Sorted names of the registered builtin tables (g_strfreev()). */
char      **epd_table_builtin_names (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EpdTable, epd_table_free)

G_END_DECLS
