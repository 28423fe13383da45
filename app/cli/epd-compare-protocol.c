/* SPDX-License-Identifier: MIT */
/* epd-compare-protocol.c: `epd compare --protocol`, the paper's Stage 1 benchmark:
 * distilled EPD and EPD-Plugin (K = 2, AFS) against the classic solvers at equal
 * latency-NFE, by the L2 error to the teacher's final samples on held-out noises. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-cli.h"
#include "epd-distill-options.h"
#include "epd-model.h"
#include "epd-distill.h"
#include "epd-sample-quality.h"

/* Held-out test noises come from seed + TEST_SEED_OFFSET; training uses seed, validation seed + 1;
 * the FD samples come from the noise stream of seed + FD_SEED_OFFSET. */
#define TEST_SEED_OFFSET 1000
#define FD_SEED_OFFSET   2000
/* Rows solved at a time for the FD samples. */
#define FD_CHUNK         64

typedef struct
{
  char              *model;
  char              *device;
  char              *nfe;
  char              *tables_dir;
  gboolean           protocol;
  gboolean           markdown;
  int                n_seeds;
  int                seed;
  int                fd_samples;  /* 0: no FD */
  char              *command;     /* recorded in the distilled tables' metadata */
  EpdCliDistillArgs  train;
  EpdCliScheduleArgs schedule;
} ProtocolArgs;

static void
protocol_args_clear (ProtocolArgs *a)
{
  g_free (a->model);
  g_free (a->device);
  g_free (a->nfe);
  g_free (a->tables_dir);
  g_free (a->command);
  epd_cli_schedule_args_clear (&a->schedule);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ProtocolArgs, protocol_args_clear)

/* One solver at one NFE. */
typedef struct
{
  gboolean ran;
  gboolean afs_changed; /* a baseline that needed AFS to reach an odd NFE, or a
                         * distilled solver run without AFS at an even NFE */
  guint    steps;
  double   mean;
  double   std;
  double   median;
  double   fd;          /* NAN unless measured */
  double   distill_s;   /* < 0: not distilled here (a baseline, or loaded from the cache) */
} Cell;

/* The rows of the benchmark. Baselines run without AFS where their NFE allows
 * it and with AFS otherwise (Heun and DPM-Solver-2 at odd NFE, as in the paper);
 * iPNDM also runs with AFS throughout, as EPD does. EPD with K = 2 and AFS has
 * odd latency NFE only (2 per step minus 1), so at an even NFE the distilled
 * solvers run without AFS. */
typedef struct
{
  EpdSolverKind solver;
  gboolean      force_afs;
  const char   *label;
} ProtocolRow;

static const ProtocolRow protocol_rows[] = {
  { EPD_SOLVER_EPD, TRUE, "EPD (K=2, AFS)" },
  { EPD_SOLVER_EPD_PLUGIN, TRUE, "EPD-Plugin (K=2, AFS)" },
  { EPD_SOLVER_EULER, FALSE, "DDIM/Euler" },
  { EPD_SOLVER_HEUN, FALSE, "Heun" },
  { EPD_SOLVER_DPM2, FALSE, "DPM-Solver-2" },
  { EPD_SOLVER_DPMPP2M, FALSE, "DPM-Solver++(2M)" },
  { EPD_SOLVER_DPMPP3M, FALSE, "DPM-Solver++(3M)" },
  { EPD_SOLVER_IPNDM, FALSE, "iPNDM" },
  { EPD_SOLVER_IPNDM, TRUE, "iPNDM (AFS)" },
};
#define N_PROTOCOL_SOLVERS G_N_ELEMENTS (protocol_rows)
#define N_DISTILLED 2

/* Shared state of one protocol run. */
typedef struct
{
  const ProtocolArgs *args;
  EpdDenoiser        *denoiser;
  EpdSchedule         schedule;
  guint               dim;
  gsize               batch;
  double             *x_init;     /* [batch][dim] held-out noises times t_max */
  double             *reference;  /* the teacher's final samples */
  guint               n_nfe;
  guint              *nfe;
  Cell               *cells;      /* [solver][nfe] */
  guint               teacher_steps;  /* grid of the shared teacher states, 0 = none yet */
  double             *teacher_train;  /* shared by the EPD and EPD-Plugin distillations */
  double             *teacher_val;
  EpdClassifier      *classifier;     /* FD only */
  EpdDataset         *train;
  EpdFeatureStats    *test_stats;
  double              fd_floor;       /* FD of fd_samples training images */
} Protocol;

