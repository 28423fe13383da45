/* SPDX-License-Identifier: MIT
 *
 * epd-edit-bench.c: n coefficient edits, each after the previous one's frame. */
#include "epd-edit-bench.h"

#include "epd-application.h"
#include "epd-coef-editor.h"
#include "epd-studio-timing.h"
#include "epd-window-private.h"

#define BENCH_TIMEOUT_S 120
/* Lets the frame with a result draw before the next edit. */
#define BENCH_FRAME_MS 60

typedef struct
{
  EpdWindow *window;
  guint      remaining;
  gulong     solved_id;
  guint      timeout_id;
  guint      edit_id;
} EditBench;

static void
bench_finish (EditBench  *bench,
              const char *failure)
{
  GtkApplication *app = gtk_window_get_application (GTK_WINDOW (bench->window));

  g_clear_handle_id (&bench->timeout_id, g_source_remove);
  g_clear_handle_id (&bench->edit_id, g_source_remove);
  g_clear_signal_handler (&bench->solved_id, bench->window);
  if (failure != NULL)
    g_printerr ("epd-studio: edit benchmark: %s\n", failure);
  epd_studio_timing_summary ();
  epd_application_set_exit_status (EPD_APPLICATION (app), failure != NULL ? 1 : 0);
  g_object_unref (bench->window);
  g_free (bench);
  g_application_quit (G_APPLICATION (app));
}

static gboolean
bench_timeout (gpointer user_data)
{
  EditBench *bench = user_data;

  bench->timeout_id = 0;
  bench_finish (bench, "timed out");
  return G_SOURCE_REMOVE;
}

static gboolean
bench_edit (gpointer user_data)
{
  EditBench *bench = user_data;

  bench->edit_id = 0;
  bench->remaining--;
  /* Alternate so that every edit changes the solve. */
  epd_coef_editor_edit_weight (EPD_COEF_EDITOR (bench->window->coef_editor), 0, 0,
                               bench->remaining % 2 ? 0.3 : 0.7);
  return G_SOURCE_REMOVE;
}

static void
bench_solved (EpdWindow *window,
              EditBench *bench)
{
  if (bench->remaining > 0)
    bench->edit_id = g_timeout_add (BENCH_FRAME_MS, bench_edit, bench);
  else
    bench_finish (bench, NULL);
}

void
epd_edit_bench_run (EpdWindow *window,
                    guint      n)
{
  EditBench *bench = g_new0 (EditBench, 1);

  epd_studio_timing_enable ();
  bench->window = g_object_ref (window);
  bench->remaining = n;
  bench->solved_id = g_signal_connect (window, "solved", G_CALLBACK (bench_solved), bench);
  bench->timeout_id = g_timeout_add_seconds (BENCH_TIMEOUT_S, bench_timeout, bench);
  /* A solve may already be on screen. */
  if (window->result != NULL && window->result->teacher != NULL)
    bench_solved (window, bench);
}
