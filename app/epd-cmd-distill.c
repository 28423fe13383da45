/* epd-cmd-distill.c: `epd distill`, Stage 1: distil an EPD table from the teacher. */
#include <math.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-cli.h"
#include "data/epd-model.h"
#include "solver/epd-distill.h"

typedef struct
{
  char              *model;
  char              *device;
  char              *out;
  char              *init;
  int                steps;
  int                points;
  gboolean           afs;
  gboolean           plugin;
  int                max_order;
  double             scale_dir;
  double             scale_time;
  int                n_train;
  int                n_val;
  int                batch;
  int                iters;
  double             lr;
  double             lr_final;
  int                seed;
  double             rtol;
  EpdCliScheduleArgs schedule;
} DistillArgs;

static void
distill_args_clear (DistillArgs *a)
{
  g_free (a->model);
  g_free (a->device);
  g_free (a->out);
  g_free (a->init);
  epd_cli_schedule_args_clear (&a->schedule);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DistillArgs, distill_args_clear)

/* What the progress printer and the interrupt poller share with the worker. */
typedef struct
{
  GMainLoop    *loop;
  GCancellable *cancellable;
  gboolean      tty;
  gboolean      line_open;
  gint64        last_print_us;
  EpdTable     *table;
  GError       *error;
} DistillRun;

static void
print_progress (const EpdDistillProgress *p,
                gpointer                  user_data)
{
  DistillRun *run = user_data;
  gint64 now = g_get_monotonic_time ();
  gboolean last = p->iteration == p->iterations;
  g_autofree char *left = p->remaining_s >= 0 ? g_strdup_printf ("%.1f s", p->remaining_s) : g_strdup ("?");

  if (g_str_equal (p->phase, "teacher"))
    {
      g_printerr ("epd: solving the teacher trajectories...\n");
      return;
    }
  /* A tty gets one line updated in place (at most 10 times a second); a log
   * gets about 20 lines. */
  if (!last && run->tty && now - run->last_print_us < 100000)
    return;
  if (!last && !run->tty && p->iteration % MAX (1, p->iterations / 20) != 0)
    return;
  run->last_print_us = now;
  g_printerr ("%siter %u/%u  loss %.4e  val %.4e (best %.4e)  elapsed %.1f s  left %s%s",
              run->tty ? "\r" : "", p->iteration, p->iterations, p->loss, p->val_error,
              p->best_val_error, p->elapsed_s, left, run->tty ? "\033[K" : "\n");
  run->line_open = run->tty;
}

