/* SPDX-License-Identifier: MIT
 * epd-test-unet.h: the UNet fixtures of tests/data/unet/ (scripts/make-unet-fixtures)
 * and their torch reference arrays, shared by the CPU and the Vulkan tests. */
#pragma once

#include "epd-npy.h"
#include "epd-unet.h"

G_BEGIN_DECLS

/* tests/data/unet/NAME (a diffusers folder); g_free() it. */
char     *epd_test_unet_dir            (const char   *name);
/* The fixture's network; asserts that it loads. */
EpdUnet  *epd_test_unet_load           (const char   *name);
/* A reference array of the fixture (in the folder above unet/ for "DIR/unet"). */
EpdArray *epd_test_unet_reference      (const char   *name,
                                        const char   *file);
/* max |a - b| / max |b|, asserting every a is finite and b is not all zero. */
double    epd_test_relative_error      (const double *a,
                                        const double *b,
                                        gsize         n);
/* NCHW -> the denoiser's [side][side][channels] rows (p pixels, c channels). */
void      epd_test_nchw_to_rows        (const double *src,
                                        gsize         batch,
                                        guint         c,
                                        guint         p,
                                        double       *dst);

G_END_DECLS
