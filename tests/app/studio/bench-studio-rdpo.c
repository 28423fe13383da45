/* SPDX-License-Identifier: MIT
 *
 * bench-studio-rdpo.c: RDPO iterations per second in the studio's training
 * panel, headless under Xvfb (a benchmark, not a test: scripts/bench-cpu-path
 * runs it). The panel trains gmm:ring8 from builtin:ring8-epd-nfe5 with its
 * live curves, exactly as a click on "RDPO (Stage 2)" does; the figure is the
 * iterations over the wall time from the click to the run's end.
 *   xvfb-run -a bench-studio-rdpo [ITERATIONS] */
#include <stdio.h>
#include <stdlib.h>

#include "epd-model-open.h"
#include "epd-training-panel.h"

static struct
{
  GtkWidget *rdpo;
  GtkWidget *spin;
  gint64     start_us;
  guint      iterations;
  gboolean   done;
} bench;

/* The RDPO button and the iterations spin button, by widget walk. */
static void
find_controls (GtkWidget *widget)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_SPIN_BUTTON (child))
        bench.spin = child;
      else if (GTK_IS_BUTTON (child) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (child)), "RDPO (Stage 2)") == 0)
        bench.rdpo = child;
      else
        find_controls (child);
    }
}

static gboolean
poll_done (gpointer data)
{
  double seconds;

  if (!gtk_widget_get_sensitive (bench.rdpo))
    return G_SOURCE_CONTINUE;
  seconds = (g_get_monotonic_time () - bench.start_us) / 1e6;
  printf ("studio RDPO: %u iterations in %.3f s: %.1f iterations/s\n", bench.iterations, seconds,
          bench.iterations / seconds);
  bench.done = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
click (gpointer data)
{
  bench.start_us = g_get_monotonic_time ();
  g_signal_emit_by_name (bench.rdpo, "clicked");
  g_timeout_add (5, poll_done, NULL);
  return G_SOURCE_REMOVE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = NULL;
  g_autoptr(EpdTable) table = NULL;
  EpdSolveOptions options;
  GtkWidget *window, *panel;

  gtk_init ();
  bench.iterations = argc > 1 ? (guint) atoi (argv[1]) : 500;
  if ((model = epd_model_open ("gmm:ring8", "cpu", NULL, &error)) == NULL ||
      (table = epd_table_load ("builtin:ring8-epd-nfe5", &error)) == NULL)
    {
      fprintf (stderr, "bench-studio-rdpo: %s\n", error->message);
      return 1;
    }
  epd_solve_options_init (&options);
  options.solver = EPD_SOLVER_EPD;
  options.steps = table->steps;
  options.afs = table->afs;
  options.schedule = table->schedule;
  window = gtk_window_new ();
  panel = epd_training_panel_new ();
  gtk_window_set_child (GTK_WINDOW (window), panel);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 500);
  epd_training_panel_set_context (EPD_TRAINING_PANEL (panel), model, "gmm:ring8", &options, table);
  find_controls (panel);
  if (bench.rdpo == NULL || bench.spin == NULL)
    {
      fprintf (stderr, "bench-studio-rdpo: the panel has no RDPO button or iterations field\n");
      return 1;
    }
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (bench.spin), bench.iterations);
  gtk_window_present (GTK_WINDOW (window));
  g_timeout_add (200, click, NULL);
  while (!bench.done)
    g_main_context_iteration (NULL, TRUE);
  gtk_window_destroy (GTK_WINDOW (window));
  return 0;
}
