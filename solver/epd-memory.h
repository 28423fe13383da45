/* SPDX-License-Identifier: MIT
 * epd-memory.h: a memory budget for what a command is about to allocate.
 *
 * GLib aborts when an allocation fails, so sizes that come from the user
 * (--batch 2147483647, --train 1e8) are checked against a budget first and
 * refused with a GError that names the limit. */
#pragma once

#include "epd-types.h"

G_BEGIN_DECLS

/* Bytes: $EPD_MEMORY_LIMIT (a number of bytes, or with a K, M, G or T
 * suffix) when set, else the machine's physical memory. */
guint64   epd_memory_budget      (void);
/* what (e.g. "--batch 1000000") needs count items of item_bytes each. */
gboolean  epd_memory_check       (const char  *what,
                                  guint64      count,
                                  guint64      item_bytes,
                                  GError     **error);
/* A solve of batch samples of dim values with K parallel points holds, at
 * its peak, about 2 K + 10 arrays of batch x dim doubles (latents, state,
 * derivatives, history and the K points with their directions). */
gboolean  epd_memory_check_solve (const char  *what,
                                  guint64      batch,
                                  guint64      dim,
                                  guint        n_points,
                                  GError     **error);

G_END_DECLS
