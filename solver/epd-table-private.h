/* SPDX-License-Identifier: MIT */
/* epd-table-private.h: helpers shared by the table's formats (JSON, NPZ). */
#pragma once

#include "epd-table.h"

G_BEGIN_DECLS

/* The reference's spelling of the grid size: grid points = steps + 1. */
#define EPD_TABLE_REF_NUM_STEPS  "num_steps"
#define EPD_TABLE_REF_NUM_POINTS "num_points"

/* The largest tables either format reads. */
#define EPD_TABLE_MAX_STEPS  100000u
#define EPD_TABLE_MAX_POINTS 1024u

/* A table of this shape with zeroed r and weight, no scales, the default
 * polynomial schedule and empty metadata. */
EpdTable  *epd_table_alloc              (const char   *solver,
                                         guint         steps,
                                         guint         n_points);
/* The schedule of a reference table's schedule_type. The reference names
 * only "flowmatch"; its backend ("flux" or "sd3") picks the preset. */
gboolean   epd_table_reference_schedule (const char   *type,
                                         double        rho,
                                         const char   *backend,
                                         EpdSchedule  *schedule,
                                         GError      **error);

G_END_DECLS
