/* SPDX-License-Identifier: MIT */
/* test-vk-device.c: device choice, model opening and the no-Vulkan fallback. */
#include <string.h>

#include <glib/gstdio.h>

#include "epd-model-open.h"
#include "epd-vk-denoiser.h"
#include "epd-test-vk.h"

static EpdVkDeviceInfo *
fake_device (guint            index,
             const char      *name,
             EpdVkDeviceType  type,
             gboolean         usable)
{
  EpdVkDeviceInfo *info = g_new0 (EpdVkDeviceInfo, 1);

  info->index = index;
  info->name = g_strdup (name);
  info->type = type;
  info->usable = usable;
  return info;
}

static GPtrArray *
fake_devices (gboolean with_discrete)
{
  GPtrArray *devices = g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_device_info_free);

  g_ptr_array_add (devices, fake_device (0, "llvmpipe (LLVM 15.0.6, 256 bits)", EPD_VK_DEVICE_CPU, TRUE));
  g_ptr_array_add (devices, fake_device (1, "Intel(R) UHD Graphics 620", EPD_VK_DEVICE_INTEGRATED, TRUE));
  g_ptr_array_add (devices, fake_device (2, "Old GPU", EPD_VK_DEVICE_DISCRETE, FALSE));
  if (with_discrete)
    g_ptr_array_add (devices, fake_device (3, "NVIDIA H100 80GB HBM3", EPD_VK_DEVICE_DISCRETE, TRUE));
  return devices;
}

static guint
select_ok (GPtrArray  *devices,
           const char *selector)
{
  g_autoptr(GError) error = NULL;
  guint position = G_MAXUINT;

  g_assert_true (epd_vk_select_device (devices, selector, &position, &error));
  g_assert_no_error (error);
  return position;
}

static void
select_fails (GPtrArray  *devices,
              const char *selector,
              const char *fragment)
{
  g_autoptr(GError) error = NULL;
  guint position;

  g_assert_false (epd_vk_select_device (devices, selector, &position, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
  g_assert_nonnull (strstr (error->message, fragment));
}

/* Discrete > integrated; a CPU implementation only when asked for. */
static void
test_selection (void)
{
  g_autoptr(GPtrArray) all = fake_devices (TRUE);
  g_autoptr(GPtrArray) no_discrete = fake_devices (FALSE);
  g_autoptr(GPtrArray) cpu_only = g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_device_info_free);
  g_autoptr(GPtrArray) none = g_ptr_array_new_with_free_func ((GDestroyNotify) epd_vk_device_info_free);

  g_ptr_array_add (cpu_only, fake_device (0, "llvmpipe", EPD_VK_DEVICE_CPU, TRUE));
  g_assert_cmpint (epd_vk_choose_auto (all), ==, 3);
  g_assert_cmpint (epd_vk_choose_auto (no_discrete), ==, 1);
  g_assert_cmpint (epd_vk_choose_auto (cpu_only), ==, -1);
  g_assert_cmpint (epd_vk_choose_auto (none), ==, -1);
  g_assert_cmpuint (select_ok (all, "auto"), ==, 3);
  g_assert_cmpuint (select_ok (all, "vulkan"), ==, 3);
  g_assert_cmpuint (select_ok (cpu_only, "vulkan"), ==, 0);
  g_assert_cmpuint (select_ok (all, "0"), ==, 0);
  g_assert_cmpuint (select_ok (all, "1"), ==, 1);
  g_assert_cmpuint (select_ok (all, "h100"), ==, 3);
  g_assert_cmpuint (select_ok (all, "LLVMPIPE"), ==, 0);
  select_fails (cpu_only, "auto", "no GPU");
  select_fails (none, "vulkan", "there are no Vulkan devices");
  select_fails (all, "4", "index out of range");
  select_fails (all, "radeon", "no device matches");
  select_fails (all, "old gpu", "lacks Vulkan 1.1");
}

static void
test_list_real (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autoptr(GPtrArray) devices = epd_vk_list_devices (&reason, &error);
  gboolean has_usable = FALSE;

  g_assert_no_error (error);
  /* These tests need a Vulkan device: lavapipe in CI, or a GPU. */
  g_assert_cmpuint (devices->len, >, 0);
  for (guint i = 0; i < devices->len; i++)
    {
      const EpdVkDeviceInfo *info = g_ptr_array_index (devices, i);

      g_assert_cmpuint (info->index, ==, i);
      g_assert_cmpstr (info->name, !=, "");
      has_usable |= info->usable;
    }
  g_assert_true (has_usable);
}

static void
test_context_error (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkContext) context = epd_vk_context_new ("no such device", &error);

  g_assert_null (context);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
  g_assert_nonnull (strstr (error->message, "no such device"));
}

