/* SPDX-License-Identifier: MIT */
/* epd-cmd-distill.c: `epd distill`, Stage 1: distil an EPD table from the teacher. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-cli.h"
#include "epd-distill-options.h"
#include "epd-model.h"
#include "epd-distill.h"

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
  int                seed;
  EpdCliDistillArgs  train;
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

#define DEFAULT_TEXT(x) "(default " G_STRINGIFY (x) ")"

static gboolean
parse_loss (const char *name,
            const char *value,
            gpointer    data,
            GError    **error)
{
  EpdCliDistillArgs *a = data;

  if (g_str_equal (value, "l2"))
    a->loss = EPD_DISTILL_LOSS_L2;
  else if (g_str_equal (value, "squared"))
    a->loss = EPD_DISTILL_LOSS_SQUARED;
  else
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "%s: '%s' is not a loss (l2 or squared)", name, value);
      return FALSE;
    }
  return TRUE;
}

GOptionGroup *
epd_cli_distill_group (EpdCliDistillArgs  *a,
                       const GOptionEntry *command_entries)
{
  const GOptionEntry entries[] = {
    { "train", 0, 0, G_OPTION_ARG_INT, &a->n_train,
      "training noises " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_N_TRAIN), "B" },
    { "val", 0, 0, G_OPTION_ARG_INT, &a->n_val,
      "validation noises " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_N_VAL), "B" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &a->batch, "noises per iteration (default: all)", "B" },
    { "iters", 0, 0, G_OPTION_ARG_INT, &a->iters,
      "Adam iterations " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_ITERATIONS), "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->lr,
      "peak learning rate " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_LR), "X" },
    { "lr-final", 0, 0, G_OPTION_ARG_DOUBLE, &a->lr_final,
      "learning rate at the end of the cosine " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_LR_FINAL)
      ", or --lr if lower", "X" },
    { "max-order", 0, 0, G_OPTION_ARG_INT, &a->max_order,
      "EPD-Plugin's iPNDM order 1..4 " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_MAX_ORDER), "M" },
    { "scale-dir", 0, 0, G_OPTION_ARG_DOUBLE, &a->scale_dir,
      "scale_dir range s in [0,1), 0 disables " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_SCALE_DIR), "S" },
    { "scale-time", 0, 0, G_OPTION_ARG_DOUBLE, &a->scale_time,
      "scale_time range s in [0,1), 0 disables " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_SCALE_TIME), "S" },
    { "teacher-rtol", 0, 0, G_OPTION_ARG_DOUBLE, &a->rtol,
      "teacher tolerance " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_RTOL), "X" },
    { "teacher-heun", 0, 0, G_OPTION_ARG_INT, &a->teacher_heun,
      "teacher: Heun with M times between grid times (the paper's teacher: 3); 0, the default, "
      "is the adaptive teacher at --teacher-rtol", "M" },
    { "loss", 0, 0, G_OPTION_ARG_CALLBACK, parse_loss,
      "per-step loss: l2 (the distance) or squared " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_LOSS_NAME), "LOSS" },
    { "final-iters", 0, 0, G_OPTION_ARG_INT, &a->final_iters,
      "final stage: Adam iterations on the final error, 0 skips it (default "
      G_STRINGIFY (EPD_DISTILL_DEFAULT_FINAL_ITERATIONS) " on models of dimension up to "
      G_STRINGIFY (EPD_DISTILL_FINAL_AUTO_MAX_DIM) ", else 0)", "N" },
    { "final-train", 0, 0, G_OPTION_ARG_INT, &a->final_train,
      "final stage: training noises " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_FINAL_N_TRAIN), "B" },
    { "final-batch", 0, 0, G_OPTION_ARG_INT, &a->final_batch,
      "final stage: noises per iteration " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_FINAL_BATCH)
      ", or --final-train if fewer", "B" },
    { "final-lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->final_lr,
      "final stage: peak learning rate " DEFAULT_TEXT (EPD_DISTILL_DEFAULT_FINAL_LR), "X" },
    { "final-patience", 0, 0, G_OPTION_ARG_INT, &a->final_patience,
      "final stage: stop after this many validations without a new best "
      DEFAULT_TEXT (EPD_DISTILL_DEFAULT_FINAL_PATIENCE), "N" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &a->threads,
      "threads for the final stage's central differences and, on small models, the grid "
      "search; the same table for any count (default 0: the processors the load average leaves free)", "N" },
    { NULL }
  };
  GOptionGroup *group = g_option_group_new (NULL, NULL, NULL, a, NULL);
  EpdDistillOptions o;

  epd_distill_options_init (&o);
  *a = (EpdCliDistillArgs) {
    .n_train = o.n_train, .n_val = o.n_val, .batch = o.batch, .iters = o.iterations,
    .max_order = o.max_order, .lr = o.learning_rate, .lr_final = NAN,
    .scale_dir = o.scale_dir_range, .scale_time = o.scale_time_range, .rtol = o.teacher_rtol,
    .loss = o.loss, .final_iters = -1, .final_train = o.final_n_train,
    .final_batch = o.final_batch, .final_lr = o.final_lr, .final_patience = o.final_patience,
  };
  if (command_entries != NULL)
    g_option_group_add_entries (group, command_entries);
  g_option_group_add_entries (group, entries);
  return group;
}

gboolean
epd_cli_distill_apply (const EpdCliDistillArgs *a,
                       EpdDistillOptions       *o,
                       GError                 **error)
{
  if (a->n_train < 1 || a->n_val < 1 || a->max_order < 1 || a->batch < 0 || a->iters < 0 ||
      a->final_iters < -1 || a->final_train < 1 || a->final_batch < 1 || a->final_patience < 1 ||
      a->threads < 0 ||
      a->teacher_heun < 0 || a->teacher_heun > EPD_DISTILL_MAX_TEACHER_HEUN)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--train, --val, --max-order, --final-train, --final-batch and --final-patience "
                   "must be positive; "
                   "--batch, --iters, --final-iters and --threads must not be negative; "
                   "--teacher-heun lies in [0, " G_STRINGIFY (EPD_DISTILL_MAX_TEACHER_HEUN) "]");
      return FALSE;
    }
  o->n_train = a->n_train;
  o->n_val = a->n_val;
  o->batch = a->batch;
  o->iterations = a->iters;
  o->max_order = a->max_order;
  o->learning_rate = a->lr;
  /* Unset, lr-final follows a peak rate set below it. */
  o->lr_final = isnan (a->lr_final) ? MIN (EPD_DISTILL_DEFAULT_LR_FINAL, a->lr) : a->lr_final;
  o->scale_dir_range = a->scale_dir;
  o->scale_time_range = a->scale_time;
  o->teacher_rtol = a->rtol;
  o->teacher_heun_m = (guint) a->teacher_heun;
  o->loss = a->loss;
  /* -1: not given, by the model's dimension. */
  o->final_iterations = a->final_iters < 0 ? EPD_DISTILL_FINAL_AUTO : (guint) a->final_iters;
  o->final_n_train = a->final_train;
  /* A smaller training set is its own batch. */
  o->final_batch = MIN (a->final_batch, a->final_train);
  o->final_lr = a->final_lr;
  o->final_patience = a->final_patience;
  o->threads = (guint) a->threads;
  return TRUE;
}

