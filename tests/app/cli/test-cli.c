/* SPDX-License-Identifier: MIT */
/* test-cli.c: `epd sample` and `epd compare` (solvers) run as a user runs them:
 * bad values are usage errors rather than silent defaults, a failed run leaves
 * an existing output untouched, the compare dispatcher reads every form of
 * --table, and compare uses the shipped distilled table where it fits. */
#include <math.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-test-cli.h"
#include "epd.h"

#define run_epd(run, ...) epd_test_cli_run ((run), NULL, __VA_ARGS__, NULL)

static char *
temp_path (const char *suffix)
{
  g_autofree char *name = g_strdup_printf ("epd-test-cli-%d-%u%s", getpid (), g_random_int (), suffix);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

/* A usage error: exit 2, one "epd: error: MESSAGE" line, and no output file. */
static void
assert_rejected (const char **args,
                 const char  *message,
                 const char  *out)
{
  g_auto(EpdTestRun) run = { 0 };

  epd_test_cli_runv (&run, NULL, args);
  g_test_message ("%s -> %d: %s", args[1], run.status, run.err);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_true (g_str_has_prefix (run.err, "epd: error: "));
  g_assert_nonnull (strstr (run.err, message));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_cli_sample_rejects (void)
{
  g_autofree char *out = temp_path (".npy");
  const struct { const char *option, *value, *message; } cases[] = {
    { "--steps", "0", "--steps must be a positive integer (got 0)" },
    { "--steps", "-3", "--steps must be a positive integer (got -3)" },
    { "--steps", "4x", "--steps must be a positive integer (got 4x)" },
    { "--rho", "nan", "--rho must be a positive finite number (got nan)" },
    { "--rho", "0", "--rho must be a positive finite number (got 0)" },
    { "--sigma-max", "nan", "--sigma-max must be a positive finite number (got nan)" },
    { "--sigma-min", "-1", "--sigma-min must be a positive finite number (got -1)" },
    { "--shift", "inf", "--shift must be a positive finite number (got inf)" },
    { "--rtol", "0", "--rtol must be a positive finite number (got 0)" },
    { "--rtol", "nan", "--rtol must be a positive finite number (got nan)" },
    { "--rtol", "1", "--rtol must be below 1 (got 1)" },
    { "--batch", "0", "--batch must be a positive integer (got 0)" },
    { "--points", "0", "--points must be an integer from 1 to 64 (got 0)" },
    { "--max-order", "5", "--max-order must be an integer from 1 to 4 (got 5)" },
    { "--seed", "-1", "--seed must be an integer from 0 to 4294967295 (got -1)" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *args[] = { "sample", "--solver", "teacher", "--device", "cpu", "--out", out,
                             cases[i].option, cases[i].value, NULL };

      assert_rejected (args, cases[i].message, out);
    }
}

static void
test_cli_compare_rejects (void)
{
  g_autofree char *csv = temp_path (".csv");
  const struct { const char *option, *value, *message; } cases[] = {
    { "--solvers", "", "--solvers needs at least one solver name" },
    { "--batch", "0", "--batch must be a positive integer (got 0)" },
    { "--rtol", "nan", "--rtol must be a positive finite number (got nan)" },
    { "--rho", "nan", "--rho must be a positive finite number (got nan)" },
    { "--nfe", "0", "--nfe expects numbers from 1 to 1000" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *args[] = { "compare", "--nfe", "3", "--device", "cpu", "--csv", csv,
                             cases[i].option, cases[i].value, NULL };

      assert_rejected (args, cases[i].message, csv);
    }
}

/* A run that fails, before or after the solve, keeps the old file's bytes. */
static void
test_cli_failed_run_keeps_output (void)
{
  g_autofree char *out = temp_path (".npy");
  g_autofree char *latents = temp_path ("-z.npy");
  g_autofree char *missing = g_build_filename (g_get_tmp_dir (), "epd-test-cli-no-such-folder", "t.json", NULL);
  const char *old = "an existing file that a failed run must not touch";
  gsize shape[2] = { 4, 2 };
  g_autoptr(EpdArray) z = epd_array_new (2, shape);
  g_autoptr(GError) error = NULL;
  struct { const char *option, *value; int status; const char *message; } cases[] = {
    { "--trace", missing, 1, "does not exist or is not writable" },
    { "--png", "grid.gif", 2, "--png grid.gif: the file name must end with .png" },
    { "--steps", "0", 2, "--steps must be a positive integer" },
    { "--latents", latents, 1, "the latents have a non-finite value nan at row 3, column 1" },
  };

  for (gsize i = 0; i < 8; i++)
    z->data[i] = 0.25 * i;
  z->data[7] = NAN;
  g_assert_true (epd_npy_save (z, latents, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(EpdTestRun) run = { 0 };
      g_autofree char *contents = NULL;

      g_assert_true (g_file_set_contents (out, old, -1, NULL));
      run_epd (&run, "sample", "--device", "cpu", "--out", out, cases[i].option, cases[i].value);
      g_test_message ("%s -> %d: %s", cases[i].option, run.status, run.err);
      g_assert_cmpint (run.status, ==, cases[i].status);
      g_assert_true (g_str_has_prefix (run.err, "epd: error: ") || strstr (run.err, "\nepd: error: ") != NULL);
      g_assert_nonnull (strstr (run.err, cases[i].message));
      g_assert_true (g_file_get_contents (out, &contents, NULL, NULL));
      g_assert_cmpstr (contents, ==, old);
    }
  /* The NaN-latents error names the file. */
  {
    g_auto(EpdTestRun) run = { 0 };

    run_epd (&run, "sample", "--device", "cpu", "--out", out, "--latents", latents);
    g_assert_nonnull (strstr (run.err, latents));
  }
  g_assert_false (g_file_test (missing, G_FILE_TEST_EXISTS));
  g_unlink (out);
  g_unlink (latents);
}

static void
test_cli_sample_summary (void)
{
  g_autofree char *out = temp_path (".npy");
  g_auto(EpdTestRun) run = { 0 };

  run_epd (&run, "sample", "--solver", "teacher", "--device", "cpu", "--batch", "2", "--out", out);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.err, "teacher (adaptive, "));
  g_assert_null (strstr (run.err, "steps"));
  g_unlink (out);
}

/* -t FILE, -tFILE, --table FILE and --table=FILE all count as tables. */
static void
test_cli_compare_dispatch (void)
{
  const char *forms[][2] = {
    { "-t", "-tbuiltin:sd15-best" },
    { "--table=builtin:ring8-epd-nfe5", "--table=builtin:sd15-best" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (forms); i++)
    {
      g_auto(EpdTestRun) run = { 0 };

      if (g_str_equal (forms[i][0], "-t"))
        run_epd (&run, "compare", "--device", "cpu", "--batch", "4", "-t", "builtin:ring8-epd-nfe5", forms[i][1]);
      else
        run_epd (&run, "compare", "--device", "cpu", "--batch", "4", forms[i][0], forms[i][1]);
      g_test_message ("%s %s -> %d: %s", forms[i][0], forms[i][1], run.status, run.err);
      g_assert_cmpint (run.status, ==, 0);
      g_assert_nonnull (strstr (run.out, "builtin:ring8-epd-nfe5"));
      g_assert_nonnull (strstr (run.out, "builtin:sd15-best"));
    }
}

static void
test_cli_compare_help (void)
{
  g_auto(EpdTestRun) run = { 0 };

  run_epd (&run, "compare", "--help");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "--protocol"));
  g_assert_nonnull (strstr (run.out, "--table A --table B [--png F]"));
  g_assert_nonnull (strstr (run.out, "solvers at equal NFE"));
}

/* The l2_mean and table columns of the one row of an `epd compare --csv` file. */
static double
csv_row (const char  *path,
         char       **table)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) fields = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  g_assert_true (g_str_has_prefix (lines[0], "nfe,solver,steps,afs,nfe_latency,nfe_total,l2_mean,l2_std,table,"));
  fields = g_strsplit (lines[1], ",", -1);
  g_assert_cmpuint (g_strv_length (fields), >=, 9);
  *table = g_strdup (fields[8]);
  return g_ascii_strtod (fields[6], NULL);
}

