/* SPDX-License-Identifier: MIT */
/* test-builtin-tables.c: the tables shipped in data/tables/ load by name from
 * the data library's GResource, validate, and equal their files: the published
 * ones, and the project's own distilled PRESET-epd-nfe5 tables, which must beat
 * the uniform table and Euler at the same latency NFE on noises they never saw. */
#include <math.h>
#include <string.h>

#include "epd-model.h"

static const char *published[] = {
  "flux-best", "flux-start", "sd15-best", "sd15-distilled", "sd15-start",
  "sd3-1024-best", "sd3-1024-distilled", "sd3-1024-start",
  "sd3-512-best", "sd3-512-distilled", "sd3-512-start",
};
/* Ours, made by scripts/make-builtin-tables for these presets. */
static const char *distilled_presets[] = { "ring8", "grid25", "spiral", "moons" };
/* Ours, made by scripts/make-fmnist-tables for unet:fashion-mnist. */
static const char *fmnist_tables[] = {
  "fashion-mnist-epd-nfe5", "fashion-mnist-epd-nfe5-rdpo", "fashion-mnist-epd-nfe7",
  "fashion-mnist-epd-nfe3", "fashion-mnist-epd-nfe9",
};
#define FMNIST_PREFIX "fashion-mnist-"

#define DISTILLED_SUFFIX "-epd-nfe5"
/* Neither a training (0) nor a validation (1) seed of the distillation. */
#define HELD_OUT_SEED 20261126
#define HELD_OUT_BATCH 512

static void
test_builtin_names (void)
{
  g_auto(GStrv) names = epd_table_builtin_names ();

  g_assert_cmpuint (g_strv_length (names), ==,
                    G_N_ELEMENTS (published) + G_N_ELEMENTS (distilled_presets) + G_N_ELEMENTS (fmnist_tables));
  for (guint i = 0; i < G_N_ELEMENTS (fmnist_tables); i++)
    g_assert_true (g_strv_contains ((const char * const *) names, fmnist_tables[i]));
  g_assert_cmpstr (names[0], ==, "fashion-mnist-epd-nfe3");  /* sorted */
  for (guint i = 0; i < G_N_ELEMENTS (published); i++)
    g_assert_true (g_strv_contains ((const char * const *) names, published[i]));
  for (guint i = 0; i < G_N_ELEMENTS (distilled_presets); i++)
    {
      g_autofree char *name = g_strconcat (distilled_presets[i], DISTILLED_SUFFIX, NULL);
      g_assert_true (g_strv_contains ((const char * const *) names, name));
    }
}

/* The published tables' shapes and schedules. */
static void
check_published (const char     *name,
                 const EpdTable *t)
{
  g_assert_cmpuint (t->n_points, ==, 2);
  g_assert_cmpuint (t->steps, ==, g_str_has_prefix (name, "flux") ? 8 : 10);
  g_assert_cmpint (t->schedule.kind, ==,
                   g_str_has_prefix (name, "sd15") ? EPD_SCHEDULE_DISCRETE : EPD_SCHEDULE_FLOWMATCH);
}

/* Ours: the studio's start-up setting, and metadata that says how it was made. */
static void
check_distilled (const char     *name,
                 const EpdTable *t)
{
  g_autofree char *preset = g_strndup (name, strlen (name) - strlen (DISTILLED_SUFFIX));
  g_autofree char *spec = g_strconcat ("gmm:", preset, NULL);
  const char *command;

  g_assert_cmpstr (t->solver, ==, "epd");
  g_assert_cmpuint (t->steps, ==, 3);
  g_assert_cmpuint (t->n_points, ==, 2);
  g_assert_true (t->afs);
  g_assert_cmpint (t->schedule.kind, ==, EPD_SCHEDULE_POLYNOMIAL);
  g_assert_cmpstr (json_object_get_string_member (t->metadata, "model"), ==, spec);
  g_assert_cmpstr (json_object_get_string_member (t->metadata, "created_by"), ==, "epd distill (Stage 1)");
  g_assert_nonnull (strstr (json_object_get_string_member (t->metadata, "origin"), "not a published table"));
  command = json_object_get_string_member (t->metadata, "command");
  g_assert_true (g_str_has_prefix (command, "epd distill --model "));
  g_assert_nonnull (strstr (command, spec));
  g_assert_cmpint (json_object_get_int_member (t->metadata, "train_seed"), !=, HELD_OUT_SEED);
  g_assert_cmpint (json_object_get_int_member (t->metadata, "val_seed"), !=, HELD_OUT_SEED);
}

/* The learned Fashion-MNIST model's tables: EPD with K = 2 and AFS for the model, their
 * latency NFE, how they were made and on which snapshot of the model, on the grid every
 * command and the studio use for it by default (the EDM range narrowed to the model's). */