static EpdDenoiser *
open_ok (const char  *device,
         char       **notice)
{
  g_autoptr(GError) error = NULL;
  EpdDenoiser *denoiser = epd_model_open ("gmm:ring8", device, notice, &error);

  g_assert_no_error (error);
  g_assert_nonnull (denoiser);
  g_assert_nonnull (*notice);
  return denoiser;
}

/* auto takes a GPU where there is one, else stays on the CPU and says why
 * (lavapipe, in CI, is a CPU implementation); "vulkan" and its device's name
 * take the best device of any kind. */
static void
test_model_open (void)
{
  g_autofree char *notice_auto = NULL, *notice_cpu = NULL, *notice_vk = NULL, *notice_name = NULL;
  g_autoptr(EpdDenoiser) on_auto = open_ok ("auto", &notice_auto);
  g_autoptr(EpdDenoiser) on_cpu = open_ok ("cpu", &notice_cpu);
  g_autoptr(EpdDenoiser) on_vk = open_ok ("vulkan", &notice_vk);
  g_autofree char *vk_name = epd_test_vk_device_name ("vulkan");
  g_autoptr(EpdDenoiser) on_name = open_ok (vk_name, &notice_name);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) missing = epd_model_open ("gmm:ring8", "99", NULL, &error);

  g_autoptr(GPtrArray) devices = epd_vk_list_devices (NULL, NULL);

  if (!epd_vk_gpu_node_present ())
    {
      g_assert_false (EPD_IS_VK_DENOISER (on_auto));
      g_assert_nonnull (strstr (notice_auto, "the kernel shows no GPU device"));
    }
  else if (epd_vk_choose_auto (devices) < 0)
    {
      g_autofree char *why = epd_vk_explain_auto (devices, NULL);

      g_assert_false (EPD_IS_VK_DENOISER (on_auto));
      g_assert_nonnull (strstr (notice_auto, why));
    }
  else
    g_assert_true (EPD_IS_VK_DENOISER (on_auto));
  g_assert_false (EPD_IS_VK_DENOISER (on_cpu));
  g_assert_true (EPD_IS_VK_DENOISER (on_vk));
  g_assert_nonnull (strstr (notice_vk, "(Vulkan, float32)"));
  g_assert_nonnull (strstr (epd_denoiser_describe (on_vk), vk_name));
  g_assert_true (EPD_IS_VK_DENOISER (on_name));
  g_assert_cmpuint (epd_denoiser_get_dim (on_vk), ==, 2);
  g_assert_null (missing);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
}

/* A model with no kernel is refused by the Vulkan denoiser. */
static void
test_unsupported_model (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdVkContext) context = epd_vk_context_new ("vulkan", &error);
  g_autoptr(EpdDenoiser) cpu = epd_model_open ("gmm:ring8", "cpu", NULL, &error);
  g_autoptr(EpdVkDenoiser) vk = NULL;
  g_autoptr(EpdVkDenoiser) vk2 = NULL;

  g_assert_no_error (error);
  vk = epd_vk_denoiser_new (context, cpu, &error);
  g_assert_no_error (error);
  /* A Vulkan denoiser is not a model with a kernel of its own. */
  vk2 = epd_vk_denoiser_new (context, EPD_DENOISER (vk), &error);
  g_assert_null (vk2);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED);
}

/* Without a driver (or a loader) nothing crashes: the listing is empty with a
 * reason, auto runs on the CPU with a notice, and asking for Vulkan fails. */
static void
check_without_vulkan (void)
{
  g_autofree char *reason = NULL;
  g_autofree char *notice = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = epd_vk_list_devices (&reason, &error);
  g_autoptr(EpdDenoiser) on_auto = NULL;
  g_autoptr(EpdDenoiser) on_vk = NULL;
  g_autoptr(EpdVkContext) context = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 0);
  g_assert_nonnull (reason);
  on_auto = epd_model_open ("gmm:ring8", "auto", &notice, &error);
  g_assert_no_error (error);
  g_assert_false (EPD_IS_VK_DENOISER (on_auto));
  g_assert_nonnull (strstr (notice, "no Vulkan GPU"));
  on_vk = epd_model_open ("gmm:ring8", "vulkan", NULL, &error);
  g_assert_null (on_vk);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
  g_clear_error (&error);
  context = epd_vk_context_new ("vulkan", &error);
  g_assert_null (context);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_DEVICE);
}