static void
protocol_clear (Protocol *p)
{
  g_free (p->x_init);
  g_free (p->reference);
  g_free (p->nfe);
  g_free (p->cells);
  g_free (p->teacher_train);
  g_free (p->teacher_val);
  g_clear_pointer (&p->classifier, epd_classifier_free);
  g_clear_pointer (&p->train, epd_dataset_unref);
  g_clear_pointer (&p->test_stats, epd_feature_stats_free);
}

static gboolean
parse_nfe_list (const char *text,
                Protocol   *p,
                GError    **error)
{
  g_autoptr(GArray) list = epd_parse_number_list ("nfe", text, EPD_NFE_MIN, EPD_NFE_MAX, error);

  if (list == NULL)
    return FALSE;
  p->n_nfe = list->len;
  p->nfe = (guint *) g_array_free (g_steal_pointer (&list), FALSE);
  return TRUE;
}

static void
solve_options_for (const Protocol  *p,
                   EpdSolverKind    solver,
                   guint            steps,
                   gboolean         afs,
                   const EpdTable  *table,
                   EpdSolveOptions *so)
{
  epd_solve_options_init (so);
  so->solver = solver;
  so->steps = steps;
  so->schedule = p->schedule;
  so->table = table;
  so->afs = table != NULL ? table->afs : afs;
  if (table != NULL && table->max_order > 0)
    so->max_order = table->max_order;
  so->teacher_rtol = p->args->train.rtol;
}

/* The steps at which a solver's latency NFE is exactly nfe, or 0 when none is. */
static guint
steps_for_nfe (const Protocol *p,
               EpdSolverKind   solver,
               gboolean        afs,
               guint           nfe)
{
  for (guint steps = 1; steps <= nfe + 1; steps++)
    {
      EpdSolveOptions so;

      solve_options_for (p, solver, steps, afs, NULL, &so);
      if (epd_solve_options_nfe (&so).latency == nfe)
        return steps;
    }
  return 0;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Mean, standard deviation and median over the held-out noises of |x - teacher|
 * (the median because a few noises that end in another mode dominate the mean). */
static void
error_stats (const Protocol *p,
             const double   *x,
             Cell           *cell)
{
  g_autofree double *errors = g_new (double, p->batch);
  double sum = 0.0, sum2 = 0.0;

  for (gsize b = 0; b < p->batch; b++)
    {
      double s = 0.0, e;

      for (guint j = 0; j < p->dim; j++)
        {
          double v = x[b * p->dim + j] - p->reference[b * p->dim + j];
          s += v * v;
        }
      errors[b] = e = sqrt (s);
      sum += e;
      sum2 += e * e;
    }
  qsort (errors, p->batch, sizeof (double), compare_doubles);
  cell->median = 0.5 * (errors[(p->batch - 1) / 2] + errors[p->batch / 2]);
  cell->mean = sum / p->batch;
  cell->std = p->batch > 1 ? sqrt (MAX (0.0, (sum2 - sum * cell->mean) / (p->batch - 1))) : 0.0;
}

/* FD of fd_samples images of this solver against the test set. */
static gboolean
measure_fd (const Protocol        *p,
            const EpdSolveOptions *so,
            double                *fd,
            GError               **error)
{
  g_autoptr(EpdSampleQuality) q = epd_sample_quality_new (p->classifier, NULL, 0);
  EpdQualityReport r;

  if (!epd_cli_sample_quality (p->denoiser, so, (guint32) p->args->seed + FD_SEED_OFFSET,
                               p->args->fd_samples, FD_CHUNK, q, NULL, error) ||
      !epd_sample_quality_report (q, p->test_stats, &r, error))
    return FALSE;
  *fd = r.fd;
  epd_quality_report_clear (&r);
  return TRUE;
}

static gboolean
measure (Protocol       *p,
         EpdSolverKind   solver,
         guint           steps,
         gboolean        afs,
         const EpdTable *table,
         Cell           *cell,
         GError        **error)
{
  EpdSolveOptions so;
  g_autofree double *x = g_new (double, p->batch * p->dim);

  solve_options_for (p, solver, steps, afs, table, &so);
  if (!epd_solve (p->denoiser, &so, p->x_init, p->batch, x, NULL, NULL, NULL, error))
    return FALSE;
  error_stats (p, x, cell);
  cell->fd = NAN;
  if (p->args->fd_samples > 0 && !measure_fd (p, &so, &cell->fd, error))
    return FALSE;
  cell->ran = TRUE;
  cell->steps = steps;
  return TRUE;
}

/* DIR/MODEL-SOLVER-nfeN-k2[-afs]-HASH.json, HASH a short digest of every
 * setting the table depends on, so that other settings get another file. */
static char *
cache_path (const Protocol          *p,
            const EpdDistillOptions *o,
            guint                    nfe)
{
  const EpdSchedule *sc = &o->schedule;
  g_autofree char *model = g_strdup (p->args->model);
  g_autofree char *settings = NULL, *digest = NULL, *name = NULL;

  settings = g_strdup_printf ("%s|%s|%u|%u|%d|%u|%d|%.17g|%.17g|%.17g|%.17g|%u|%.17g|%.17g|"
                              "%u|%u|%u|%u|%u|%.17g|%.17g|%.17g|%d|%u|%u|%u|%.17g|%u|%u",
                              p->args->model, epd_solver_kind_to_string (o->solver), o->steps,
                              o->n_points, o->afs, o->max_order, sc->kind, sc->sigma_min,
                              sc->sigma_max, sc->rho, sc->shift, o->iterations, o->learning_rate,
                              o->lr_final, o->train_seed, o->val_seed, o->n_train, o->n_val,
                              o->batch, o->teacher_rtol, o->scale_dir_range, o->scale_time_range, o->loss,
                              o->final_iterations, o->final_n_train, o->final_batch, o->final_lr,
                              o->final_patience, o->teacher_heun_m);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, settings, -1);
  digest[8] = '\0';
  g_strcanon (model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", '_');
  name = g_strdup_printf ("%s-%s-nfe%u-k%u%s-%s.json", model, epd_solver_kind_to_string (o->solver),
                          nfe, o->n_points, o->afs ? "-afs" : "", digest);
  return g_build_filename (p->args->tables_dir, name, NULL);
}

/* Moves a file that is in the way to PATH.stale (or .stale.N): never destroy a
 * file the user may have put there. */
static gboolean
move_aside (const char *path,
            GError    **error)
{
  for (guint i = 0; i < 1000; i++)
    {
      g_autofree char *stale = i == 0 ? g_strdup_printf ("%s.stale", path)
                                      : g_strdup_printf ("%s.stale.%u", path, i);

      if (g_file_test (stale, G_FILE_TEST_EXISTS))
        continue;
      if (g_rename (path, stale) != 0)
        {
          int saved = errno;

          g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved),
                       "cannot move %s aside to %s: %s", path, stale, g_strerror (saved));
          return FALSE;
        }
      g_printerr ("epd: moved it aside to %s\n", stale);
      return TRUE;
    }
  g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "cannot move %s aside: too many .stale files", path);
  return FALSE;
}

