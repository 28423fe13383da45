/* SPDX-License-Identifier: MIT
 *
 * test-studio-widgets.c: the studio's widgets one at a time under Xvfb
 * (tests/app/studio/meson.build): a distilled table that validates worse
 * than the table it would replace is offered, not applied, with both errors;
 * "Apply anyway" applies it; a better one is applied at once. */
#include <math.h>
#include <string.h>
#include <glib/gstdio.h>

#include "epd-test-widget.h"
#include "epd-app-policy.h"
#include "epd-coef-editor.h"
#include "epd-compare-view.h"
#include "epd-trajectory-view.h"
#include "epd-model.h"
#include "epd-plot-coef.h"
#include "epd-studio-jobs.h"
#include "epd-training-panel.h"
#include "epd-window-private.h"

#define WAIT_S 60

static gboolean
keep_going (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
iterate_until_idle (void)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  /* Wakes the loop up, so that the deadline is seen. */
  guint tick = g_timeout_add (100, keep_going, NULL);

  while (epd_studio_jobs_n_running () > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (epd_studio_jobs_n_running (), ==, 0);
}

static gboolean
stop_waiting (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for ms milliseconds: frames are drawn, animations end. */
static void
run_for_ms (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, stop_waiting, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs the main loop for a few frames, so that view draws. */
static void
draw_now (GtkWidget *view)
{
  gtk_widget_queue_draw (view);
  run_for_ms (300);
}

static void
keep_table (EpdTrainingPanel *panel,
            const EpdTable   *table,
            EpdTable        **out)
{
  g_clear_pointer (out, epd_table_free);
  *out = epd_table_copy (table);
}

typedef struct
{
  GtkWidget        *window;
  EpdTrainingPanel *panel;
  EpdDenoiser      *model;
  EpdTable         *ready;    /* what "table-ready" handed over */
  const char       *spec;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->spec = data;
  f->model = epd_model_from_spec (f->spec, &error);
  g_assert_no_error (error);
  f->window = gtk_window_new ();
  gtk_window_set_default_size (GTK_WINDOW (f->window), 900, 420);
  f->panel = EPD_TRAINING_PANEL (epd_training_panel_new ());
  gtk_window_set_child (GTK_WINDOW (f->window), GTK_WIDGET (f->panel));
  g_signal_connect (f->panel, "table-ready", G_CALLBACK (keep_table), &f->ready);
  gtk_window_present (GTK_WINDOW (f->window));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_clear_object (&f->model);
  g_clear_pointer (&f->ready, epd_table_free);
}

/* Distils for solver on table's grid, from table where it has that solver. */
static void
distil_from (Fixture        *f,
             EpdSolverKind   solver,
             const EpdTable *table,
             guint           iterations)
{
  EpdSolveOptions options;
  GtkWidget *spin = epd_test_find_widget (GTK_WIDGET (f->panel), GTK_TYPE_SPIN_BUTTON, NULL);
  GtkWidget *button = epd_test_find_widget (GTK_WIDGET (f->panel), GTK_TYPE_BUTTON, "Distil (Stage 1)");

  epd_solve_options_init (&options);
  options.solver = solver;
  options.steps = table->steps;
  options.schedule = table->schedule;
  options.afs = table->afs;
  epd_training_panel_set_context (f->panel, f->model, f->spec, &options, table);
  /* The first spin button is distillation's iterations. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), iterations);
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  iterate_until_idle ();
}

/* On a 300-dimensional mixture (no final stage: distillation's own rule
 * skips it above 256 dimensions), from the uniform table: a run improves it
 * and is applied at once. A short run from that result finds nothing better
 * (distillation validates its start first and keeps it): nothing is handed
 * over and Compare's result is the start itself. EPD-Plugin (a new start, the
 * uniform table) after 5 iterations validates worse than the EPD table it
 * would replace: it is offered, not applied, with both errors, and "Apply
 * anyway" applies it. */
static void
test_distil_offers_worse (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(EpdTable) uniform = epd_table_new ("epd", 3, 2);
  g_autoptr(EpdTable) improved = NULL;
  g_autoptr(EpdTable) kept = NULL;
  const EpdTable *offered, *start, *result;
  double result_val, replaced_val;

  uniform->afs = TRUE;
  distil_from (f, EPD_SOLVER_EPD, uniform, 100);
  g_assert_null (epd_training_panel_get_offer (f->panel, NULL, NULL));
  g_assert_nonnull (f->ready);
  g_assert_false (epd_table_equal (f->ready, uniform));
  improved = g_steal_pointer (&f->ready);

  distil_from (f, EPD_SOLVER_EPD, improved, 5);
  g_assert_null (f->ready);
  g_assert_null (epd_training_panel_get_offer (f->panel, NULL, NULL));
  g_assert_true (epd_training_panel_get_before_after (f->panel, &start, &result));
  g_assert_true (epd_table_equal (start, improved));
  g_assert_true (epd_table_equal (result, start));

  distil_from (f, EPD_SOLVER_EPD_PLUGIN, improved, 5);
  offered = epd_training_panel_get_offer (f->panel, &result_val, &replaced_val);
  g_test_message ("EPD-Plugin, 5 iterations: validation %.5g against the EPD table's %.5g", result_val,
                  replaced_val);
  g_assert_nonnull (offered);
  g_assert_cmpfloat (result_val, >, replaced_val);
  g_assert_null (f->ready);
  /* The offer is on screen (its bar revealed). */
  run_for_ms (300);
  g_assert_true (gtk_widget_get_mapped (epd_test_find_widget (GTK_WIDGET (f->panel), GTK_TYPE_BUTTON, "Apply anyway")));
  g_assert_true (epd_training_panel_get_before_after (f->panel, &start, &result));
  g_assert_true (epd_table_equal (result, offered));
  g_assert_cmpstr (result->solver, ==, "epd-plugin");
  kept = epd_table_copy (offered);
  gtk_info_bar_response (GTK_INFO_BAR (epd_test_find_widget (GTK_WIDGET (f->panel), GTK_TYPE_INFO_BAR, NULL)),
                         GTK_RESPONSE_ACCEPT);
  g_assert_nonnull (f->ready);
  g_assert_true (epd_table_equal (f->ready, kept));
  g_assert_null (epd_training_panel_get_offer (f->panel, NULL, NULL));
}

/* ---- the window --------------------------------------------------------- */

/* Runs the main loop until the window shows a solve with its teacher and
 * nothing is queued or running. */
static void
wait_solved (EpdWindow *window)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_S * G_USEC_PER_SEC;
  /* Wakes the loop up, so that the deadline is seen. */
  guint tick = g_timeout_add (100, keep_going, NULL);

  while ((window->result == NULL || window->result->teacher == NULL || window->solve_idle_id != 0 ||
          epd_window_is_busy (window)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (tick);
  g_assert_nonnull (window->result);
  g_assert_false (epd_window_is_busy (window));
}

static guint
latency_nfe (EpdWindow *window)
{
  EpdSolveOptions options;

  epd_window_read_options (window, &options);
  return epd_solve_options_nfe (&options).latency;
}

static EpdWindow *
window_new (void)
{
  EpdWindow *window = EPD_WINDOW (epd_window_new (NULL));

  gtk_window_present (GTK_WINDOW (window));
  wait_solved (window);
  return window;
}

/* A new solver keeps the latency NFE: EPD's 3 steps (NFE 5 with AFS) become
 * Euler's 6, Heun's 3, and EPD's 3 again with its shipped table. */
static void
test_solver_keeps_nfe (void)
{
  EpdWindow *window = window_new ();
  guint steps = 0;

  g_assert_cmpuint (latency_nfe (window), ==, 5);
  g_object_set (window, "solver", "euler", NULL);
  g_object_get (window, "steps", &steps, NULL);
  g_assert_cmpuint (steps, ==, 6);
  g_assert_cmpuint (latency_nfe (window), ==, 5);
  g_object_set (window, "solver", "heun", NULL);
  g_object_get (window, "steps", &steps, NULL);
  g_assert_cmpuint (steps, ==, 3);
  g_object_set (window, "solver", "epd", NULL);
  wait_solved (window);
  g_assert_cmpuint (latency_nfe (window), ==, 5);
  g_assert_cmpstr (window->table_name, ==, "builtin:ring8-epd-nfe5");
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Steps where no table was made say so and offer to distil one; the offer
 * distils from the uniform table and applies the result. */
static void
test_steps_offer_distil (void)
{
  EpdWindow *window = window_new ();
  const char *label;

  g_object_set (window, "steps", 4, NULL);
  wait_solved (window);
  label = gtk_label_get_text (GTK_LABEL (window->table_label));
  g_test_message ("4 steps: %s; button: %s", label, gtk_button_get_label (GTK_BUTTON (window->table_button)));
  g_assert_nonnull (strstr (label, "no shipped table fits"));
  g_assert_true (gtk_widget_get_visible (window->table_button));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (window->table_button)), ==, "Distil a table for these settings");
  /* A short run: its first spin button is distillation's iterations. */
  gtk_spin_button_set_value (GTK_SPIN_BUTTON (epd_test_find_widget (window->training_panel, GTK_TYPE_SPIN_BUTTON, NULL)), 20);
  g_signal_emit_by_name (window->table_button, "clicked");
  g_assert_cmpint (gtk_notebook_get_current_page (GTK_NOTEBOOK (window->notebook)), ==, 4);
  g_assert_cmpuint (epd_studio_jobs_n_running (), >, 0);
  iterate_until_idle ();
  wait_solved (window);
  g_test_message ("after distilling: %s", gtk_label_get_text (GTK_LABEL (window->table_label)));
  g_assert_cmpstr (window->table_name, ==, "trained in the Training view");
  g_assert_cmpuint (epd_coef_editor_get_table (EPD_COEF_EDITOR (window->coef_editor))->steps, ==, 4);
  g_assert_false (gtk_widget_get_visible (window->table_button));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* ---- the coefficient editor ------------------------------------------ */

static GtkGesture *
find_drag (GtkWidget *area)
{
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (area);

  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);
      if (GTK_IS_GESTURE_DRAG (controller))
        return GTK_GESTURE (controller);
    }
  return NULL;
}

/* A drag of several motions is one undo step; a click that changes nothing
 * is none. */
static void
test_drag_is_one_undo_step (void)
{
  GtkWidget *window = gtk_window_new ();
  EpdCoefEditor *editor = EPD_COEF_EDITOR (epd_coef_editor_new ());
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) shipped = epd_table_load ("builtin:ring8-epd-nfe5", &error);
  GtkWidget *area;
  GtkGesture *drag;
  EpdCoefLayout layout;
  double x, y, bar_width, bar_height, px, py;
  gboolean can_undo = TRUE;

  g_assert_no_error (error);
  gtk_window_set_default_size (GTK_WINDOW (window), 900, 600);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (editor));
  epd_coef_editor_set_table (editor, shipped, FALSE);
  gtk_window_present (GTK_WINDOW (window));
  area = epd_test_find_widget (GTK_WIDGET (editor), GTK_TYPE_DRAWING_AREA, NULL);
  while (gtk_widget_get_width (area) == 0)
    g_main_context_iteration (NULL, TRUE);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  drag = find_drag (area);
  g_assert_nonnull (drag);
  epd_coef_layout_compute (&layout, shipped->steps, shipped->n_points, gtk_widget_get_width (area),
                           gtk_widget_get_height (area));

  /* A click on step 2's first marker: no change, no undo step. */
  epd_coef_layout_position (&layout, 1, 0, shipped->r[2], &px, &py);
  g_signal_emit_by_name (drag, "drag-begin", px, py);
  g_signal_emit_by_name (drag, "drag-end", 0.0, 0.0);
  g_object_get (editor, "can-undo", &can_undo, NULL);
  g_assert_false (can_undo);
  g_assert_true (epd_table_equal (epd_coef_editor_get_table (editor), shipped));

  /* Step 1's first weight bar dragged in three motions. */
  epd_coef_layout_bar (&layout, 0, 0, shipped->weight[0], &x, &y, &bar_width, &bar_height);
  g_signal_emit_by_name (drag, "drag-begin", x + bar_width / 2, y + 1);
  for (guint i = 1; i <= 3; i++)
    g_signal_emit_by_name (drag, "drag-update", 0.0, 10.0 * i);
  g_signal_emit_by_name (drag, "drag-end", 0.0, 30.0);
  g_object_get (editor, "can-undo", &can_undo, NULL);
  g_assert_true (can_undo);
  g_test_message ("weight dragged from %.4f to %.4f", shipped->weight[0], epd_coef_editor_get_table (editor)->weight[0]);
  g_assert_cmpfloat (epd_coef_editor_get_table (editor)->weight[0], <, shipped->weight[0]);
  epd_coef_editor_undo (editor);
  g_assert_true (epd_table_equal (epd_coef_editor_get_table (editor), shipped));
  g_object_get (editor, "can-undo", &can_undo, NULL);
  g_assert_false (can_undo);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The table label says "edited" after an edit, and no longer once saved; a
 * PNG export at scale 2 has twice the pixels. */
static void
test_saved_is_not_edited (void)
{
  EpdWindow *window = window_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("epd-studio-widgets-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "mine.json", NULL);

  g_assert_no_error (error);
  epd_coef_editor_edit_weight (EPD_COEF_EDITOR (window->coef_editor), 0, 0, 0.8);
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (window->table_label)), ", edited"));
  g_assert_true (epd_window_save_table (window, path, &error));
  g_assert_no_error (error);
  g_test_message ("saved: %s", gtk_label_get_text (GTK_LABEL (window->table_label)));
  g_assert_null (strstr (gtk_label_get_text (GTK_LABEL (window->table_label)), "edited"));
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (window->table_label)), "mine.json"));
  /* A further edit shows again. */
  epd_coef_editor_edit_weight (EPD_COEF_EDITOR (window->coef_editor), 0, 0, 0.7);
  g_assert_nonnull (strstr (gtk_label_get_text (GTK_LABEL (window->table_label)), ", edited"));
  /* A PNG export at scale 2 has twice the page's pixels a side. */
  {
    g_autofree char *png = g_build_filename (dir, "view.png", NULL);
    GtkWidget *page = gtk_notebook_get_nth_page (GTK_NOTEBOOK (window->notebook), 0);
    cairo_surface_t *surface;

    g_assert_true (epd_window_export_view_scaled (window, png, 2, &error));
    g_assert_no_error (error);
    surface = cairo_image_surface_create_from_png (png);
    g_test_message ("page %dx%d, PNG at scale 2: %dx%d", gtk_widget_get_width (page), gtk_widget_get_height (page),
                    cairo_image_surface_get_width (surface), cairo_image_surface_get_height (surface));
    g_assert_cmpint (cairo_image_surface_get_width (surface), ==, 2 * MAX (gtk_widget_get_width (page), 640));
    g_assert_cmpint (cairo_image_surface_get_height (surface), ==, 2 * MAX (gtk_widget_get_height (page), 420));
    cairo_surface_destroy (surface);
    g_remove (png);
  }
  g_remove (path);
  g_rmdir (dir);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Compare shows its progress while it runs, and column A reuses the
 * window's teacher rather than solving it again (minutes on a UNet). */
