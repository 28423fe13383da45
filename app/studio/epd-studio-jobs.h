/* SPDX-License-Identifier: MIT */
/* epd-studio-jobs.h: the studio's background jobs, so that quitting can stop them.
 *
 * A worker thread still inside OpenBLAS when main returns deadlocks OpenBLAS's
 * exit handler (it joins its own threads, one of which waits forever). So every
 * GTask the studio starts registers its cancellable here, and the application's
 * shutdown cancels them all and runs the main loop until their callbacks ran. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A job started with cancellable (not NULL); cancelled at once after shutdown began. */
void     epd_studio_jobs_add             (GCancellable *cancellable);
/* Its callback ran: call once per epd_studio_jobs_add, on every path. */
void     epd_studio_jobs_remove          (GCancellable *cancellable);
guint    epd_studio_jobs_n_running       (void);
/* Cancels every job and iterates the default main context until all have
 * returned or timeout_ms passed; FALSE when some are still running. */
gboolean epd_studio_jobs_cancel_and_wait (guint         timeout_ms);

G_END_DECLS
