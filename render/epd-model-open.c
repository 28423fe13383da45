/* epd-model-open.c: temporary CPU-only version; helper C1 replaces it with device choice. */
#include "epd-model-open.h"

#include "data/epd-model.h"

EpdDenoiser *
epd_model_open (const char  *spec,
                const char  *device,
                char       **notice,
                GError     **error)
{
  EpdDenoiser *denoiser = epd_model_from_spec (spec, error);

  if (denoiser != NULL && notice != NULL)
    *notice = g_strdup_printf ("device: %s", epd_denoiser_describe (denoiser));
  return denoiser;
}