static gboolean
metadata_number_is (JsonObject *m,
                    const char *name,
                    double      value)
{
  return json_object_has_member (m, name) &&
         json_object_get_double_member (m, name) == value;
}

/* The final stage ran with these settings (and was not cancelled), or was off. */
static gboolean
final_stage_fits (JsonObject              *m,
                  const EpdDistillOptions *o,
                  guint                    dim)
{
  guint iterations = epd_distill_final_iterations (o, dim);
  JsonObject *f;

  if (iterations == 0)
    return !json_object_has_member (m, "final_stage");
  if (!json_object_has_member (m, "final_stage") ||
      json_object_get_boolean_member_with_default (m, "cancelled", TRUE))
    return FALSE;
  f = json_object_get_object_member (m, "final_stage");
  return f != NULL && metadata_number_is (f, "iterations", iterations) &&
         metadata_number_is (f, "n_train", o->final_n_train) &&
         metadata_number_is (f, "batch", o->final_batch) &&
         metadata_number_is (f, "learning_rate", o->final_lr) &&
         metadata_number_is (f, "patience", o->final_patience);
}

/* A cached table is used only when it was distilled, to the end, for this very
 * configuration: model, shape, schedule and training settings. */
static gboolean
cached_table_fits (const Protocol          *p,
                   const EpdDistillOptions *o,
                   const EpdTable          *t)
{
  JsonObject *m = t->metadata;

  return t->steps == o->steps && t->n_points == o->n_points && t->afs == o->afs &&
         (o->solver != EPD_SOLVER_EPD_PLUGIN || t->max_order == o->max_order) &&
         g_strcmp0 (t->solver, epd_solver_kind_to_string (o->solver)) == 0 &&
         t->schedule.kind == o->schedule.kind && t->schedule.sigma_min == o->schedule.sigma_min &&
         t->schedule.sigma_max == o->schedule.sigma_max && t->schedule.rho == o->schedule.rho &&
         json_object_has_member (m, "model") &&
         g_strcmp0 (json_object_get_string_member (m, "model"), p->args->model) == 0 &&
         metadata_number_is (m, "iterations", o->iterations) &&
         metadata_number_is (m, "iterations_done", o->iterations) &&
         metadata_number_is (m, "learning_rate", o->learning_rate) &&
         metadata_number_is (m, "lr_final", o->lr_final) &&
         metadata_number_is (m, "train_seed", o->train_seed) &&
         metadata_number_is (m, "n_train", o->n_train) &&
         metadata_number_is (m, "n_val", o->n_val) &&
         metadata_number_is (m, "batch", o->batch ? o->batch : o->n_train) &&
         (o->teacher_heun_m > 0 ? metadata_number_is (m, "teacher_heun_m", o->teacher_heun_m)
                                : metadata_number_is (m, "teacher_rtol", o->teacher_rtol)) &&
         metadata_number_is (m, "scale_dir_range", o->scale_dir_range) &&
         metadata_number_is (m, "scale_time_range", o->scale_time_range) &&
         final_stage_fits (m, o, p->dim);
}

