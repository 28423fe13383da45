/* SPDX-License-Identifier: MIT
 *
 * epd-edit-bench.h: `epd-studio --bench-edits=N`, the edit-to-frame timing. */
#pragma once

#include "epd-window.h"

G_BEGIN_DECLS

/* After the first solve, n weight edits one after another, each waiting for
 * its frame; prints the edit-to-frame latencies (epd-studio-timing) and quits
 * the application, with exit status 1 if it did not finish in time. */
void epd_edit_bench_run (EpdWindow *window,
                         guint      n);

G_END_DECLS
