/* test-vk-cli.c: `epd devices` and `epd bench` as a user runs them (helper C1). */
#include <string.h>
#include <sys/wait.h>

#include <glib.h>

typedef struct
{
  char *out;
  char *err;
  int   status;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs build/app/epd with args; extra_env (may be NULL) is KEY=VALUE pairs. */
static void
run_epd (Run         *run,
         const char  *extra_env,
         const char  *args)
{
  g_autofree char *epd = g_build_filename (g_getenv ("EPD_BUILD_ROOT"), "app", "epd", NULL);
  g_autofree char *line = g_strdup_printf ("%s%s %s %s", extra_env ? "env " : "", extra_env ? extra_env : "",
                                           epd, args);
  g_auto(GStrv) argv = NULL;
  g_autoptr(GError) error = NULL;
  int wait_status;

  g_assert_true (g_shell_parse_argv (line, NULL, &argv, &error));
  g_assert_true (g_spawn_sync (NULL, argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &run->out, &run->err,
                               &wait_status, &error));
  g_assert_no_error (error);
  run->status = WIFEXITED (wait_status) ? WEXITSTATUS (wait_status) : -1;
}

static void
test_devices (void)
{
  g_auto(Run) run = { 0 };

  run_epd (&run, NULL, "devices");
  g_assert_cmpint (run.status, ==, 0);
  /* CI: lavapipe is listed as a CPU implementation, and auto stays on the CPU. */
  g_assert_nonnull (strstr (run.out, "llvmpipe"));
  g_assert_nonnull (strstr (run.out, "Vulkan 1."));
  g_assert_nonnull (strstr (run.out, "auto: the CPU path"));
}

static void
test_devices_without_vulkan (void)
{
  g_auto(Run) run = { 0 };
  g_auto(Run) no_loader = { 0 };

  run_epd (&run, "VK_ICD_FILENAMES=/nonexistent VK_DRIVER_FILES=/nonexistent", "devices");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "no Vulkan devices (vkCreateInstance failed"));
  run_epd (&no_loader, "EPD_VK_LOADER=/nonexistent/libvulkan.so.1", "devices");
  g_assert_cmpint (no_loader.status, ==, 0);
  g_assert_nonnull (strstr (no_loader.out, "no Vulkan loader"));
}

static void
test_bench (void)
{
  g_auto(Run) run = { 0 };

  run_epd (&run, NULL, "bench --model gmm:ring8 --device vulkan --batch 1,3 --points 2 --repeat 1 --markdown");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "dgemm"));
  g_assert_nonnull (strstr (run.out, "gmm:ring8 on llvmpipe"));
  g_assert_nonnull (strstr (run.out, "| samples/s |"));
  g_assert_nonnull (strstr (run.out, "2 points: 1 call of 2B"));
}

static void
test_bench_errors (void)
{
  g_auto(Run) batch = { 0 };
  g_auto(Run) device = { 0 };

  run_epd (&batch, NULL, "bench --batch 4,0");
  g_assert_cmpint (batch.status, ==, 2);
  g_assert_nonnull (strstr (batch.err, "epd: error: --batch: '0'"));
  run_epd (&device, NULL, "bench --model gmm:ring8 --device 'no such gpu' --batch 1 --repeat 1");
  g_assert_cmpint (device.status, ==, 1);
  g_assert_nonnull (strstr (device.err, "epd: error: no Vulkan device 'no such gpu'"));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/vk/cli/devices", test_devices);
  g_test_add_func ("/vk/cli/devices-without-vulkan", test_devices_without_vulkan);
  g_test_add_func ("/vk/cli/bench", test_bench);
  g_test_add_func ("/vk/cli/bench-errors", test_bench_errors);
  return g_test_run ();
}