static gboolean
distill_options_for (const Protocol    *p,
                     EpdSolverKind      solver,
                     guint              steps,
                     gboolean           afs,
                     EpdDistillOptions *o,
                     GError           **error)
{
  const ProtocolArgs *a = p->args;

  epd_distill_options_init (o);
  if (!epd_cli_distill_apply (&a->train, o, error))
    return FALSE;
  o->solver = solver;
  o->steps = steps;
  o->n_points = 2;
  o->afs = afs;
  o->schedule = p->schedule;
  o->train_seed = a->seed;
  o->val_seed = (guint32) a->seed + 1;
  o->model_spec = a->model;
  return epd_distill_options_validate (o, error);
}

/* On a terminal, the iteration count after "distilling ...", redrawn in place
 * (at most 10 times a second); user_data holds the time of the last draw. */
static void
show_progress (const EpdDistillProgress *p,
               gpointer                  user_data)
{
  gint64 *last = user_data, now = g_get_monotonic_time ();
  g_autofree char *text = NULL;
  int len;

  if (now - *last < 100000 || g_str_equal (p->phase, "teacher"))
    return;
  *last = now;
  text = g_strdup_printf ("%u/%u", p->iteration, p->iterations);
  len = strlen (text);
  g_printerr ("%s\033[%dD", text, len);
}

/* The teacher's states of the training and validation noises on this grid,
 * solved once for both distilled solvers. */
static gboolean
shared_teacher (Protocol          *p,
                EpdDistillOptions *o,
                GError           **error)
{
  g_autofree double *x_train = NULL, *x_val = NULL;

  if (p->teacher_steps != o->steps)
    {
      g_clear_pointer (&p->teacher_train, g_free);
      g_clear_pointer (&p->teacher_val, g_free);
      p->teacher_steps = 0;
      x_train = epd_distill_initial_states (o, o->train_seed, o->n_train, p->dim);
      x_val = epd_distill_initial_states (o, o->val_seed, o->n_val, p->dim);
      p->teacher_train = epd_distill_teacher_states (p->denoiser, o, x_train, o->n_train, NULL, error);
      if (p->teacher_train == NULL)
        return FALSE;
      p->teacher_val = epd_distill_teacher_states (p->denoiser, o, x_val, o->n_val, NULL, error);
      if (p->teacher_val == NULL)
        return FALSE;
      p->teacher_steps = o->steps;
    }
  o->teacher_train = p->teacher_train;
  o->teacher_val = p->teacher_val;
  return TRUE;
}

