/* SPDX-License-Identifier: MIT */
/* epd-cmd-rdpo.c: `epd rdpo`, Stage 2: improve a table for a reward with RDPO. */
#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "epd-cli.h"
#include "epd-distill-options.h"
#include "epd-model.h"
#include "epd-rdpo.h"
#include "epd-rdpo-auto.h"
#include "epd-file.h"
#include "epd-json.h"

typedef struct
{
  char     *model;
  char     *device;
  char     *init;
  char     *reward;
  char     *out;
  char     *log;
  char     *resume;
  char     *checkpoint;
  int       checkpoint_every;
  int       iters;
  int       group;
  int       batch;
  int       latents;
  int       epochs;
  double    concentration;
  double    lr;
  double    weight_decay;
  double    kl_coef;
  double    entropy_coef;
  double    clip;
  double    max_grad_norm;
  int       seed;
  gboolean  unconstrained;
  gboolean  allow_coverage_loss;
  gboolean  mlp;
  int       mlp_hidden;
  int       val_every;
  int       val_seeds;
  int       val_latents;
  int       val_seed;
  double    timeout;
} RdpoArgs;

static void
rdpo_args_clear (RdpoArgs *a)
{
  g_free (a->model);
  g_free (a->device);
  g_free (a->init);
  g_free (a->reward);
  g_free (a->out);
  g_free (a->log);
  g_free (a->resume);
  g_free (a->checkpoint);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RdpoArgs, rdpo_args_clear)

/* What the progress printer and the log writer share. */
typedef struct
{
  GMainLoop    *loop;
  GCancellable *cancellable;
  const char   *log_path;
  FILE         *log_file;
  GError       *log_error;
  guint         iters;
  gboolean      tty;
  gboolean      line_open;
  gint64        last_print_us;
  double        best_val;
  gboolean      ok;
  GError       *error;
} RdpoRun;

#define CLI_DEFAULT_KL_COEF 0.2

static void
rdpo_args_defaults (RdpoArgs *a)
{
  EpdRdpoOptions o;

  epd_rdpo_options_init (&o);
  a->iters = o.iters;
  /* 0: chosen by the warm-up (epd-rdpo-auto.h). */
  a->group = 0;
  a->batch = 0;
  a->latents = 0;
  a->epochs = o.epochs;
  a->concentration = o.policy.concentration;
  a->lr = o.lr;
  a->weight_decay = o.weight_decay;
  /* Not the reference trainer's 0.05 (the library's default): with the warm-up's
   * sizes, 0.05 lets exact-reward runs contract the modes, and 0.5 held one of
   * seven development mixtures at its start table (BENCHMARKS.md). */
  a->kl_coef = CLI_DEFAULT_KL_COEF;
  a->entropy_coef = o.entropy_coef;
  a->clip = o.clip;
  a->max_grad_norm = o.max_grad_norm;
  a->seed = o.seed;
  a->mlp_hidden = o.policy.mlp_hidden;
  a->val_every = o.val_every;
  a->val_seeds = 0;
  a->val_latents = 0;
  a->val_seed = o.val_seed;
  a->checkpoint_every = 10;
  a->timeout = 60.0;
}