static void
test_compare_reuses_teacher (void)
{
  EpdWindow *window = window_new ();
  EpdCompareView *view = EPD_COMPARE_VIEW (window->compare_view);
  GtkWidget *bar = epd_test_find_widget (window->compare_view, GTK_TYPE_PROGRESS_BAR, NULL);
  const EpdSolveResult *a;

  gtk_notebook_set_current_page (GTK_NOTEBOOK (window->notebook), 3);
  g_assert_true (epd_compare_view_is_running (view));
  g_assert_true (gtk_widget_get_visible (bar));
  iterate_until_idle ();
  g_assert_false (epd_compare_view_is_running (view));
  g_assert_false (gtk_widget_get_visible (bar));
  a = epd_compare_view_get_result (view, 0, NULL);
  g_assert_nonnull (a);
  g_assert_true (a->teacher == window->teacher);
  g_assert_true (epd_compare_view_get_result (view, 1, NULL)->teacher == window->teacher);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* The window fits 1024x640: its minimum size (which is set) is within it,
 * and every page's too, so none is clipped; Compare's drawing keeps a legible
 * minimum and scrolls below it. */
static void
test_fits_1024x640 (void)
{
  EpdWindow *window = window_new ();
  GtkNotebook *notebook = GTK_NOTEBOOK (window->notebook);
  GtkWidget *paned = gtk_widget_get_ancestor (window->notebook, GTK_TYPE_PANED);
  int min_width, min_height, request_width, request_height, sidebar;

  gtk_widget_get_size_request (GTK_WIDGET (window), &request_width, &request_height);
  g_assert_cmpint (request_width, >, 0);
  g_assert_cmpint (request_height, >, 0);
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_HORIZONTAL, -1, &min_width, NULL, NULL, NULL);
  gtk_widget_measure (GTK_WIDGET (window), GTK_ORIENTATION_VERTICAL, min_width, &min_height, NULL, NULL, NULL);
  /* The paned may squeeze the notebook below its minimum: that is the clipping. */
  gtk_widget_measure (gtk_paned_get_start_child (GTK_PANED (paned)), GTK_ORIENTATION_HORIZONTAL, -1, &sidebar,
                      NULL, NULL, NULL);
  g_test_message ("window: size request %dx%d, minimum %dx%d, sidebar %d", request_width, request_height,
                  min_width, min_height, sidebar);
  for (int i = 0; i < gtk_notebook_get_n_pages (notebook); i++)
    {
      int page_width, page_height;
      GtkWidget *page = gtk_notebook_get_nth_page (notebook, i);

      gtk_widget_measure (page, GTK_ORIENTATION_HORIZONTAL, -1, &page_width, NULL, NULL, NULL);
      gtk_widget_measure (page, GTK_ORIENTATION_VERTICAL, -1, &page_height, NULL, NULL, NULL);
      g_test_message ("page %d: minimum %dx%d", i + 1, page_width, page_height);
      g_assert_cmpint (sidebar + page_width, <=, 1024 - 20);
    }
  g_assert_cmpint (min_width, <=, 1024);
  g_assert_cmpint (min_height, <=, 640);
  g_assert_true (GTK_IS_SCROLLED_WINDOW (gtk_widget_get_parent (gtk_widget_get_parent (window->compare_view))));
  gtk_window_destroy (GTK_WINDOW (window));
}