/* Loads the table from --tables-dir when it fits, else distils it (and caches it there). */
static EpdTable *
protocol_table (Protocol     *p,
                EpdSolverKind solver,
                guint         steps,
                gboolean      afs,
                guint         nfe,
                Cell         *cell,
                GError      **error)
{
  EpdDistillOptions o;
  g_autofree char *path = NULL;
  g_autoptr(EpdTable) table = NULL;
  gboolean tty = isatty (STDERR_FILENO);
  gint64 start, last_draw = 0;

  if (!distill_options_for (p, solver, steps, afs, &o, error))
    return NULL;
  if (p->args->tables_dir != NULL)
    path = cache_path (p, &o, nfe);
  cell->distill_s = -1.0;
  if (path != NULL && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autoptr(GError) load_error = NULL;

      table = epd_table_load (path, &load_error);
      if (table != NULL && cached_table_fits (p, &o, table))
        return g_steal_pointer (&table);
      g_printerr ("epd: %s does not fit this configuration (%s); distilling again\n", path,
                  load_error ? load_error->message : "other model, schedule, shape or training settings");
      g_clear_pointer (&table, epd_table_free);
      if (!move_aside (path, error))
        return NULL;
    }
  start = g_get_monotonic_time ();
  if (!shared_teacher (p, &o, error))
    return NULL;
  g_printerr ("epd: distilling %s for NFE %u (%u steps, K = 2%s)... ",
              epd_solver_kind_to_string (solver), nfe, steps, afs ? ", AFS" : ", no AFS");
  table = epd_distill_run (p->denoiser, &o, tty ? show_progress : NULL, &last_draw, NULL, error);
  if (table == NULL)
    return NULL;
  cell->distill_s = (g_get_monotonic_time () - start) / 1e6;
  json_object_set_string_member (table->metadata, "command", p->args->command);
  g_printerr ("%s%.2f s, validation error %.4g -> %.4g\n", tty ? "\033[K" : "", cell->distill_s,
              json_object_get_double_member (table->metadata, "val_error_initial"),
              json_object_get_double_member (table->metadata, "val_error"));
  if (path != NULL && !epd_table_save (table, path, error))
    return NULL;
  return g_steal_pointer (&table);
}

static gboolean
run_cell (Protocol *p,
          guint     s,
          guint     i,
          GError  **error)
{
  const ProtocolRow *row = &protocol_rows[s];
  Cell *cell = &p->cells[s * p->n_nfe + i];
  gboolean afs = row->force_afs;
  guint steps = steps_for_nfe (p, row->solver, afs, p->nfe[i]);
  g_autoptr(EpdTable) table = NULL;

  /* Baselines switch AFS on to reach an odd NFE; the distilled solvers (AFS by
   * default) switch it off to reach an even one. Forced-AFS iPNDM stays as is. */
  if (steps == 0 && (!afs || s < N_DISTILLED))
    steps = steps_for_nfe (p, row->solver, afs = !afs, p->nfe[i]);
  cell->distill_s = -1.0;
  cell->afs_changed = afs != row->force_afs;
  if (steps == 0)
    return TRUE;
  if (s < N_DISTILLED)
    {
      table = protocol_table (p, row->solver, steps, afs, p->nfe[i], cell, error);
      if (table == NULL)
        return FALSE;
    }
  return measure (p, row->solver, steps, afs, table, cell, error);
}

/* The classifier, the test set's statistics and the floor: FD of the first
 * fd_samples training images, the same N as the samples (FD is biased upward at small N). */
static gboolean
fd_setup (Protocol *p,
          GError  **error)
{
  g_autoptr(EpdDataset) test = NULL;
  g_autoptr(EpdFeatureStats) floor_stats = NULL;

  if (p->args->fd_samples < 2)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--fd-samples must be at least 2");
      return FALSE;
    }
  if (p->dim != 784)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "--fd-samples needs a 28x28 grey image model (Fashion-MNIST); %s has %u dimensions",
                   p->args->model, p->dim);
      return FALSE;
    }
  p->classifier = epd_classifier_get_default (NULL, error);
  if (p->classifier == NULL)
    return FALSE;
  p->train = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TRAIN, NULL, error);
  test = p->train ? epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TEST, NULL, error) : NULL;
  if (test == NULL)
    return FALSE;
  p->test_stats = epd_feature_stats_of_dataset (p->classifier, test, 0, error);
  if (p->test_stats == NULL)
    return FALSE;
  floor_stats = epd_feature_stats_of_dataset (p->classifier, p->train, p->args->fd_samples, error);
  if (floor_stats == NULL)
    return FALSE;
  p->fd_floor = epd_frechet_distance (floor_stats, p->test_stats);
  return TRUE;
}