/* gmm:ring8 at NFE 5 runs EPD on builtin:ring8-epd-nfe5, and beats the uniform
 * table of the same shape (given as --table) on the same noise. */
static void
test_cli_compare_builtin_table (void)
{
  g_autofree char *uniform_path = temp_path (".json");
  g_autofree char *csv_builtin = temp_path ("-builtin.csv");
  g_autofree char *csv_uniform = temp_path ("-uniform.csv");
  g_autofree char *name_builtin = NULL, *name_uniform = NULL;
  g_autoptr(EpdTable) uniform = epd_table_new ("epd", 3, 2);
  g_autoptr(GError) error = NULL;
  g_auto(EpdTestRun) a = { 0 };
  g_auto(EpdTestRun) b = { 0 };
  g_auto(EpdTestRun) plugin = { 0 };
  double err_builtin, err_uniform;

  uniform->afs = TRUE;
  g_assert_true (epd_table_save (uniform, uniform_path, &error));
  g_assert_no_error (error);
  run_epd (&a, "compare", "--model", "gmm:ring8", "--nfe", "5", "--solvers", "epd", "--batch", "32",
           "--device", "cpu", "--rtol", "1e-8", "--csv", csv_builtin);
  g_assert_cmpint (a.status, ==, 0);
  g_assert_nonnull (strstr (a.out, "builtin:ring8-epd-nfe5 (distilled)"));
  g_assert_null (strstr (a.out, "hint:"));
  run_epd (&b, "compare", "--model", "gmm:ring8", "--nfe", "5", "--solvers", "epd", "--batch", "32",
           "--device", "cpu", "--rtol", "1e-8", "--table", uniform_path, "--csv", csv_uniform);
  g_assert_cmpint (b.status, ==, 0);
  g_assert_nonnull (strstr (b.out, "given table"));

  err_builtin = csv_row (csv_builtin, &name_builtin);
  err_uniform = csv_row (csv_uniform, &name_uniform);
  g_test_message ("NFE 5 on ring8, 32 samples: builtin %.4g, uniform %.4g", err_builtin, err_uniform);
  g_assert_cmpstr (name_builtin, ==, "builtin:ring8-epd-nfe5");
  g_assert_cmpstr (name_uniform, ==, "table");
  g_assert_true (isfinite (err_builtin) && err_builtin > 0);
  g_assert_cmpfloat (err_builtin, <, err_uniform);

  /* No shipped table for the plug-in: the uniform one, and a hint says what to do. */
  run_epd (&plugin, "compare", "--model", "gmm:ring8", "--nfe", "5", "--solvers", "epd-plugin",
           "--batch", "4", "--device", "cpu", "--rtol", "1e-6");
  g_assert_cmpint (plugin.status, ==, 0);
  g_assert_nonnull (strstr (plugin.out, "uniform table"));
  g_assert_nonnull (strstr (plugin.out, "hint:"));
  g_assert_nonnull (strstr (plugin.out, "epd distill"));
  g_unlink (uniform_path);
  g_unlink (csv_builtin);
  g_unlink (csv_uniform);
}