/* How many of the shown result's final samples lie inside view's range. */
static gsize
count_inside (EpdWindow *window,
              GtkWidget *view)
{
  const EpdPlotViewport *vp = epd_trajectory_view_get_viewport (EPD_TRAJECTORY_VIEW (view));
  const EpdTrace *trace = window->result->trace;
  gsize inside = 0;

  for (gsize i = 0; i < trace->batch; i++)
    {
      double x = trace->x_final[i * trace->dim], y = trace->x_final[i * trace->dim + 1];
      inside += x >= vp->x0 && x <= vp->x1 && y >= vp->y0 && y <= vp->y1;
    }
  return inside;
}

/* Heun at NFE 5 ends far from the teacher: the view still holds most of its
 * samples, and Fit all of them. */
static void
test_fit_holds_samples (void)
{
  EpdWindow *window = window_new ();
  gsize batch;

  g_object_set (window, "solver", "heun", NULL);
  wait_solved (window);
  batch = window->result->trace->batch;
  draw_now (window->trajectory_view);
  g_test_message ("Heun at NFE %u: %zu of %zu final samples in view", latency_nfe (window),
                  (size_t) count_inside (window, window->trajectory_view), (size_t) batch);
  g_assert_cmpuint (2 * count_inside (window, window->trajectory_view), >=, batch);
  epd_trajectory_view_reset_zoom (EPD_TRAJECTORY_VIEW (window->trajectory_view));
  draw_now (window->trajectory_view);
  g_assert_cmpuint (count_inside (window, window->trajectory_view), ==, batch);
  gtk_window_destroy (GTK_WINDOW (window));
}