static gboolean
protocol_setup (Protocol *p,
                GError  **error)
{
  const ProtocolArgs *a = p->args;
  EpdSolveOptions so;
  g_autofree double *z = NULL;

  if (!epd_cli_schedule_resolve (&a->schedule, &p->schedule, error) ||
      !parse_nfe_list (a->nfe ? a->nfe : "3,5,7,9", p, error))
    return FALSE;
  if (a->n_seeds < 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--seeds must be positive");
      return FALSE;
    }
  p->denoiser = epd_cli_open_model (a->model, a->device, error);
  if (p->denoiser == NULL || !epd_cli_schedule_fit_model (&a->schedule, p->denoiser, &p->schedule, error))
    return FALSE;
  p->dim = epd_denoiser_get_dim (p->denoiser);
  if (a->fd_samples != 0 && !fd_setup (p, error))
    return FALSE;
  p->batch = a->n_seeds;
  p->cells = g_new0 (Cell, N_PROTOCOL_SOLVERS * p->n_nfe);
  z = epd_random_latents ((guint32) a->seed + TEST_SEED_OFFSET, p->batch, p->dim);
  p->x_init = g_new (double, p->batch * p->dim);
  p->reference = g_new (double, p->batch * p->dim);
  solve_options_for (p, EPD_SOLVER_TEACHER, 1, FALSE, NULL, &so);
  epd_solve_init_from_noise (&so, z, p->batch * p->dim, p->x_init);
  g_printerr ("epd: teacher (rtol %g) on %zu held-out noises...\n", a->train.rtol, p->batch);
  return epd_solve (p->denoiser, &so, p->x_init, p->batch, p->reference, NULL, NULL, NULL, error);
}

/* The figure a table shows: the mean L2 error, or the FD. */
static double
cell_value (const Cell *c,
            gboolean    fd)
{
  return fd ? c->fd : c->mean;
}

/* The baseline with the lowest value at NFE column i, or -1. */
static int
best_baseline (const Protocol *p,
               guint           i,
               gboolean        fd)
{
  int best = -1;

  for (guint s = N_DISTILLED; s < N_PROTOCOL_SOLVERS; s++)
    {
      const Cell *c = &p->cells[s * p->n_nfe + i];

      if (c->ran && (best < 0 || cell_value (c, fd) < cell_value (&p->cells[best * p->n_nfe + i], fd)))
        best = s;
    }
  return best;
}

static char *
cell_text (const Cell *c,
           gboolean    distilled,
           gboolean    fd)
{
  const char *mark = !c->afs_changed ? "" : distilled ? epd_cli_symbol (" \xe2\x80\xa0", " +") : " *";

  if (!c->ran)
    return g_strdup ("-");
  if (fd)
    return g_strdup_printf ("%.4g%s", c->fd, mark);
  return g_strdup_printf ("%.4g %s %.3g (med %.3g)%s", c->mean, epd_cli_plus_minus (), c->std, c->median, mark);
}

static char *
ratio_text (const Protocol *p,
            guint           s,
            guint           i,
            gboolean        fd)
{
  int b = best_baseline (p, i, fd);
  const Cell *c = &p->cells[s * p->n_nfe + i];

  if (b < 0 || !c->ran)
    return g_strdup ("-");
  return g_strdup_printf ("%.3f (vs %s)", cell_value (c, fd) / cell_value (&p->cells[b * p->n_nfe + i], fd),
                          protocol_rows[b].label);
}

/* Appends text padded with spaces to width characters (not bytes: "±"). */
static void
append_padded (GString    *line,
               const char *text,
               gsize       width)
{
  gsize len = (gsize) g_utf8_strlen (text, -1);

  g_string_append (line, text);
  for (gsize i = len; i < width; i++)
    g_string_append_c (line, ' ');
}

/* Prints rows of cells ([n_rows][n_cols], column 0 the label) as a Markdown
 * table or as space-aligned columns. */
static void
print_grid (gboolean   markdown,
            char     **cells,
            guint      n_rows,
            guint      n_cols)
{
  g_autofree gsize *width = g_new0 (gsize, n_cols);

  for (guint r = 0; r < n_rows; r++)
    for (guint c = 0; c < n_cols; c++)
      width[c] = MAX (width[c], (gsize) g_utf8_strlen (cells[r * n_cols + c], -1));
  for (guint r = 0; r < n_rows; r++)
    {
      g_autoptr(GString) line = g_string_new (markdown ? "|" : "");

      for (guint c = 0; c < n_cols; c++)
        {
          g_string_append (line, markdown ? " " : c > 0 ? "  " : "");
          append_padded (line, cells[r * n_cols + c], width[c]);
          g_string_append (line, markdown ? " |" : "");
        }
      g_print ("%s\n", g_strchomp (line->str));
      if (markdown && r == 0)
        {
          g_print ("|");
          for (guint c = 0; c < n_cols; c++)
            g_print ("---|");
          g_print ("\n");
        }
    }
}