/* stdout without its wall-time lines, which differ from run to run. */
static char *
without_times (const char *out)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);
  GString *kept = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (!g_str_has_prefix (lines[i], "Distillation wall time") && !g_str_has_prefix (lines[i], "Total wall time"))
      g_string_append_printf (kept, "%s\n", lines[i]);
  return g_string_free (kept, FALSE);
}

/* --threads spreads the final stage's central differences over threads: the
 * protocol prints the same table for 1 and 2 threads; a negative count is refused. */
static void
test_cli_protocol_threads (void)
{
  g_auto(EpdTestRun) one = { 0 };
  g_auto(EpdTestRun) two = { 0 };
  g_auto(EpdTestRun) bad = { 0 };
  g_autofree char *a = NULL, *b = NULL, *out = temp_path (".json");

#define PROTOCOL_ARGS "compare", "--protocol", "--model", "gmm:ring8", "--nfe", "3,5", "--seeds", "16", \
                      "--iters", "40", "--train", "8", "--val", "8", "--final-iters", "20", \
                      "--final-train", "32", "--device", "cpu"
  run_epd (&one, PROTOCOL_ARGS, "--threads", "1");
  run_epd (&two, PROTOCOL_ARGS, "--threads", "2");
#undef PROTOCOL_ARGS
  g_assert_cmpint (one.status, ==, 0);
  g_assert_cmpint (two.status, ==, 0);
  a = without_times (one.out);
  b = without_times (two.out);
  g_assert_nonnull (strstr (a, "EPD (K=2, AFS)"));
  g_assert_cmpstr (a, ==, b);
  run_epd (&bad, "distill", "--threads", "-1", "--device", "cpu", "--out", out);
  g_assert_cmpint (bad.status, ==, 2);
  g_assert_nonnull (strstr (bad.err, "--threads must not be negative"));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/sample-rejects", test_cli_sample_rejects);
  g_test_add_func ("/cli/compare-rejects", test_cli_compare_rejects);
  g_test_add_func ("/cli/failed-run-keeps-output", test_cli_failed_run_keeps_output);
  g_test_add_func ("/cli/sample-summary", test_cli_sample_summary);
  g_test_add_func ("/cli/compare-dispatch", test_cli_compare_dispatch);
  g_test_add_func ("/cli/compare-help", test_cli_compare_help);
  g_test_add_func ("/cli/compare-builtin-table", test_cli_compare_builtin_table);
  g_test_add_func ("/cli/protocol-threads", test_cli_protocol_threads);
  return g_test_run ();
}
