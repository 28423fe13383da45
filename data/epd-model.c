/* SPDX-License-Identifier: MIT */
/* epd-model.c: model specs -> CPU denoisers. */
#include "epd-model.h"

#include <string.h>

#include "epd-empirical.h"
#include "epd-gmm.h"
#include "epd-unet.h"

/* A path rather than a preset name: a .json file, anything with a separator,
 * or an existing file that is not named like a preset. */
static gboolean
looks_like_file (const char *rest)
{
  gboolean preset = g_str_has_prefix (rest, "hd:") ||
                    g_strv_contains (epd_gmm_preset_names (), rest);

  return g_str_has_suffix (rest, ".json") || strchr (rest, G_DIR_SEPARATOR) != NULL ||
         (!preset && g_file_test (rest, G_FILE_TEST_IS_REGULAR));
}

static void
set_unknown_spec_error (const char  *spec,
                        GError     **error)
{
  g_autofree char *names = g_strjoinv ("|", (char **) epd_gmm_preset_names ());

  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "unknown model '%s': expected gmm:FILE.json, gmm:%s, gmm:hd:DIM[:K], "
               "dataset:fashion-mnist[:N], dataset:DIR, unet:DIR or unet:NAME",
               spec, names);
}

static EpdDenoiser *
open_gmm (const char  *rest,
          GError     **error)
{
  EpdGmm *gmm;

  if (looks_like_file (rest))
    gmm = epd_gmm_load (rest, error);
  else
    gmm = epd_gmm_new_preset (rest, error);
  return gmm ? EPD_DENOISER (gmm) : NULL;
}

/* unet:DIR, or unet:NAME for a shipped model: a bare name that is not a
 * folder here is looked up in $EPD_MODELS_DIR, else in the source tree's
 * data/models/. */
static EpdDenoiser *
open_unet (const char  *rest,
           GError     **error)
{
  const char *models = g_getenv ("EPD_MODELS_DIR");
  g_autofree char *dir = NULL;
  EpdUnet *unet;

  if (*rest == '\0')
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "unet: needs a diffusers UNet2DModel folder or a shipped model's name (unet:DIR, unet:fashion-mnist)");
      return NULL;
    }
  if (strchr (rest, G_DIR_SEPARATOR) != NULL || g_file_test (rest, G_FILE_TEST_IS_DIR))
    dir = g_strdup (rest);
  else
    dir = g_build_filename (models && *models ? models : EPD_MODELS_SOURCE_DIR, rest, NULL);
  unet = epd_unet_load (dir, error);
  return unet ? EPD_DENOISER (unet) : NULL;
}

EpdDenoiser *
epd_model_from_spec (const char  *spec,
                     GError     **error)
{
  EpdEmpirical *empirical;

  if (spec == NULL || *spec == '\0')
    {
      set_unknown_spec_error ("", error);
      return NULL;
    }
  if (g_str_has_prefix (spec, "gmm:"))
    return open_gmm (spec + strlen ("gmm:"), error);
  if (g_str_has_prefix (spec, "dataset:"))
    {
      empirical = epd_empirical_open_spec (spec + strlen ("dataset:"), error);
      return empirical ? EPD_DENOISER (empirical) : NULL;
    }
  if (g_str_has_prefix (spec, "unet:"))
    return open_unet (spec + strlen ("unet:"), error);
  set_unknown_spec_error (spec, error);
  return NULL;
}