static void
check_fmnist (const char     *name,
              const EpdTable *t)
{
  gboolean rdpo = g_str_has_suffix (name, "-rdpo");
  guint nfe = (guint) g_ascii_strtoull (strstr (name, "-nfe") + 4, NULL, 10);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec ("unet:fashion-mnist", &error);
  double lo, hi;

  g_assert_no_error (error);
  g_assert_true (epd_denoiser_get_sigma_range (model, &lo, &hi));
  g_assert_cmpfloat (t->schedule.sigma_min, ==, lo);
  g_assert_cmpfloat (t->schedule.sigma_max, ==, MIN (hi, 80.0));

  g_assert_cmpstr (t->solver, ==, "epd");
  g_assert_cmpuint (t->steps, ==, (nfe + 1) / 2);
  g_assert_cmpuint (t->n_points, ==, 2);
  g_assert_true (t->afs);
  g_assert_cmpint (t->schedule.kind, ==, EPD_SCHEDULE_POLYNOMIAL);
  g_assert_cmpstr (json_object_get_string_member (t->metadata, "model"), ==, "unet:fashion-mnist");
  g_assert_cmpstr (json_object_get_string_member (t->metadata, "created_by"), ==,
                   rdpo ? "epd rdpo (Stage 2)" : "epd distill (Stage 1)");
  g_assert_nonnull (strstr (json_object_get_string_member (t->metadata, "origin"), "not a published table"));
  g_assert_cmpint (json_object_get_int_member (t->metadata, "latency_nfe"), ==, nfe);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (t->metadata, "model_snapshot"),
                                   "data/models/fashion-mnist, training step "));
}

/* Each builtin loads, validates, and is bit-identical to its source file. */
static void
test_builtin_tables_load (void)
{
  g_auto(GStrv) names = epd_table_builtin_names ();
  const char *root = g_getenv ("EPD_SOURCE_ROOT");

  for (guint i = 0; names[i]; i++)
    {
      g_autofree char *spec = g_strconcat ("builtin:", names[i], NULL);
      g_autofree char *file = g_strconcat (names[i], ".json", NULL);
      g_autofree char *path = g_build_filename (root ? root : "..", "data", "tables", file, NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdTable) t = epd_table_load (spec, &error);
      g_autoptr(EpdTable) from_file = NULL;

      g_assert_no_error (error);
      g_assert_true (epd_table_validate (t, &error));
      if (g_str_has_prefix (names[i], FMNIST_PREFIX))
        check_fmnist (names[i], t);
      else if (g_str_has_suffix (names[i], DISTILLED_SUFFIX))
        check_distilled (names[i], t);
      else
        check_published (names[i], t);
      from_file = epd_table_load (path, &error);
      g_assert_no_error (error);
      g_assert_true (epd_table_equal (t, from_file));
    }
}

/* Mean Euclidean distance between two [batch][dim] sample sets. */
static double
mean_distance (const double *x,
               const double *y,
               gsize         batch,
               guint         dim)
{
  double sum = 0;

  for (gsize b = 0; b < batch; b++)
    {
      double d2 = 0;
      for (guint j = 0; j < dim; j++)
        d2 += (x[b * dim + j] - y[b * dim + j]) * (x[b * dim + j] - y[b * dim + j]);
      sum += sqrt (d2);
    }
  return sum / batch;
}

/* Final samples of a solve from the held-out noises z; its latency NFE in nfe. */
static double *
solve_held_out (EpdDenoiser           *model,
                const EpdSolveOptions *options,
                const double          *z,
                EpdNfe                *nfe)
{
  guint dim = epd_denoiser_get_dim (model);
  gsize n = (gsize) HELD_OUT_BATCH * dim;
  g_autofree double *x_init = g_new (double, n);
  double *x_out = g_new (double, n);
  g_autoptr(GError) error = NULL;

  epd_solve_init_from_noise (options, z, n, x_init);
  g_assert_true (epd_solve (model, options, x_init, HELD_OUT_BATCH, x_out, NULL, nfe, NULL, &error));
  g_assert_no_error (error);
  return x_out;
}

/* Mean final error to the teacher of a solve on the table's schedule. */
static double
held_out_error (EpdDenoiser     *model,
                const EpdTable  *like,
                EpdSolverKind    solver,
                guint            steps,
                gboolean         afs,
                const EpdTable  *table,
                const double    *z,
                const double    *teacher,
                EpdNfe          *nfe)
{
  EpdSolveOptions options;
  g_autofree double *x = NULL;

  epd_solve_options_init (&options);
  options.solver = solver;
  options.steps = steps;
  options.schedule = like->schedule;
  options.afs = afs;
  options.table = table;
  x = solve_held_out (model, &options, z, nfe);
  return mean_distance (x, teacher, HELD_OUT_BATCH, epd_denoiser_get_dim (model));
}