/* Compare's defaults for the shipped learned model: A the edited table (the
 * distilled NFE-5 table the window starts with), B its RDPO table; on the
 * ring, which has no RDPO table, B is the distilled one. The tables' own
 * grids are used: they are retrained under the same names. */
static void
test_compare_default_b (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (EPD_DEFAULT_MODEL, &error);
  EpdCompareView *view = EPD_COMPARE_VIEW (g_object_ref_sink (epd_compare_view_new ()));
  const char *specs[] = { "unet:fashion-mnist", EPD_DEFAULT_MODEL };
  const char *tables[] = { "builtin:fashion-mnist-epd-nfe5", "builtin:ring8-epd-nfe5" };
  const char *want_b[] = { "builtin:fashion-mnist-epd-nfe5-rdpo", "builtin:ring8-epd-nfe5" };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      g_autoptr(EpdTable) table = epd_table_load (tables[i], &error);
      EpdSolveOptions options;

      g_assert_no_error (error);
      epd_solve_options_init (&options);
      g_assert_true (epd_solver_kind_from_string (table->solver, &options.solver, NULL));
      options.steps = table->steps;
      options.schedule = table->schedule;
      options.afs = table->afs;
      epd_compare_view_set_context (view, model, specs[i], NULL, &options, table, 0, 16);
      g_test_message ("%s: A %s, B %s", specs[i], epd_compare_view_get_source (view, 0),
                      epd_compare_view_get_source (view, 1));
      g_assert_cmpstr (epd_compare_view_get_source (view, 0), ==, "edited table");
      g_assert_cmpstr (epd_compare_view_get_source (view, 1), ==, want_b[i]);
    }
  g_object_unref (view);
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  gtk_test_init (&argc, &argv, NULL);
  /* GTK warns about a missing session bus under Xvfb; criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_test_add ("/studio/training/distil-offers-worse", Fixture, "gmm:hd:300", fixture_set_up,
              test_distil_offers_worse, fixture_tear_down);
  g_test_add_func ("/studio/window/solver-keeps-nfe", test_solver_keeps_nfe);
  g_test_add_func ("/studio/window/steps-offer-distil", test_steps_offer_distil);
  g_test_add_func ("/studio/editor/drag-is-one-undo-step", test_drag_is_one_undo_step);
  g_test_add_func ("/studio/window/saved-is-not-edited", test_saved_is_not_edited);
  g_test_add_func ("/studio/window/compare-reuses-teacher", test_compare_reuses_teacher);
  g_test_add_func ("/studio/window/fits-1024x640", test_fits_1024x640);
  g_test_add_func ("/studio/window/fit-holds-samples", test_fit_holds_samples);
  g_test_add_func ("/studio/compare/default-b", test_compare_default_b);
  return g_test_run ();
}