char *
epd_cli_command_line (int    argc,
                      char **argv)
{
  /* argv[0] is "epd NAME", already readable. */
  GString *line = g_string_new (argc > 0 ? argv[0] : "epd");

  for (int i = 1; i < argc; i++)
    {
      g_autofree char *quoted = g_shell_quote (argv[i]);
      const char *arg = strpbrk (argv[i], " \t\n'\"\\$`*?[]{}()<>|&;#~!") || argv[i][0] == '\0' ?
                        quoted : argv[i];

      g_string_append_c (line, ' ');
      g_string_append (line, arg);
    }
  return g_string_free (line, FALSE);
}

/* What the progress printer shares with the worker. */
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
  g_printerr ("%s%s %u/%u  loss %.4e  val %.4e (best %.4e)  elapsed %.1f s  left %s%s",
              run->tty ? "\r" : "", g_str_equal (p->phase, "final") ? "final" : "iter",
              p->iteration, p->iterations, p->loss, p->val_error,
              p->best_val_error, p->elapsed_s, left, run->tty ? "\033[K" : "\n");
  run->line_open = run->tty;
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
  if (a->steps < 1 || a->points < 1 || a->seed < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--steps and --points must be positive and --seed must not be negative");
      return FALSE;
    }
  if (!epd_cli_distill_apply (&a->train, o, error))
    return FALSE;
  o->solver = a->plugin ? EPD_SOLVER_EPD_PLUGIN : EPD_SOLVER_EPD;
  o->steps = a->steps;
  o->n_points = a->points;
  o->afs = a->afs;
  o->train_seed = a->seed;
  o->val_seed = (guint32) a->seed + 1;
  o->model_spec = a->model;
  o->init = init;
  if (!epd_cli_schedule_resolve (&a->schedule, &o->schedule, error))
    return FALSE;
  /* Without a grid or a start table from the user, the grid is chosen on validation. */
  o->search_schedule = a->schedule.schedule == NULL && isnan (a->schedule.rho) && init == NULL;
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
    { "seed", 0, 0, G_OPTION_ARG_INT, &a->seed, "training seed S; validation uses S+1 (default 0)", "S" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &a->device, "auto, cpu, vulkan, INDEX or NAME (default auto)", "D" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &a->init, "start from this table (default: the uniform table)", "TABLE" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out, "output table (.json or .npz), written atomically", "TABLE" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("- distil an EPD coefficient table");

  a->steps = 4;
  a->points = 2;
  g_option_context_set_main_group (context, epd_cli_distill_group (&a->train, entries));
  g_option_context_set_summary (context,
    "Two stages. Step-wise (the paper's loss): fits r, weight (and scale_dir, scale_time)\n"
    "step by step to the adaptive teacher's states at the grid's times, with the student on\n"
    "its own trajectory (Adam, cosine learning rate). Final: from the step-wise stage's best\n"
    "table, Adam on the mean L2 error of the final samples over --final-train noises\n"
    "(central-difference gradients), validated every " G_STRINGIFY (EPD_DISTILL_FINAL_VAL_EVERY)
    " iterations and stopped after\n" G_STRINGIFY (EPD_DISTILL_DEFAULT_FINAL_PATIENCE)
    " validations without a new best. The table written is the one with the lowest\n"
    "validation error (--val noises) over both stages. Without --schedule, --rho or --init,\n"
    "the step-wise stage runs on the polynomial, log-SNR and time-uniform grids and the\n"
    "final stage on the one with the lowest validation error. Ctrl-C stops early and\n"
    "writes the best table so far.");
  g_option_context_add_group (context, epd_cli_schedule_group (&a->schedule));
  return context;
}