static gboolean
poll_interrupt (gpointer user_data)
{
  DistillRun *run = user_data;

  if (epd_cli_interrupted () && !g_cancellable_is_cancelled (run->cancellable))
    g_cancellable_cancel (run->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
on_distilled (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  DistillRun *run = user_data;

  run->table = epd_distill_run_finish (result, &run->error);
  g_main_loop_quit (run->loop);
}

static gboolean
options_from_args (const DistillArgs *a,
                   const EpdTable    *init,
                   EpdDistillOptions *o,
                   GError           **error)
{
  epd_distill_options_init (o);
  if (a->steps < 1 || a->points < 1 || a->n_train < 1 || a->n_val < 1 || a->batch < 0 ||
      a->iters < 0 || a->seed < 0 || a->max_order < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--steps, --points, --train, --val and --max-order must be positive; "
                   "--batch, --iters and --seed must not be negative");
      return FALSE;
    }
  o->solver = a->plugin ? EPD_SOLVER_EPD_PLUGIN : EPD_SOLVER_EPD;
  o->steps = a->steps;
  o->n_points = a->points;
  o->afs = a->afs;
  o->max_order = a->max_order;
  o->scale_dir_range = a->scale_dir;
  o->scale_time_range = a->scale_time;
  o->n_train = a->n_train;
  o->n_val = a->n_val;
  o->batch = a->batch;
  o->iterations = a->iters;
  o->learning_rate = a->lr;
  o->lr_final = isnan (a->lr_final) ? MIN (o->lr_final, a->lr) : a->lr_final;
  o->train_seed = a->seed;
  o->val_seed = (guint32) a->seed + 1;
  o->teacher_rtol = a->rtol;
  o->model_spec = a->model;
  o->init = init;
  if (!epd_cli_schedule_resolve (&a->schedule, &o->schedule, error))
    return FALSE;
  return epd_distill_options_validate (o, error);
}

static GOptionContext *
distill_context (DistillArgs *a)
{
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &a->model, "model spec (default " EPD_DEFAULT_MODEL ")", "SPEC" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &a->steps, "grid intervals (default 4)", "N" },
    { "points", 'K', 0, G_OPTION_ARG_INT, &a->points, "parallel points per step (default 2)", "K" },
    { "afs", 0, 0, G_OPTION_ARG_NONE, &a->afs, "analytical first step (saves one evaluation)", NULL },
    { "plugin", 0, 0, G_OPTION_ARG_NONE, &a->plugin, "distil EPD-Plugin (iPNDM predictor)", NULL },
    { "max-order", 0, 0, G_OPTION_ARG_INT, &a->max_order, "EPD-Plugin's iPNDM order 1..4 (default 4)", "M" },
    { "scale-dir", 0, 0, G_OPTION_ARG_DOUBLE, &a->scale_dir, "scale_dir range s in [0,1) (0 disables)", "S" },
    { "scale-time", 0, 0, G_OPTION_ARG_DOUBLE, &a->scale_time, "scale_time range s in [0,1) (0 disables)", "S" },
    { "train", 0, 0, G_OPTION_ARG_INT, &a->n_train, "training noises (default 32)", "B" },
    { "val", 0, 0, G_OPTION_ARG_INT, &a->n_val, "validation noises (default 32)", "B" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &a->batch, "noises per iteration (default: all)", "B" },
    { "iters", 0, 0, G_OPTION_ARG_INT, &a->iters, "Adam iterations (default 2000)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->lr, "peak learning rate (default 0.2)", "X" },
    { "lr-final", 0, 0, G_OPTION_ARG_DOUBLE, &a->lr_final, "learning rate at the end of the cosine (default 0.001)", "X" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &a->seed, "training seed S; validation uses S+1 (default 0)", "S" },
    { "teacher-rtol", 0, 0, G_OPTION_ARG_DOUBLE, &a->rtol, "teacher tolerance (default 1e-6)", "X" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &a->device, "auto, cpu, vulkan, INDEX or NAME (default auto)", "D" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &a->init, "start from this table (default: the uniform table)", "TABLE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out, "output table (.json or .npz), written atomically", "TABLE" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("- distil an EPD coefficient table");

  a->steps = 4;
  a->points = 2;
  a->max_order = 4;
  a->n_train = 32;
  a->n_val = 32;
  a->iters = 2000;
  a->lr = 0.2;
  a->lr_final = NAN;
  a->rtol = 1e-6;
  g_option_context_set_summary (context,
    "Fits r, weight (and scale_dir, scale_time) step by step to the adaptive teacher's\n"
    "states at the grid's times, with the student on its own trajectory (Adam, cosine\n"
    "learning rate). Ctrl-C stops early and writes the best table so far.");
  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_add_group (context, epd_cli_schedule_group (&a->schedule));
  return context;
}

/* Runs the distillation in a worker thread while this thread watches for Ctrl-C. */
static void
distill_in_thread (EpdDenoiser             *denoiser,
                   const EpdDistillOptions *o,
                   DistillRun              *run)
{
  guint poll_id;

  run->loop = g_main_loop_new (NULL, FALSE);
  run->cancellable = g_cancellable_new ();
  run->tty = isatty (STDERR_FILENO);
  epd_cli_catch_interrupt ();
  poll_id = g_timeout_add (100, poll_interrupt, run);
  epd_distill_run_async (denoiser, o, print_progress, run, run->cancellable, on_distilled, run);
  g_main_loop_run (run->loop);
  g_source_remove (poll_id);
  if (run->line_open)
    g_printerr ("\n");
}

static void
print_summary (const EpdTable *table,
               const char     *path)
{
  JsonObject *m = table->metadata;
  JsonArray *per_step = json_object_get_array_member (m, "val_error_per_step");

  g_print ("wrote %s: %s, %u steps, K = %u%s\n", path, table->solver, table->steps,
           table->n_points, table->afs ? ", AFS" : "");
  g_print ("validation error (mean L2 to the teacher's final samples): start %.6g -> best %.6g "
           "(best at iteration %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT ")\n",
           json_object_get_double_member (m, "val_error_initial"),
           json_object_get_double_member (m, "val_error"),
           json_object_get_int_member (m, "best_iteration"),
           json_object_get_int_member (m, "iterations_done"));
  g_print ("per step:");
  for (guint i = 0; i < json_array_get_length (per_step); i++)
    g_print (" %.4g", json_array_get_double_element (per_step, i));
  g_print ("\nwall time %.2f s\n", json_object_get_double_member (m, "wall_time_s"));
}

/* Fails before a long run rather than after it when the table cannot be written. */
static gboolean
check_out_dir (const char *out,
               GError    **error)
{
  g_autofree char *dir = g_path_get_dirname (out);

  if (g_file_test (dir, G_FILE_TEST_IS_DIR) && g_access (dir, W_OK) == 0)
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_IO,
               "cannot write the table to %s: folder %s does not exist or is not writable", out, dir);
  return FALSE;
}

int
epd_cmd_distill (int    argc,
                 char **argv)
{
  g_auto(DistillArgs) a = { 0 };
  g_autoptr(GOptionContext) context = distill_context (&a);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) denoiser = NULL;
  g_autoptr(EpdTable) table = NULL;
  g_autoptr(EpdTable) init = NULL;
  DistillRun run = { 0 };
  EpdDistillOptions o;
  gboolean cancelled;

  if (!epd_cli_parse (context, &argc, &argv, &error))
    return epd_cli_fail (error);
  if (a.out == NULL)
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "--out TABLE is required");
      return epd_cli_fail (error);
    }
  if (!check_out_dir (a.out, &error))
    return epd_cli_fail (error);
  if (a.model == NULL)
    a.model = g_strdup (EPD_DEFAULT_MODEL);
  if (a.init != NULL && (init = epd_table_load (a.init, &error)) == NULL)
    return epd_cli_fail (error);
  if (!options_from_args (&a, init, &o, &error))
    return epd_cli_fail (error);
  denoiser = epd_cli_open_model (a.model, a.device, &error);
  if (denoiser == NULL)
    return epd_cli_fail (error);

  distill_in_thread (denoiser, &o, &run);
  cancelled = g_cancellable_is_cancelled (run.cancellable);
  table = run.table;
  g_main_loop_unref (run.loop);
  g_object_unref (run.cancellable);
  if (table == NULL)
    {
      if (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&run.error, "interrupted before any table was trained, nothing written: ");
      error = run.error;
      return epd_cli_fail (error);
    }
  if (!epd_table_save (table, a.out, &error))
    return epd_cli_fail (error);
  print_summary (table, a.out);
  if (cancelled)
    {
      g_printerr ("epd: interrupted: wrote the best table so far (after %" G_GINT64_FORMAT
                  " of %u iterations) to %s\n",
                  json_object_get_int_member (table->metadata, "iterations_done"), o.iterations, a.out);
      return 130;
    }
  return 0;
}