static void
test_no_driver (void)
{
  if (g_test_subprocess ())
    {
      /* Both spellings of the loader's driver list, before any instance. */
      g_setenv ("EPD_GPU_NODES", "/dev/null", TRUE);
      g_setenv ("VK_ICD_FILENAMES", "/nonexistent/icd.json", TRUE);
      g_setenv ("VK_DRIVER_FILES", "/nonexistent/icd.json", TRUE);
      check_without_vulkan ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static void
test_no_loader (void)
{
  if (g_test_subprocess ())
    {
      g_setenv ("EPD_GPU_NODES", "/dev/null", TRUE);
      g_setenv ("EPD_VK_LOADER", "/nonexistent/libvulkan.so.1", TRUE);
      check_without_vulkan ();
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static gboolean
vulkan_loader_mapped (void)
{
  g_autofree char *maps = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  /* The loader, libvulkan.so.1 -- not a driver such as libvulkan_lvp.so, which
   * the sanitizer run preloads. */
  return strstr (maps, "/libvulkan.so") != NULL;
}

/* Without a GPU device node, "auto" decides without loading Vulkan at all;
 * with one (here /dev/null stands in), it asks the drivers. */
static void
test_auto_without_gpu_node (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *notice = NULL;
      g_autoptr(EpdDenoiser) on_auto = NULL;
      g_autoptr(EpdDenoiser) asked = NULL;

      g_setenv ("EPD_GPU_NODES", "/nonexistent/renderD128", TRUE);
      g_assert_false (epd_vk_gpu_node_present ());
      on_auto = epd_model_open ("gmm:ring8", "auto", &notice, &error);
      g_assert_no_error (error);
      g_assert_false (EPD_IS_VK_DENOISER (on_auto));
      g_assert_nonnull (strstr (notice, "no Vulkan GPU (the kernel shows no GPU device"));
      g_assert_false (vulkan_loader_mapped ());
      g_setenv ("EPD_GPU_NODES", "/nonexistent:/dev/null", TRUE);
      g_assert_true (epd_vk_gpu_node_present ());
      asked = epd_model_open ("gmm:ring8", "auto", NULL, &error);
      g_assert_no_error (error);
      g_assert_true (vulkan_loader_mapped ());
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

static guint
count_cache_files (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (listing != NULL && g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

/* Removes what dir holds (Mesa keeps its own shader cache there too). */
static void
remove_files (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          remove_files (path);
          g_rmdir (path);
        }
      else
        g_unlink (path);
    }
}

static void
denoise_once (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) vk = epd_model_open ("gmm:ring8", "vulkan", NULL, &error);
  double x[2] = { 0.3, -0.2 }, sigma = 0.7, out[2];

  g_assert_no_error (error);
  g_assert_true (epd_denoiser_denoise (vk, x, &sigma, 1, out, &error));
  g_assert_no_error (error);
  g_assert_false (epd_vk_denoiser_fell_back (EPD_VK_DENOISER (vk)));
}

/* Compiled pipelines are kept in the user cache folder (a temporary one, see
 * main()); a corrupt cache file is ignored, never trusted. */
static void
test_pipeline_cache (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_cache_dir (), "epd-studio", NULL);
  g_autofree char *path = NULL;
  g_autoptr(GDir) listing = NULL;

  /* Earlier tests in this process may have written it already. */
  remove_files (dir);
  g_assert_cmpuint (count_cache_files (dir), ==, 0);
  denoise_once ();
  g_assert_cmpuint (count_cache_files (dir), ==, 1);
  listing = g_dir_open (dir, 0, NULL);
  path = g_build_filename (dir, g_dir_read_name (listing), NULL);
  g_assert_true (g_file_set_contents (path, "not a pipeline cache, but long enough to have a header", -1, NULL));
  denoise_once ();
}

int
main (int    argc,
      char **argv)
{
  /* Not G_TEST_OPTION_ISOLATE_DIRS: it also hides the Vulkan drivers, which
   * the loader finds through XDG_DATA_DIRS. Only the cache moves. */
  g_autofree char *cache = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  /* Subprocesses (no driver, no loader) never write a cache. */
  if (!g_test_subprocess ())
    {
      cache = g_dir_make_tmp ("epd-test-vk-cache-XXXXXX", NULL);
      g_setenv ("XDG_CACHE_HOME", cache, TRUE);
    }
  g_test_add_func ("/vk/device/selection", test_selection);
  g_test_add_func ("/vk/device/list", test_list_real);
  g_test_add_func ("/vk/device/context-error", test_context_error);
  g_test_add_func ("/vk/device/model-open", test_model_open);
  g_test_add_func ("/vk/device/unsupported-model", test_unsupported_model);
  g_test_add_func ("/vk/device/pipeline-cache", test_pipeline_cache);
  g_test_add_func ("/vk/device/no-driver", test_no_driver);
  g_test_add_func ("/vk/device/no-loader", test_no_loader);
  g_test_add_func ("/vk/device/auto-without-gpu-node", test_auto_without_gpu_node);
  status = g_test_run ();
  if (cache != NULL)
    {
      remove_files (cache);
      g_rmdir (cache);
    }
  return status;
}