static GOptionContext *
rdpo_context (RdpoArgs *a)
{
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &a->model, "model spec (default " EPD_DEFAULT_MODEL ")", "SPEC" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &a->init, "start table, e.g. from `epd distill` (required)", "TABLE" },
    { "reward", 'r', 0, G_OPTION_ARG_STRING, &a->reward,
      "NAME[=WEIGHT],...: logdensity, teacher, classifier, sharpness, command:CMD (required)", "SPEC" },
    { "iters", 0, 0, G_OPTION_ARG_INT, &a->iters, "PPO iterations (default 100)", "N" },
    { "group", 0, 0, G_OPTION_ARG_INT, &a->group, "rollouts per noise seed, leave-one-out (default: warm-up)", "G" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &a->batch, "noise seeds per iteration (default: warm-up)", "B" },
    { "latents", 0, 0, G_OPTION_ARG_INT, &a->latents, "samples per rollout (default: warm-up)", "L" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &a->epochs, "PPO epochs per iteration (default 4)", "E" },
    { "concentration", 'c', 0, G_OPTION_ARG_DOUBLE, &a->concentration, "Dirichlet concentration c (default 10)", "C" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->lr, "AdamW learning rate (default 0.01)", "X" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &a->weight_decay, "AdamW weight decay (default 0)", "X" },
    { "kl-coef", 0, 0, G_OPTION_ARG_DOUBLE, &a->kl_coef, "KL-to-start coefficient (default " G_STRINGIFY (CLI_DEFAULT_KL_COEF) ")", "K" },
    { "entropy-coef", 0, 0, G_OPTION_ARG_DOUBLE, &a->entropy_coef, "entropy bonus (default 0)", "E" },
    { "clip", 0, 0, G_OPTION_ARG_DOUBLE, &a->clip, "PPO ratio clip (default 0.2)", "X" },
    { "max-grad-norm", 0, 0, G_OPTION_ARG_DOUBLE, &a->max_grad_norm, "gradient-norm clip, 0 off (default 1)", "X" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &a->seed, "training seed (default 1)", "S" },
    { "unconstrained", 0, 0, G_OPTION_ARG_NONE, &a->unconstrained,
      "baseline: free mean, fixed concentration, no KL or decay", NULL },
    { "allow-coverage-loss", 0, 0, G_OPTION_ARG_NONE, &a->allow_coverage_loss,
      "keep the best held-out reward even where its mode coverage fell more than 2 standard "
      "errors below the start table's (by default such a table is never kept)", NULL },
    { "mlp", 0, 0, G_OPTION_ARG_NONE, &a->mlp, "residual from a step-embedding MLP instead of a table", NULL },
    { "mlp-hidden", 0, 0, G_OPTION_ARG_INT, &a->mlp_hidden, "MLP width (default 32)", "H" },
    { "val-every", 0, 0, G_OPTION_ARG_INT, &a->val_every, "held-out evaluation period (default 10)", "N" },
    { "val-seeds", 0, 0, G_OPTION_ARG_INT, &a->val_seeds, "held-out seeds (default: warm-up)", "N" },
    { "val-latents", 0, 0, G_OPTION_ARG_INT, &a->val_latents, "samples per held-out seed (default: warm-up)", "N" },
    { "val-seed", 0, 0, G_OPTION_ARG_INT, &a->val_seed, "first held-out seed (default 1000000)", "S" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &a->timeout, "seconds allowed to a command: reward (default 60)", "S" },
    { "checkpoint", 0, 0, G_OPTION_ARG_FILENAME, &a->checkpoint, "checkpoint file, written atomically", "CKPT" },
    { "checkpoint-every", 0, 0, G_OPTION_ARG_INT, &a->checkpoint_every, "iterations between checkpoints, 0: only at the end (default 10)", "N" },
    { "resume", 0, 0, G_OPTION_ARG_FILENAME, &a->resume, "continue from a checkpoint", "CKPT" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &a->device, "auto, cpu, vulkan, INDEX or NAME (default auto)", "D" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out, "best table (.json or .npz), written atomically (required)", "TABLE" },
    { "log", 0, 0, G_OPTION_ARG_FILENAME, &a->log, "JSON-lines log, one line per iteration", "LOG" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("- improve a table for a reward (RDPO)");

  rdpo_args_defaults (a);
  g_option_context_set_summary (context,
    "Treats the table as a Dirichlet policy centred on --init (concentration c times its\n"
    "positions' segments and weights, residual on the log-concentrations), samples one\n"
    "table per rollout, and improves the reward with PPO-clip and leave-one-out\n"
    "advantages. Writes the best policy mean on held-out seeds, among those whose held-out\n"
    "mode coverage is within 2 standard errors of the start table's (--allow-coverage-loss\n"
    "drops that condition). Ctrl-C stops early, writes the best table so far and a\n"
    "checkpoint (with --checkpoint).\n"
    "\n"
    "Sizes not given are chosen by a warm-up at the start table: " G_STRINGIFY (EPD_RDPO_WARMUP_TABLES)
    " tables from the\n"
    "start policy solve the same " G_STRINGIFY (EPD_RDPO_WARMUP_LATENTS)
    " latents; the rewards split into the table effect\n"
    "(sd_table, what an advantage must detect) and the table-by-latent noise (sd_noise).\n"
    "  --latents     power of two >= 4 (sd_noise/sd_table)^2, in [4, 64] (a rollout's\n"
    "                noise at most half the table effect)\n"
    "  --group       4\n"
    "  --batch       256 / (group x latents), in [2, 16] (about 256 samples an iteration)\n"
    "  held-out      power of two >= 512 (sd_noise/sd_table)^2 samples, in [1024, 4096],\n"
    "                over 16 --val-seeds (ranks tables an eighth of sd_table apart)\n"
    "Where one iteration's rollouts would take over 0.5 s (or the held-out set over 2 s),\n"
    "batch, then latents (held-out samples) are reduced; those sizes then depend on\n"
    "the machine's speed, so give them explicitly for a reproducible run.");
  g_option_context_add_main_entries (context, entries, NULL);
  return context;
}

