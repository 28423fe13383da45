/* SPDX-License-Identifier: MIT
 * fuzz-unet-config.c: diffusers config.json and scheduler_config.json; a
 * scheduler that parses must give finite, decreasing alphas_cumprod in (0, 1]. */
#include "epd-fuzz.h"

#include <math.h>

#include "epd-unet-config.h"

static void
check_schedule (const EpdUnetScheduler *s)
{
  g_autofree double *abar = epd_unet_scheduler_alphas_cumprod (s);

  for (guint i = 0; i < s->num_train_timesteps; i++)
    if (!(abar[i] > 0.0 && abar[i] <= 1.0) || (i > 0 && abar[i] > abar[i - 1]))
      epd_fuzz_fail ("alphas_cumprod[%u] = %g of an accepted scheduler", i, abar[i]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) sched_error = NULL;
  EpdUnetConfig config;
  EpdUnetScheduler scheduler;

  epd_unet_config_parse ((const char *) data, size, "fuzz", &config, &error);
  if (epd_unet_scheduler_parse ((const char *) data, size, "fuzz", &scheduler, &sched_error))
    check_schedule (&scheduler);
  return 0;
}