static void
test_distilled_beat_baselines (gconstpointer data)
{
  const char *preset = data;
  g_autofree char *spec = g_strconcat ("gmm:", preset, NULL);
  g_autofree char *name = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, preset, DISTILLED_SUFFIX, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) model = epd_model_from_spec (spec, &error);
  g_autoptr(EpdTable) t = epd_table_load (name, &error);
  g_autoptr(EpdTable) uniform = NULL;
  g_autofree double *z = NULL;
  g_autofree double *teacher = NULL;
  EpdSolveOptions teacher_options;
  EpdNfe nfe, uniform_nfe, euler_nfe, euler_afs_nfe;
  double err, uniform_err, euler_err, euler_afs_err;

  g_assert_no_error (error);
  uniform = epd_table_new (t->solver, t->steps, t->n_points);
  uniform->afs = t->afs;
  z = epd_random_latents (HELD_OUT_SEED, HELD_OUT_BATCH, epd_denoiser_get_dim (model));
  epd_solve_options_init (&teacher_options);
  teacher_options.solver = EPD_SOLVER_TEACHER;
  teacher_options.steps = t->steps;
  teacher_options.schedule = t->schedule;
  teacher = solve_held_out (model, &teacher_options, z, NULL);
  err = held_out_error (model, t, EPD_SOLVER_EPD, t->steps, t->afs, t, z, teacher, &nfe);
  uniform_err = held_out_error (model, t, EPD_SOLVER_EPD, t->steps, t->afs, uniform, z, teacher, &uniform_nfe);
  /* Euler at the same latency NFE: one evaluation a step, none on an AFS first step. */
  euler_err = held_out_error (model, t, EPD_SOLVER_EULER, nfe.latency, FALSE, NULL, z, teacher, &euler_nfe);
  euler_afs_err = held_out_error (model, t, EPD_SOLVER_EULER, nfe.latency + 1, TRUE, NULL, z, teacher,
                                  &euler_afs_nfe);
  g_test_message ("%s at latency NFE %u: final error to the teacher %.4g; uniform table %.4g, "
                  "Euler %.4g, Euler with AFS %.4g", name, nfe.latency, err, uniform_err, euler_err,
                  euler_afs_err);
  g_assert_cmpuint (nfe.latency, ==, 5);
  g_assert_cmpuint (uniform_nfe.latency, ==, nfe.latency);
  g_assert_cmpuint (euler_nfe.latency, ==, nfe.latency);
  g_assert_cmpuint (euler_afs_nfe.latency, ==, nfe.latency);
  g_assert_true (isfinite (err));
  g_assert_cmpfloat (err, <, uniform_err);
  g_assert_cmpfloat (err, <, euler_err);
  g_assert_cmpfloat (err, <, euler_afs_err);
}

/* FLUX tables get the FLUX flow-matching preset (shift e^1.15), SD3 its own. */
static void
test_builtin_flow_presets (void)
{
  g_autoptr(EpdTable) flux = epd_table_load ("builtin:flux-best", NULL);
  g_autoptr(EpdTable) sd3 = epd_table_load ("builtin:sd3-512-best", NULL);

  g_assert_cmpfloat_with_epsilon (flux->schedule.shift, exp (1.15), 1e-12);
  g_assert_cmpfloat (sd3->schedule.shift, ==, 3.0);
}

static void
test_builtin_unknown (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) t = epd_table_load ("builtin:sd16-best", &error);

  g_assert_null (t);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "sd16-best"));
  g_assert_nonnull (strstr (error->message, "sd15-best"));
}

/* RDPO moved step 4's weights from [0.40, 0.60] towards sparsity
 * (the reference README's example). */
static void
test_builtin_rdpo_sparsity (void)
{
  g_autoptr(EpdTable) distilled = epd_table_load ("builtin:sd15-distilled", NULL);
  g_autoptr(EpdTable) best = epd_table_load ("builtin:sd15-best", NULL);

  g_assert_cmpfloat (fabs (distilled->weight[2 * 4] - 0.40), <, 0.01);
  g_assert_cmpfloat (fabs (best->weight[2 * 4] - 0.06), <, 0.01);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/builtin-tables/names", test_builtin_names);
  g_test_add_func ("/builtin-tables/load", test_builtin_tables_load);
  g_test_add_func ("/builtin-tables/flow-presets", test_builtin_flow_presets);
  g_test_add_func ("/builtin-tables/unknown", test_builtin_unknown);
  g_test_add_func ("/builtin-tables/rdpo-sparsity", test_builtin_rdpo_sparsity);
  for (guint i = 0; i < G_N_ELEMENTS (distilled_presets); i++)
    {
      g_autofree char *path = g_strdup_printf ("/builtin-tables/distilled-beats-baselines/%s",
                                               distilled_presets[i]);
      g_test_add_data_func (path, distilled_presets[i], test_distilled_beat_baselines);
    }
  return g_test_run ();
}