static void
print_results (const Protocol *p,
               gboolean        fd)
{
  guint n_cols = p->n_nfe + 1, n_rows = 1 + N_PROTOCOL_SOLVERS + N_DISTILLED;
  g_autoptr(GPtrArray) cells = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (cells, g_strdup ("solver"));
  for (guint i = 0; i < p->n_nfe; i++)
    g_ptr_array_add (cells, g_strdup_printf ("NFE %u", p->nfe[i]));
  for (guint s = 0; s < N_PROTOCOL_SOLVERS; s++)
    {
      g_ptr_array_add (cells, g_strdup (protocol_rows[s].label));
      for (guint i = 0; i < p->n_nfe; i++)
        g_ptr_array_add (cells, cell_text (&p->cells[s * p->n_nfe + i], s < N_DISTILLED, fd));
    }
  for (guint s = 0; s < N_DISTILLED; s++)
    {
      g_ptr_array_add (cells, g_strdup_printf ("%s / best baseline", s == 0 ? "EPD" : "EPD-Plugin"));
      for (guint i = 0; i < p->n_nfe; i++)
        g_ptr_array_add (cells, ratio_text (p, s, i, fd));
    }
  print_grid (p->args->markdown, (char **) cells->pdata, n_rows, n_cols);
}

static void
print_header (const Protocol *p)
{
  const ProtocolArgs *a = p->args;
  EpdDistillOptions o;

  epd_distill_options_init (&o);
  /* Already applied once without error. */
  epd_cli_distill_apply (&a->train, &o, NULL);
  g_autofree char *distill_teacher = a->train.teacher_heun > 0
    ? g_strdup_printf ("the Heun teacher with %d intermediate times", a->train.teacher_heun)
    : g_strdup ("the adaptive teacher");

  g_print ("Model %s (%s), %zu held-out noises (seed %d), teacher rtol %g, schedule %s, "
           "sigma %g to %g; tables distilled from %s on %d + %d noises (seeds %d, %d), "
           "%d iterations, lr %g, scale ranges %g (dir), %g (time); final stage %u iterations on %d noises.\n"
           "Mean L2 error to the teacher's final samples %s standard deviation (median) over the noises.\n%s",
           a->model, epd_denoiser_describe (p->denoiser), p->batch,
           a->seed + TEST_SEED_OFFSET, a->train.rtol, epd_schedule_kind_to_string (p->schedule.kind),
           p->schedule.sigma_min, p->schedule.sigma_max, distill_teacher,
           a->train.n_train, a->train.n_val, a->seed, a->seed + 1, a->train.iters, a->train.lr,
           a->train.scale_dir, a->train.scale_time, epd_distill_final_iterations (&o, p->dim),
           a->train.final_train,
           epd_cli_plus_minus (), a->markdown ? "\n" : "");
}

/* Whether a cell of rows [from, to) ran with AFS switched (a footnote mark). */
static gboolean
any_afs_changed (const Protocol *p,
                 guint           from,
                 guint           to)
{
  for (guint s = from; s < to; s++)
    for (guint i = 0; i < p->n_nfe; i++)
      if (p->cells[s * p->n_nfe + i].ran && p->cells[s * p->n_nfe + i].afs_changed)
        return TRUE;
  return FALSE;
}

static void
print_footer (const Protocol *p,
              double          wall_s)
{
  const char *gap = p->args->markdown ? "\n" : "";

  if (any_afs_changed (p, N_DISTILLED, N_PROTOCOL_SOLVERS))
    g_print ("%s* with AFS, which gives a two-evaluation solver an odd NFE.\n", gap);
  if (any_afs_changed (p, 0, N_DISTILLED))
    g_print ("%s%s without AFS: with K = 2 and AFS, EPD's latency NFE is odd (2 per step minus 1).\n",
             gap, epd_cli_symbol ("\xe2\x80\xa0", "+"));
  g_print ("%sDistillation wall time:", gap);
  for (guint s = 0; s < N_DISTILLED; s++)
    for (guint i = 0; i < p->n_nfe; i++)
      {
        const Cell *c = &p->cells[s * p->n_nfe + i];

        if (!c->ran)
          continue;
        if (c->distill_s >= 0)
          g_print (" %s NFE %u %.1f s;", epd_solver_kind_to_string (protocol_rows[s].solver), p->nfe[i], c->distill_s);
        else
          g_print (" %s NFE %u cached;", epd_solver_kind_to_string (protocol_rows[s].solver), p->nfe[i]);
      }
  g_print ("\nTotal wall time %.1f s.\n", wall_s);
}