/* Runs the distillation in a worker thread while this thread watches for Ctrl-C. */
static void
distill_in_thread (EpdDenoiser             *denoiser,
                   const EpdDistillOptions *o,
                   DistillRun              *run)
{
  run->loop = g_main_loop_new (NULL, FALSE);
  run->cancellable = g_cancellable_new ();
  run->tty = isatty (STDERR_FILENO);
  epd_cli_catch_interrupt (run->cancellable);
  epd_distill_run_async (denoiser, o, print_progress, run, run->cancellable, on_distilled, run);
  g_main_loop_run (run->loop);
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
           "(best at %s iteration %" G_GINT64_FORMAT ")\n",
           json_object_get_double_member (m, "val_error_initial"),
           json_object_get_double_member (m, "val_error"),
           json_object_get_string_member_with_default (m, "best_stage", "step-wise"),
           json_object_get_int_member (m, "best_iteration"));
  g_print ("step-wise stage on the %s grid: %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " iterations\n",
           epd_schedule_kind_to_string (table->schedule.kind),
           json_object_get_int_member (m, "iterations_done"),
           json_object_get_int_member (m, "iterations"));
  if (json_object_has_member (m, "final_stage"))
    {
      JsonObject *f = json_object_get_object_member (m, "final_stage");

      g_print ("final stage (final error, %" G_GINT64_FORMAT " noises): validation %.6g -> %.6g "
               "after %" G_GINT64_FORMAT " of %" G_GINT64_FORMAT " iterations%s\n",
               json_object_get_int_member (f, "n_train"),
               json_object_get_double_member (f, "val_error_start"),
               json_object_get_double_member (m, "val_error"),
               json_object_get_int_member (f, "iterations_done"),
               json_object_get_int_member (f, "iterations"),
               json_object_get_boolean_member (f, "stopped_early") ? " (stopped early)" : "");
    }
  g_print ("per step:");
  for (guint i = 0; i < json_array_get_length (per_step); i++)
    g_print (" %.4g", json_array_get_double_element (per_step, i));
  g_print ("\nwall time %.2f s\n", json_object_get_double_member (m, "wall_time_s"));
}


int
epd_cmd_distill (int    argc,
                 char **argv)
{
  g_auto(DistillArgs) a = { 0 };
  g_autoptr(GOptionContext) context = distill_context (&a);
  g_autofree char *command = epd_cli_command_line (argc, argv);
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
  /* Before a long run rather than after it (a folder, a link, a read-only folder). */
  if (!epd_cli_check_output ("--out", a.out, NULL, &error))
    return epd_cli_fail (error);
  if (a.model == NULL)
    a.model = g_strdup (EPD_DEFAULT_MODEL);
  if (a.init != NULL && (init = epd_table_load (a.init, &error)) == NULL)
    return epd_cli_fail (error);
  if (!options_from_args (&a, init, &o, &error))
    return epd_cli_fail (error);
  denoiser = epd_cli_open_model (a.model, a.device, &error);
  if (denoiser == NULL ||
      (init == NULL && !epd_cli_schedule_fit_model (&a.schedule, denoiser, &o.schedule, &error)))
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
  json_object_set_string_member (table->metadata, "command", command);
  if (!epd_table_save (table, a.out, &error))
    return epd_cli_fail (error);
  print_summary (table, a.out);
  if (json_object_get_int_member (table->metadata, "invalid_validations") > 0)
    g_printerr ("epd: warning: %" G_GINT64_FORMAT " validations met a table with non-finite "
                "coefficients; %s holds the best valid table\n",
                json_object_get_int_member (table->metadata, "invalid_validations"), a.out);
  if (cancelled)
    {
      g_printerr ("epd: interrupted: wrote the best table so far (after %" G_GINT64_FORMAT
                  " of %u iterations) to %s\n",
                  json_object_get_int_member (table->metadata, "iterations_done"), o.iterations, a.out);
      return 130;
    }
  return 0;
}
