/* SPDX-License-Identifier: MIT */
/* test-cmd-compare-tables.c: `epd compare --table A --table B` run as a user runs it:
 * the report, the figure's size for 2-D and image models, and clear usage errors. */
#include <string.h>

#include <cairo.h>
#include <glib/gstdio.h>

#include "epd-test-cli.h"
#include "epd-classifier.h"

/* Runs `epd compare ARGS...` (NULL-terminated) from the build tree with extra_env. */
static void
run_compare (EpdTestRun         *run,
             const char * const *extra_env,
             ...)
{
  va_list ap;

  va_start (ap, extra_env);
  epd_test_cli_run_valist (run, extra_env, "compare", ap);
  va_end (ap);
}

static void
assert_png_size (const char *path,
                 int         width,
                 int         height)
{
  cairo_surface_t *png = cairo_image_surface_create_from_png (path);

  g_assert_cmpint (cairo_surface_status (png), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint (cairo_image_surface_get_width (png), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (png), ==, height);
  cairo_surface_destroy (png);
}

/* The last number of the report line that starts with name. */
static double
last_number (const char *out,
             const char *name)
{
  g_auto(GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], name))
      return g_ascii_strtod (strrchr (g_strchomp (lines[i]), ' ') + 1, NULL);
  g_assert_not_reached ();
}

static void
test_mixture (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-test-compare-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "cmp.png", NULL);
  const char *env[] = { "LC_ALL=C", NULL };
  g_auto(EpdTestRun) run = { 0 };
  double teacher_spread;

  /* The C locale has no "±": the report must say "+-" rather than "?". */
  run_compare (&run, env, "--table", "builtin:sd15-distilled", "--table", "builtin:sd15-best",
               "--model", "gmm:ring8", "--batch", "64", "--device", "cpu", "--png", png, NULL);
  g_test_message ("%s%s", run.out, run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "reward logdensity"));
  g_assert_nonnull (strstr (run.out, "A: builtin:sd15-distilled"));
  g_assert_nonnull (strstr (run.out, "B: builtin:sd15-best"));
  g_assert_nonnull (strstr (run.out, "teacher"));
  g_assert_nonnull (strstr (run.out, "paired difference B - A"));
  g_assert_nonnull (strstr (run.out, "+-"));
  g_assert_null (strstr (run.out, "?"));
  g_assert_nonnull (strstr (run.out, "coverage"));
  /* The teacher solves the ODE exactly, so its samples have the data's within-mode
   * spread: 1 within 4 standard errors of a mean of 64 Rayleigh variables (0.26). */
  teacher_spread = last_number (run.out, "teacher");
  g_test_message ("teacher spread %g", teacher_spread);
  g_assert_cmpfloat_with_epsilon (teacher_spread, 1.0, 0.26);
  assert_png_size (png, 3 * 380, 380);
  g_unlink (png);
  g_rmdir (dir);
}

/* An image model: a throw-away classifier stands in for the cached one, so that the
 * test never trains the real one. */
static void
test_images (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-test-compare-XXXXXX", NULL);
  g_autofree char *png = g_build_filename (dir, "cmp.png", NULL);
  g_autofree char *cache_dir = g_build_filename (dir, "epd-studio", NULL);
  g_autoptr(EpdClassifier) classifier = epd_classifier_new (28 * 28, 128, 10, 1);
  g_autofree char *cache_home = g_strconcat ("XDG_CACHE_HOME=", dir, NULL);
  const char *env[] = { cache_home, NULL };
  g_autofree char *cache_file = NULL;
  g_autofree char *default_path = NULL;
  g_autofree char *base = NULL;
  EpdClassifierSettings settings;
  g_auto(EpdTestRun) run = { 0 };
  g_autoptr(GError) error = NULL;

  epd_classifier_settings_init (&settings);
  default_path = epd_classifier_cache_path (&settings);
  base = g_path_get_basename (default_path);
  cache_file = g_build_filename (cache_dir, base, NULL);
  g_assert_cmpint (g_mkdir_with_parents (cache_dir, 0755), ==, 0);
  g_assert_true (epd_classifier_save (classifier, cache_file, &error));
  run_compare (&run, env, "--table", "builtin:sd15-distilled", "--table", "builtin:sd15-best",
               "--model", "dataset:fashion-mnist:100", "--batch", "2", "--device", "cpu",
               "--reward", "classifier,sharpness=0.5", "--png", png, NULL);
  g_test_message ("%s%s", run.out, run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "reward classifier,sharpness=0.5"));
  /* 3 columns of 28*3+4 = 88 px, widened to 90 or the longest title; 2 rows of 88 + 16. */
  {
    cairo_surface_t *surface = cairo_image_surface_create_from_png (png);

    g_assert_cmpint (cairo_image_surface_get_height (surface), ==, 22 + 2 * (88 + 16) + 8);
    g_assert_cmpint (cairo_image_surface_get_width (surface), >=, 8 + 3 * (90 + 8));
    cairo_surface_destroy (surface);
  }
  g_unlink (png);
  g_unlink (cache_file);
  g_rmdir (cache_dir);
  g_rmdir (dir);
}

static void
test_errors (void)
{
  g_auto(EpdTestRun) one = { 0 };
  g_auto(EpdTestRun) missing = { 0 };
  g_auto(EpdTestRun) wrong_reward = { 0 };
  g_auto(EpdTestRun) zero_batch = { 0 };

  /* One table with --png still means this mode (one table alone compares solvers). */
  run_compare (&one, NULL, "--table", "builtin:sd15-best", "--png", "/nonexistent/x.png", NULL);
  g_assert_cmpint (one.status, ==, 2);
  g_assert_nonnull (strstr (one.err, "epd: error: need exactly two --table"));

  run_compare (&missing, NULL, "--table", "/nonexistent/a.json", "--table", "builtin:sd15-best",
               "--device", "cpu", NULL);
  g_assert_cmpint (missing.status, ==, 1);
  g_assert_nonnull (strstr (missing.err, "/nonexistent/a.json"));

  run_compare (&wrong_reward, NULL, "--table", "builtin:sd15-distilled", "--table", "builtin:sd15-best",
               "--model", "gmm:ring8", "--device", "cpu", "--reward", "sharpness", NULL);
  g_assert_cmpint (wrong_reward.status, ==, 1);
  g_assert_nonnull (strstr (wrong_reward.err, "needs an image model"));

  run_compare (&zero_batch, NULL, "--table", "builtin:sd15-distilled", "--table", "builtin:sd15-best",
               "--batch", "0", NULL);
  g_assert_cmpint (zero_batch.status, ==, 2);
  g_assert_nonnull (strstr (zero_batch.err, "--batch >= 1"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cmd-compare-tables/mixture", test_mixture);
  g_test_add_func ("/cmd-compare-tables/images", test_images);
  g_test_add_func ("/cmd-compare-tables/errors", test_errors);
  return g_test_run ();
}