static GOptionContext *
protocol_context (ProtocolArgs *a)
{
  const GOptionEntry entries[] = {
    { "protocol", 0, 0, G_OPTION_ARG_NONE, &a->protocol, "run the paper's Stage 1 protocol", NULL },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &a->model, "model spec (default " EPD_DEFAULT_MODEL ")", "SPEC" },
    { "nfe", 0, 0, G_OPTION_ARG_STRING, &a->nfe, "latency NFEs, comma separated (default 3,5,7,9)", "LIST" },
    { "seeds", 0, 0, G_OPTION_ARG_INT, &a->n_seeds, "held-out noises (default 64)", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &a->seed, "training seed S; validation S+1, test S+1000 (default 0)", "S" },
    { "tables-dir", 0, 0, G_OPTION_ARG_FILENAME, &a->tables_dir, "load distilled tables from DIR, caching new ones there", "DIR" },
    { "markdown", 0, 0, G_OPTION_ARG_NONE, &a->markdown, "print a Markdown table", NULL },
    { "fd-samples", 0, 0, G_OPTION_ARG_INT, &a->fd_samples,
      "also the FD of N samples per solver in the Fashion-MNIST classifier's features (not Inception FID)", "N" },
    { "device", 0, 0, G_OPTION_ARG_STRING, &a->device, "auto, cpu, vulkan, INDEX or NAME (default auto)", "D" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("--protocol - distilled EPD against classic solvers");

  a->n_seeds = 64;
  /* The teacher tolerance also sets the held-out teacher's. */
  g_option_context_set_main_group (context, epd_cli_distill_group (&a->train, entries));
  g_option_context_add_group (context, epd_cli_schedule_group (&a->schedule));
  return context;
}

int
epd_compare_protocol (int    argc,
                      char **argv)
{
  g_auto(ProtocolArgs) a = { 0 };
  g_autoptr(GOptionContext) context = protocol_context (&a);
  g_autoptr(GError) error = NULL;
  Protocol p = { 0 };
  gint64 start = g_get_monotonic_time ();
  int status = 0;

  a.command = epd_cli_command_line (argc, argv);
  if (!epd_cli_parse (context, &argc, &argv, &error))
    return epd_cli_fail (error);
  if (a.model == NULL)
    a.model = g_strdup (EPD_DEFAULT_MODEL);
  if (a.tables_dir != NULL && g_mkdir_with_parents (a.tables_dir, 0755) != 0)
    {
      g_set_error (&error, EPD_ERROR, EPD_ERROR_IO, "cannot create --tables-dir %s", a.tables_dir);
      return epd_cli_fail (error);
    }
  p.args = &a;
  if (!protocol_setup (&p, &error))
    status = epd_cli_fail (error);
  /* NFE outermost, so that EPD and EPD-Plugin share the teacher's states. */
  for (guint i = 0; status == 0 && i < p.n_nfe; i++)
    for (guint s = 0; status == 0 && s < N_PROTOCOL_SOLVERS; s++)
      if (!run_cell (&p, s, i, &error))
        status = epd_cli_fail (error);
  if (status == 0)
    {
      double wall_s = (g_get_monotonic_time () - start) / 1e6;

      print_header (&p);
      print_results (&p, FALSE);
      if (a.fd_samples > 0)
        {
          g_print ("%sFD in the feature space of the project's Fashion-MNIST classifier (not Inception FID) "
                   "of %d samples per solver (noise seed %d) against the 10000 test images; the data's "
                   "floor, FD of the first %d training images, is %.4g.\n%s", a.markdown ? "\n" : "",
                   a.fd_samples, a.seed + FD_SEED_OFFSET, a.fd_samples, p.fd_floor, a.markdown ? "\n" : "");
          print_results (&p, TRUE);
        }
      print_footer (&p, wall_s);
    }
  g_clear_object (&p.denoiser);
  protocol_clear (&p);
  return status;
}