static gboolean
bad_value (GError    **error,
           const char *message)
{
  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, message);
  return FALSE;
}

/* Checked before training, so that a long run is not lost to a typo: each
 * output can be written, and none would overwrite an input or another. */
static gboolean
check_outputs (const RdpoArgs  *a,
               GError         **error)
{
  const struct { const char *option, *path; } outputs[] = {
    { "--out", a->out }, { "--log", a->log }, { "--checkpoint", a->checkpoint },
  };
  const struct { const char *option, *path; } inputs[] = { { "--init", a->init }, { "--resume", a->resume } };

  for (guint i = 0; i < G_N_ELEMENTS (outputs); i++)
    {
      if (outputs[i].path == NULL)
        continue;
      if (!epd_cli_check_output (outputs[i].option, outputs[i].path, NULL, error))
        return FALSE;
      for (guint j = i + 1; j < G_N_ELEMENTS (outputs); j++)
        if (!epd_cli_check_distinct (outputs[i].option, outputs[i].path, outputs[j].option, outputs[j].path, error))
          return FALSE;
      /* --out may replace --init, and --checkpoint continue --resume. */
      for (guint j = 0; j < G_N_ELEMENTS (inputs); j++)
        if (!(i == 0 && j == 0) && !(i == 2 && j == 1) &&
            !epd_cli_check_distinct (outputs[i].option, outputs[i].path, inputs[j].option, inputs[j].path, error))
          return FALSE;
    }
  return TRUE;
}

static gboolean
options_from_args (const RdpoArgs  *a,
                   EpdRdpoOptions  *o,
                   GError         **error)
{
  epd_rdpo_options_init (o);
  if (a->init == NULL || a->reward == NULL || a->out == NULL)
    return bad_value (error, "--init TABLE, --reward SPEC and --out TABLE are required");
  if (a->iters < 0 || a->group == 1 || a->group < 0 || a->batch < 0 || a->latents < 0 || a->epochs < 1
      || a->seed < 0 || a->mlp_hidden < 1 || a->val_every < 0 || a->val_seeds < 0 || a->val_latents < 0
      || a->val_seed < 0 || a->checkpoint_every < 0)
    return bad_value (error, "--group must be >= 2; --batch, --latents, --epochs, --mlp-hidden, "
                      "--val-seeds and --val-latents >= 1; --iters, --seed, --val-every, "
                      "--val-seed and --checkpoint-every must not be negative");
  if (!(a->timeout > 0.0 && isfinite (a->timeout)))
    return bad_value (error, "--timeout must be a positive number of seconds");
  if (!check_outputs (a, error))
    return FALSE;
  o->iters = a->iters;
  /* 0 (not given) is filled in by the warm-up. */
  o->group = a->group;
  o->batch = a->batch;
  o->latents = a->latents;
  o->epochs = a->epochs;
  o->lr = a->lr;
  o->weight_decay = a->weight_decay;
  o->kl_coef = a->kl_coef;
  o->entropy_coef = a->entropy_coef;
  o->clip = a->clip;
  o->max_grad_norm = a->max_grad_norm;
  o->seed = a->seed;
  o->val_every = a->val_every;
  o->val_seeds = a->val_seeds;
  o->val_latents = a->val_latents;
  o->val_seed = a->val_seed;
  o->keep_coverage = !a->allow_coverage_loss;
  o->policy.concentration = a->concentration;
  o->policy.unconstrained = a->unconstrained;
  o->policy.residual = a->mlp ? EPD_POLICY_MLP : EPD_POLICY_TABULAR;
  o->policy.mlp_hidden = a->mlp_hidden;
  o->reward_spec = a->reward;
  o->start_name = a->init;
  return TRUE;
}

