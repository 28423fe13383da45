/* SPDX-License-Identifier: MIT
 * test-cli-limits.c: hostile sizes and output paths given to `epd`: huge
 * counts are refused against the memory budget with the limit named, and
 * outputs that an atomic write would replace (links, FIFOs) or that cannot
 * be written (folders) are refused before any work. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cairo.h>

#include "epd-test-cli.h"

static const char * const one_gib[] = { "EPD_MEMORY_LIMIT=1G", NULL };

/* Runs epd with extra_env and checks a clean refusal naming fragment. */
static void
assert_refused (const char * const *extra_env,
                const char         *fragment,
                const char * const *args)
{
  g_auto(EpdTestRun) run = { 0 };

  epd_test_cli_runv (&run, extra_env, args);
  g_test_message ("%s", run.err);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_true (g_str_has_prefix (run.err, "epd: error: ") || strstr (run.err, "\nepd: error: ") != NULL);
  g_assert_nonnull (strstr (run.err, fragment));
}

/* Each ended in "GLib-ERROR: failed to allocate" and SIGTRAP. */
static void
test_huge_counts (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-limits-XXXXXX", NULL);
  g_autofree char *out = g_build_filename (dir, "out.json", NULL);
  g_autofree char *npy = g_build_filename (dir, "x.npy", NULL);
  const char *sample[] = { "sample", "--batch", "2147483647", "--out", npy, "--device", "cpu", NULL };
  const char *distill[] = { "distill", "--train", "100000000", "--out", out, "--device", "cpu", NULL };
  const char *group[] = { "rdpo", "--init", "builtin:ring8-epd-nfe5", "--reward", "logdensity",
                          "--group", "100000", "--batch", "100000", "--out", out, "--device", "cpu", NULL };
  const char *val[] = { "rdpo", "--init", "builtin:ring8-epd-nfe5", "--reward", "logdensity",
                        "--val-latents", "2147483647", "--out", out, "--device", "cpu", NULL };

  assert_refused (one_gib, "--batch 2147483647 (samples of 2 values) needs", sample);
  assert_refused (one_gib, "more than the limit of 1.0 GiB (EPD_MEMORY_LIMIT)", sample);
  /* Without a limit set, the machine's memory is the budget. */
  assert_refused (NULL, "(physical memory; EPD_MEMORY_LIMIT sets another)", sample);
  assert_refused (one_gib, "distillation of 100000000 training and", distill);
  assert_refused (one_gib, "RDPO with group 100000 x batch 100000 rollouts", group);
  assert_refused (one_gib, "RDPO's held-out solve of 2147483647 samples", val);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (npy, G_FILE_TEST_EXISTS));
  g_rmdir (dir);
}

/* The Heun teacher's refinement is bounded: a usage error (exit 2). */
static void
test_teacher_heun_range (void)
{
  const char *values[] = { "65", "-1" };

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      const char *args[] = { "distill", "--teacher-heun", values[i], "--out", "never.json",
                             "--device", "cpu", NULL };
      g_auto(EpdTestRun) run = { 0 };

      epd_test_cli_runv (&run, NULL, args);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_nonnull (strstr (run.err, "--teacher-heun lies in [0, 64]"));
      g_assert_false (g_file_test ("never.json", G_FILE_TEST_EXISTS));
    }
}

static void
write_png (const char *path)
{
  cairo_surface_t *s = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 4, 4);

  g_assert_cmpint (cairo_surface_write_to_png (s, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (s);
}

/* Two 4 x 4 PNGs at 4096 x 4096 RGB took 97 s and 14.9 GB. */
static void
test_huge_png_side (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-limits-XXXXXX", NULL);
  g_autofree char *a = g_build_filename (dir, "a.png", NULL);
  g_autofree char *b = g_build_filename (dir, "b.png", NULL);
  g_autofree char *npy = g_build_filename (dir, "x.npy", NULL);
  g_autofree char *model = g_strdup_printf ("dataset:%s:4096:rgb", dir);
  const char *args[] = { "sample", "--model", model, "--out", npy, "--device", "cpu", NULL };

  write_png (a);
  write_png (b);
  assert_refused (one_gib, "2 images of 4096 x 4096 x 3 needs 1.1 GiB of memory", args);
  g_unlink (a);
  g_unlink (b);
  g_rmdir (dir);
}

/* --out onto a link or a FIFO replaced it with a regular file. */
static void
test_special_outputs (void)
{
  g_autofree char *dir = g_dir_make_tmp ("epd-limits-XXXXXX", NULL);
  g_autofree char *target = g_build_filename (dir, "target.npy", NULL);
  g_autofree char *link = g_build_filename (dir, "link.npy", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo.npy", NULL);
  const char *to_link[] = { "sample", "--out", link, "--device", "cpu", NULL };
  const char *to_fifo[] = { "sample", "--out", fifo, "--device", "cpu", NULL };
  const char *to_folder[] = { "distill", "--iters", "5", "--train", "4", "--val", "4", "--out", dir,
                              "--device", "cpu", NULL };
  g_auto(EpdTestRun) run = { 0 };

  g_assert_cmpint (symlink (target, link), ==, 0);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  assert_refused (NULL, "is a symbolic link, not a regular file; refusing to replace it", to_link);
  g_assert_true (g_file_test (link, G_FILE_TEST_IS_SYMLINK));
  g_assert_false (g_file_test (target, G_FILE_TEST_EXISTS));
  assert_refused (NULL, "is a FIFO (named pipe), not a regular file; refusing to replace it", to_fifo);
  g_assert_false (g_file_test (fifo, G_FILE_TEST_IS_REGULAR));
  /* distill checked its --out only when saving, after training. */
  epd_test_cli_runv (&run, NULL, to_folder);
  g_assert_cmpint (run.status, !=, 0);
  g_assert_nonnull (strstr (run.err, "is a folder, not a file"));
  g_assert_null (strstr (run.err, "iter "));
  g_unlink (link);
  g_unlink (fifo);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/limits/huge-counts", test_huge_counts);
  g_test_add_func ("/cli/limits/teacher-heun-range", test_teacher_heun_range);
  g_test_add_func ("/cli/limits/huge-png-side", test_huge_png_side);
  g_test_add_func ("/cli/limits/special-outputs", test_special_outputs);
  return g_test_run ();
}
