/* SPDX-License-Identifier: MIT */
/* test-cmd-table.c: `epd table` run as a user would: exit codes, messages on
 * stderr, and a JSON -> NPZ -> JSON conversion that keeps every bit. */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-test-cli.h"
#include "epd.h"

static char *
temp_path (const char *suffix)
{
  g_autofree char *name = g_strdup_printf ("epd-cmd-table-%d-%u%s", getpid (), g_random_int (), suffix);

  return g_build_filename (g_get_tmp_dir (), name, NULL);
}

static void
test_cmd_table_list (void)
{
  g_auto(EpdTestRun) run = { 0 };

  epd_test_cli_run (&run, NULL, "table", "list", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "sd15-best"));
  g_assert_nonnull (strstr (run.out, "flux-start"));
  g_assert_nonnull (strstr (run.out, "ring8"));
  g_assert_nonnull (strstr (run.out, "hd:DIM[:K]"));
}

static void
test_cmd_table_show (void)
{
  g_auto(EpdTestRun) run = { 0 };

  epd_test_cli_run (&run, NULL, "table", "show", "builtin:sd15-best", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "10 (11 grid points)"));
  g_assert_nonnull (strstr (run.out, "0.152703"));
  g_assert_nonnull (strstr (run.out, "teacher"));
}

static void
test_cmd_table_convert (void)
{
  g_autofree char *npz = temp_path (".npz");
  g_autofree char *json = temp_path (".json");
  g_auto(EpdTestRun) a = { 0 };
  g_auto(EpdTestRun) b = { 0 };
  g_autoptr(EpdTable) original = NULL, back = NULL;
  g_autoptr(GError) error = NULL;
  const char *root = g_getenv ("EPD_SOURCE_ROOT");
  g_autofree char *source = g_build_filename (root ? root : "..", "data", "tables", "sd3-512-best.json", NULL);

  epd_test_cli_run (&a, NULL, "table", "convert", source, npz, NULL);
  g_assert_cmpint (a.status, ==, 0);
  epd_test_cli_run (&b, NULL, "table", "convert", npz, json, NULL);
  g_assert_cmpint (b.status, ==, 0);
  original = epd_table_load (source, &error);
  g_assert_no_error (error);
  back = epd_table_load (json, &error);
  g_assert_no_error (error);
  g_assert_true (epd_table_equal (original, back));
  g_unlink (npz);
  g_unlink (json);
}

static void
test_cmd_table_validate (void)
{
  g_autofree char *bad = temp_path (".json");
  g_auto(EpdTestRun) ok = { 0 };
  g_auto(EpdTestRun) fail = { 0 };
  g_auto(EpdTestRun) usage = { 0 };

  epd_test_cli_run (&ok, NULL, "table", "validate", "builtin:flux-best", "builtin:sd15-start", NULL);
  g_assert_cmpint (ok.status, ==, 0);
  g_assert_nonnull (strstr (ok.out, "builtin:flux-best: valid"));

  g_assert_true (g_file_set_contents (bad, "{\"num_steps\": 3, \"num_points\": 2, \"r\": [[0.2, 0.5], [0.3, 1.5]], "
                                      "\"weight\": [[0.5, 0.5], [0.5, 0.5]]}", -1, NULL));
  epd_test_cli_run (&fail, NULL, "table", "validate", bad, NULL);
  g_assert_cmpint (fail.status, !=, 0);
  g_assert_true (g_str_has_prefix (fail.err, "epd: error: "));
  g_assert_nonnull (strstr (fail.err, "step 1, point 1: r = 1.5 is outside (0, 1)"));
  g_unlink (bad);

  epd_test_cli_run (&usage, NULL, "table", "convert", "only-one.json", NULL);
  g_assert_cmpint (usage.status, ==, 2);
}

static void
test_cmd_table_help (void)
{
  const char *actions[] = { "show", "validate", "convert", "list" };

  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    {
      g_auto(EpdTestRun) run = { 0 };

      epd_test_cli_run (&run, NULL, "table", actions[i], "--help", NULL);
      g_assert_cmpint (run.status, ==, 0);
      g_assert_nonnull (strstr (run.out, "Usage:"));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cmd-table/list", test_cmd_table_list);
  g_test_add_func ("/cmd-table/show", test_cmd_table_show);
  g_test_add_func ("/cmd-table/convert", test_cmd_table_convert);
  g_test_add_func ("/cmd-table/validate", test_cmd_table_validate);
  g_test_add_func ("/cmd-table/help", test_cmd_table_help);
  return g_test_run ();
}