/* The lines of an earlier log up to the resumed step, so that the log of a
 * resumed run reads like one uninterrupted run. A missing log starts empty;
 * an unreadable one is an error rather than silently dropped. Lines that are
 * not JSON records (a line cut by a crash) are skipped. */
static gboolean
keep_log_until (const char *path,
                guint       step,
                GString    *kept,
                GError    **error)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  gsize length = 0;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    return TRUE;
  if (!epd_file_read_capped (path, EPD_FILE_MAX_JSON, &text, &length, error))
    {
      g_prefix_error (error, "resuming the log: ");
      return FALSE;
    }
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(JsonNode) root = lines[i][0] != '\0' ? epd_json_parse (lines[i], strlen (lines[i]), path, NULL) : NULL;
      JsonNode *step_node;

      step_node = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
                  ? json_object_get_member (json_node_get_object (root), "step") : NULL;
      if (step_node != NULL && json_node_get_value_type (step_node) == G_TYPE_INT64
          && json_node_get_int (step_node) <= step)
        g_string_append_printf (kept, "%s\n", lines[i]);
    }
  return TRUE;
}

/* Starts the log (atomically, with the kept lines of a resumed run), then
 * opens it for appending one whole line per iteration. */
static gboolean
open_log (RdpoRun    *run,
          gboolean    resumed,
          guint       step,
          GError    **error)
{
  g_autoptr(GString) kept = g_string_new (NULL);

  if (resumed && !keep_log_until (run->log_path, step, kept, error))
    return FALSE;
  if (!epd_file_write_atomic (run->log_path, kept->str, kept->len, error))
    return FALSE;
  run->log_file = g_fopen (run->log_path, "a");
  if (run->log_file == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "opening the log %s: %s", run->log_path, g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

static void
append_log (RdpoRun             *run,
            const EpdRdpoRecord *r)
{
  g_autoptr(JsonNode) node = epd_rdpo_record_to_json (r);
  g_autofree char *line = epd_json_to_data (node, FALSE, NULL);
  g_autofree char *text = g_strconcat (line, "\n", NULL);

  /* One write per line, flushed: a crash loses at most the line being written. */
  if (run->log_error == NULL
      && (fputs (text, run->log_file) < 0 || fflush (run->log_file) != 0))
    {
      g_set_error (&run->log_error, EPD_ERROR, EPD_ERROR_IO, "writing the log %s: %s",
                   run->log_path, g_strerror (errno));
      g_cancellable_cancel (run->cancellable);
    }
}

/* "LABEL 0.123", or "" when the model has no such measure (NaN). */
static char *
measure_text (const char *label,
              double      value)
{
  return isnan (value) ? g_strdup ("") : g_strdup_printf ("%s%.3f", label, value);
}

static void
print_record (RdpoRun             *run,
              const EpdRdpoRecord *r)
{
  gint64 now = g_get_monotonic_time ();
  gboolean last = r->step == run->iters;
  g_autofree char *diversity = measure_text ("  diversity ", r->diversity);
  g_autofree char *spread = measure_text ("  spread ", r->spread);

  if (isfinite (r->reward_val) && r->reward_val > run->best_val)
    run->best_val = r->reward_val;
  /* A tty gets one line updated in place (at most 10 times a second); a log about 20 lines. */
  if (!last && run->tty && now - run->last_print_us < 100000)
    return;
  if (!last && !run->tty && r->step % MAX (1, run->iters / 20) != 0)
    return;
  run->last_print_us = now;
  g_printerr ("%siter %u/%u  reward %.5g %s %.3g  kl %.3g  ratio %.4f%s%s  best held-out %.5g  %.1f s%s",
              run->tty ? "\r" : "", r->step, run->iters, r->mixed_reward_mean, epd_cli_plus_minus (),
              r->mixed_reward_std, r->kl, r->ratio, diversity, spread, run->best_val, r->elapsed_sec,
              run->tty ? "\033[K" : "\n");
  run->line_open = run->tty;
}

/* Called in the trainer's thread. */
static void
on_record (const EpdRdpoRecord *r,
           gpointer             user_data)
{
  RdpoRun *run = user_data;

  if (run->log_file != NULL)
    append_log (run, r);
  print_record (run, r);
}

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  RdpoRun *run = user_data;

  run->ok = epd_rdpo_run_finish (result, &run->error);
  g_main_loop_quit (run->loop);
}

/* Trains in a worker thread while this thread watches for Ctrl-C. */
static void
train_in_thread (EpdRdpo    *rdpo,
                 const char *checkpoint,
                 guint       checkpoint_every,
                 RdpoRun    *run)
{
  run->loop = g_main_loop_new (NULL, FALSE);
  epd_cli_catch_interrupt (run->cancellable);
  epd_rdpo_run_async (rdpo, checkpoint, checkpoint_every, on_record, run, run->cancellable, on_done, run);
  g_main_loop_run (run->loop);
  g_main_loop_unref (run->loop);
  if (run->line_open)
    g_printerr ("\n");
}

static void
print_eval (const char        *what,
            const EpdRdpoEval *e)
{
  const char *pm = epd_cli_plus_minus ();
  g_autofree char *diversity = isnan (e->diversity_mean)
                               ? g_strdup ("n/a for this model")
                               : g_strdup_printf ("%.4f %s %.3f", e->diversity_mean, pm, e->diversity_std);
  g_autofree char *spread = isnan (e->spread_mean)
                            ? g_strdup ("n/a for this model")
                            : g_strdup_printf ("%.4f %s %.3f", e->spread_mean, pm, e->spread_std);

  g_print ("%s: held-out reward %.6g %s %.3g (mean %s sd over %u seeds), diversity %s, "
           "spread %s (1 = the data's)\n",
           what, e->reward_mean, pm, e->reward_std, pm, e->n_seeds, diversity, spread);
}

static gboolean
sizes_needed (const EpdRdpoOptions *o)
{
  return o->group == 0 || o->batch == 0 || o->latents == 0 || o->val_seeds == 0 || o->val_latents == 0;
}

/* Fills the sizes not given from a warm-up at the start table (epd-rdpo-auto.h). */
static gboolean
choose_sizes (EpdRdpoEnv     *env,
              const EpdTable *init,
              EpdRdpoOptions *o,
              GError        **error)
{
  EpdRdpoWarmup w;
  EpdRdpoSizes s;

  if (!sizes_needed (o))
    return TRUE;
  if (!epd_rdpo_warmup (env, init, o, &w, epd_cli_interrupt_cancellable (), error))
    {
      g_prefix_error (error, "choosing the sizes (give --group, --batch, --latents, --val-seeds "
                      "and --val-latents to skip it): ");
      return FALSE;
    }
  epd_rdpo_auto_choose (&w, &s);
  o->group = o->group ? o->group : s.group;
  o->batch = o->batch ? o->batch : s.batch;
  o->latents = o->latents ? o->latents : s.latents;
  o->val_seeds = o->val_seeds ? o->val_seeds : s.val_seeds;
  o->val_latents = o->val_latents ? o->val_latents : s.val_latents;
  g_printerr ("epd: warm-up (%u tables x %u latents, %.3g ms a sample): reward sd_table %.4g, "
              "sd_noise %.4g -> --latents %u --group %u --batch %u --val-seeds %u --val-latents %u\n",
              EPD_RDPO_WARMUP_TABLES, EPD_RDPO_WARMUP_LATENTS, 1e3 * w.seconds_per_sample, w.sd_table,
              w.sd_noise, o->latents, o->group, o->batch, o->val_seeds, o->val_latents);
  return TRUE;
}

/* The trainer, resumed if asked, with the model environment it runs in. */
static EpdRdpo *
open_trainer (const RdpoArgs        *a,
              const EpdRdpoOptions  *o,
              const EpdTable        *init,
              EpdRdpoEnv            *env,
              GError               **error)
{
  g_autoptr(EpdRdpo) rdpo = epd_rdpo_new (env, init, o, error);

  if (rdpo == NULL)
    return NULL;
  if (a->resume != NULL && !epd_rdpo_load_checkpoint (rdpo, a->resume, error))
    return NULL;
  if (a->unconstrained && (a->kl_coef > 0.0 || a->weight_decay > 0.0))
    g_printerr ("epd: --unconstrained: no KL term and no weight decay (nothing anchors the policy)\n");
  return g_steal_pointer (&rdpo);
}

static int
finish (EpdRdpo           *rdpo,
        const RdpoArgs    *a,
        RdpoRun           *run,
        const EpdRdpoEval *before,
        double             wall_s)
{
  g_autoptr(EpdTable) best = NULL;
  g_autoptr(GError) error = NULL;
  gboolean cancelled = g_error_matches (run->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  EpdRdpoEval after;

  /* Whatever stopped the run, the best table so far and the state are kept:
   * a failed or cancelled iteration leaves the trainer as it was before it. */
  best = epd_rdpo_dup_best_table (rdpo, NULL);
  if (!epd_table_save (best, a->out, &error))
    return epd_cli_fail (error);
  if (!run->ok && a->checkpoint != NULL && !epd_rdpo_save_checkpoint (rdpo, a->checkpoint, &error))
    return epd_cli_fail (error);
  if (!run->ok && !cancelled)
    {
      g_printerr ("epd: stopped after %u iterations; wrote the best table so far to %s\n",
                  epd_rdpo_get_step (rdpo), a->out);
      return epd_cli_fail (run->error);
    }
  if (run->log_error != NULL)
    return epd_cli_fail (run->log_error);
  /* Interrupted: no evaluation (it would run the reward again). */
  if (cancelled)
    {
      g_printerr ("epd: interrupted after %u of %d iterations: wrote the best table so far to %s%s%s\n",
                  epd_rdpo_get_step (rdpo), a->iters, a->out,
                  a->checkpoint != NULL ? " and a checkpoint to " : "",
                  a->checkpoint != NULL ? a->checkpoint : "");
      return 130;
    }
  if (!epd_rdpo_evaluate (rdpo, best, &after, NULL, &error))
    return epd_cli_fail (error);
  print_eval ("start table", before);
  print_eval ("best table ", &after);
  g_print ("wrote %s: best policy mean at iteration %" G_GINT64_FORMAT " of %u; wall time %.2f s\n",
           a->out, json_object_get_int_member (json_object_get_object_member (best->metadata, "rdpo"),
                                               "iterations"),
           epd_rdpo_get_step (rdpo), wall_s);
  return 0;
}

/* The reward, with the student's solver options for the teacher reward. */
static EpdReward *
open_reward (const RdpoArgs  *a,
             const EpdTable  *init,
             EpdDenoiser     *cpu_model,
             GError         **error)
{
  EpdRewardContext context = { 0 };
  EpdSolveOptions solve;

  epd_rdpo_solve_options_for_table (&solve, init);
  context.model = cpu_model;
  context.solve = &solve;
  context.timeout_s = a->timeout;
  return epd_reward_parse (a->reward, &context, error);
}

/* Interrupted in the warm-up or while scoring the start table: the start
 * table is the best so far. */
static int
interrupted_before_training (const EpdTable *start,
                             const RdpoArgs *a)
{
  g_autoptr(GError) error = NULL;

  if (!epd_table_save (start, a->out, &error))
    return epd_cli_fail (error);
  g_printerr ("epd: interrupted before training: wrote the start table to %s\n", a->out);
  return 130;
}

/* Trains, then writes the best table and reports; returns the exit status. */
static int
train (EpdRdpo           *rdpo,
       const RdpoArgs    *a,
       const EpdRdpoEval *before)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autoptr(GError) error = NULL;
  RdpoRun run = { 0 };
  int status;

  run.cancellable = cancellable;
  run.log_path = a->log;
  run.iters = a->iters;
  run.tty = isatty (STDERR_FILENO);
  run.best_val = before->reward_mean;
  if (a->log != NULL && !open_log (&run, a->resume != NULL, epd_rdpo_get_step (rdpo), &error))
    return epd_cli_fail (error);
  train_in_thread (rdpo, a->checkpoint, a->checkpoint_every, &run);
  status = finish (rdpo, a, &run, before, g_timer_elapsed (timer, NULL));
  if (run.log_file != NULL)
    fclose (run.log_file);
  g_clear_error (&run.error);
  g_clear_error (&run.log_error);
  return status;
}

int
epd_cmd_rdpo (int    argc,
              char **argv)
{
  g_auto(RdpoArgs) a = { 0 };
  g_autoptr(GOptionContext) context = rdpo_context (&a);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) init = NULL;
  g_autoptr(EpdDenoiser) model = NULL;
  g_autoptr(EpdDenoiser) cpu_model = NULL;
  g_autoptr(EpdReward) reward = NULL;
  g_autofree char *command = epd_cli_command_line (argc, argv);
  g_autoptr(EpdRdpoEnv) env = NULL;
  g_autoptr(EpdRdpo) rdpo = NULL;
  EpdRdpoOptions o;
  EpdRdpoEval before;

  /* From the start: Ctrl-C or SIGTERM while a reward command runs must still
   * stop it, remove its folder and write --out. */
  epd_cli_catch_interrupt (NULL);
  if (!epd_cli_parse (context, &argc, &argv, &error) || !options_from_args (&a, &o, &error))
    return epd_cli_fail (error);
  if (a.model == NULL)
    a.model = g_strdup (EPD_DEFAULT_MODEL);
  if ((init = epd_table_load (a.init, &error)) == NULL
      || (model = epd_cli_open_model (a.model, a.device, &error)) == NULL
      /* Log-density, the teacher reward, diversity and spread read the exact CPU model. */
      || (cpu_model = epd_reward_open_cpu_model (model, a.model, &error)) == NULL
      || (reward = open_reward (&a, init, cpu_model, &error)) == NULL)
    return epd_cli_fail (error);
  o.command = command;
  env = epd_rdpo_env_new_model_with_reference (model, cpu_model, reward);
  if (!choose_sizes (env, init, &o, &error))
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
           ? interrupted_before_training (init, &a) : epd_cli_fail (error);
  rdpo = open_trainer (&a, &o, init, env, &error);
  /* The start table on the held-out seeds, for the before/after summary. */
  if (rdpo == NULL)
    return epd_cli_fail (error);
  if (!epd_rdpo_evaluate (rdpo, epd_policy_get_start (epd_rdpo_get_policy (rdpo)),
                          &before, epd_cli_interrupt_cancellable (), &error))
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
           ? interrupted_before_training (epd_policy_get_start (epd_rdpo_get_policy (rdpo)), &a)
           : epd_cli_fail (error);
  return train (rdpo, &a, &before);
}
