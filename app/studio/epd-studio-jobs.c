/* SPDX-License-Identifier: MIT */
/* epd-studio-jobs.c: cancel every background job on quit, and wait for them. */
#include "epd-studio-jobs.h"

/* Main thread only: jobs are added where they start and removed in their callbacks. */
static GPtrArray *jobs;       /* GCancellable, one entry per running job */
static gboolean   stopping;

void
epd_studio_jobs_add (GCancellable *cancellable)
{
  g_return_if_fail (G_IS_CANCELLABLE (cancellable));
  if (jobs == NULL)
    jobs = g_ptr_array_new_with_free_func (g_object_unref);
  g_ptr_array_add (jobs, g_object_ref (cancellable));
  /* A callback that starts a follow-up job during shutdown gets it stopped. */
  if (stopping)
    g_cancellable_cancel (cancellable);
}

void
epd_studio_jobs_remove (GCancellable *cancellable)
{
  if (jobs == NULL || !g_ptr_array_remove (jobs, cancellable))
    g_warning ("epd_studio_jobs_remove: %p is not a running job", (void *) cancellable);
}

guint
epd_studio_jobs_n_running (void)
{
  return jobs != NULL ? jobs->len : 0;
}

static gboolean
deadline_passed (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

gboolean
epd_studio_jobs_cancel_and_wait (guint timeout_ms)
{
  gboolean timed_out = FALSE;
  guint timeout_id;

  stopping = TRUE;
  for (guint i = 0; i < epd_studio_jobs_n_running (); i++)
    g_cancellable_cancel (jobs->pdata[i]);
  timeout_id = g_timeout_add (timeout_ms, deadline_passed, &timed_out);
  while (epd_studio_jobs_n_running () > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  return epd_studio_jobs_n_running () == 0;
}
