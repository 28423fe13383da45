/* SPDX-License-Identifier: MIT */
#include "epd-test-unet.h"

#include <math.h>
#include <string.h>

char *
epd_test_unet_dir (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "unet", name, NULL);
}

EpdUnet *
epd_test_unet_load (const char *name)
{
  g_autofree char *dir = epd_test_unet_dir (name);
  g_autoptr(GError) error = NULL;
  EpdUnet *unet = epd_unet_load (dir, &error);

  g_assert_no_error (error);
  g_assert_nonnull (unet);
  return unet;
}

EpdArray *
epd_test_unet_reference (const char *name,
                         const char *file)
{
  g_autofree char *top = g_strdup (name);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  char *slash = strchr (top, '/');
  EpdArray *a;

  if (slash != NULL)
    *slash = '\0';
  path = g_test_build_filename (G_TEST_DIST, "data", "unet", top, file, NULL);
  a = epd_npy_load (path, &error);
  g_assert_no_error (error);
  return a;
}

double
epd_test_relative_error (const double *a,
                         const double *b,
                         gsize         n)
{
  double diff = 0.0, scale = 0.0;

  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (isfinite (a[i]));
      diff = MAX (diff, fabs (a[i] - b[i]));
      scale = MAX (scale, fabs (b[i]));
    }
  g_assert_cmpfloat (scale, >, 0.0);
  return diff / scale;
}

void
epd_test_nchw_to_rows (const double *src,
                       gsize         batch,
                       guint         c,
                       guint         p,
                       double       *dst)
{
  for (gsize n = 0; n < batch; n++)
    for (guint ch = 0; ch < c; ch++)
      for (guint j = 0; j < p; j++)
        dst[(n * p + j) * c + ch] = src[(n * c + ch) * p + j];
}
