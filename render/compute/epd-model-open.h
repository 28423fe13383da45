/* SPDX-License-Identifier: MIT */
/* epd-model-open.h: open a model spec on a compute device.
 * device: "auto" (a real GPU if there is one, else the CPU path), "cpu",
 * "vulkan" (the first Vulkan device, lavapipe included), a device INDEX as
 * listed by `epd devices`, or a substring of a device NAME. */
#pragma once

#include "epd.h"

G_BEGIN_DECLS

/* notice (may be NULL) receives a human line such as "using NVIDIA H100 (Vulkan)"
 * or "no Vulkan device: using the CPU path". */
EpdDenoiser *epd_model_open (const char  *spec,
                             const char  *device,
                             char       **notice,
                             GError     **error);

/* The CPU path's processor for device listings, e.g.
 * "Intel(R) Xeon(R) Processor, 2 threads" (from /proc/cpuinfo when readable). */
char        *epd_cpu_device_name (void);

G_END_DECLS
