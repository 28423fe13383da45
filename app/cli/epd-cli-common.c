/* SPDX-License-Identifier: MIT */
/* epd-cli-common.c: option groups and helpers shared by the sub-commands. */
#include <math.h>

#include <glib-unix.h>

#include <glib/gstdio.h>

#include "epd-cli.h"
#include "epd-model.h"
#include "epd-model-open.h"
#include "epd-vk-denoiser.h"

int
epd_cli_fail (GError *error)
{
  gboolean usage = g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_UNKNOWN_OPTION) ||
                   g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE) ||
                   g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED);

  g_printerr ("epd: error: %s\n", error ? error->message : "unknown error");
  return usage ? 2 : 1;
}

gboolean
epd_cli_parse (GOptionContext *context,
               int            *argc,
               char         ***argv,
               GError        **error)
{
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc > 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "unexpected argument '%s' (see --help)", (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

gboolean
epd_cli_parse_uint (const char  *option,
                    const char  *text,
                    guint        min,
                    guint        max,
                    guint       *value,
                    GError     **error)
{
  gint64 v;

  if (g_ascii_string_to_signed (text, 10, G_MININT64, G_MAXINT64, &v, NULL) && v >= min && v <= max)
    {
      *value = (guint) v;
      return TRUE;
    }
  if (min == 1 && max == G_MAXINT)
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s must be a positive integer (got %s)", option, text);
  else
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s must be an integer from %u to %u (got %s)", option, min, max, text);
  return FALSE;
}

gboolean
epd_cli_parse_positive (const char  *option,
                        const char  *text,
                        double      *value,
                        GError     **error)
{
  char *end = NULL;
  double v = g_ascii_strtod (text, &end);

  if (end != text && *end == '\0' && isfinite (v) && v > 0)
    {
      *value = v;
      return TRUE;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "%s must be a positive finite number (got %s)", option, text);
  return FALSE;
}

/* The schedule's numbers: each field sits at its option's place in the struct. */
static gboolean
parse_schedule_number (const char  *option_name,
                       const char  *value,
                       gpointer     data,
                       GError     **error)
{
  EpdCliScheduleArgs *args = data;
  double *field = g_str_equal (option_name, "--sigma-min") ? &args->sigma_min
                : g_str_equal (option_name, "--sigma-max") ? &args->sigma_max
                : g_str_equal (option_name, "--rho") ? &args->rho : &args->shift;

  return epd_cli_parse_positive (option_name, value, field, error);
}

GOptionGroup *
epd_cli_schedule_group (EpdCliScheduleArgs *args)
{
  const GOptionEntry entries[] = {
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &args->schedule,
      "polynomial (default), logsnr, time-uniform, discrete or flowmatch", "NAME" },
    { "sigma-min", 0, 0, G_OPTION_ARG_CALLBACK, parse_schedule_number, "smallest sigma (default 0.002)", "X" },
    { "sigma-max", 0, 0, G_OPTION_ARG_CALLBACK, parse_schedule_number, "largest sigma (default 80)", "Y" },
    { "rho", 0, 0, G_OPTION_ARG_CALLBACK, parse_schedule_number, "polynomial exponent (default 7)", "R" },
    { "shift", 0, 0, G_OPTION_ARG_CALLBACK, parse_schedule_number, "flow-matching shift (default 3)", "S" },
    { NULL }
  };
  GOptionGroup *group = g_option_group_new ("schedule", "Schedule options:",
                                            "Show schedule options", args, NULL);

  args->sigma_min = args->sigma_max = args->rho = args->shift = NAN;
  g_option_group_add_entries (group, entries);
  return group;
}

gboolean
epd_cli_schedule_resolve (const EpdCliScheduleArgs *args,
                          EpdSchedule              *schedule,
                          GError                  **error)
{
  EpdScheduleKind kind = EPD_SCHEDULE_POLYNOMIAL;

  if (args->schedule != NULL && !epd_schedule_kind_from_string (args->schedule, &kind, error))
    return FALSE;
  epd_schedule_init (schedule, kind);
  if (!isnan (args->sigma_min))
    schedule->sigma_min = args->sigma_min;
  if (!isnan (args->sigma_max))
    schedule->sigma_max = args->sigma_max;
  if (!isnan (args->rho))
    schedule->rho = args->rho;
  if (!isnan (args->shift))
    schedule->shift = args->shift;
  return epd_schedule_validate (schedule, error);
}

gboolean
epd_cli_schedule_fit_model (const EpdCliScheduleArgs *args,
                            EpdDenoiser              *model,
                            EpdSchedule              *schedule,
                            GError                  **error)
{
  if (!epd_schedule_fit_model (schedule, model, !isnan (args->sigma_min), !isnan (args->sigma_max)))
    return TRUE;
  g_printerr ("epd: schedule: sigma from %g to %g (narrowed to the model's trained range where not given)\n",
              schedule->sigma_min, schedule->sigma_max);
  return epd_schedule_validate (schedule, error);
}

void
epd_cli_schedule_args_clear (EpdCliScheduleArgs *args)
{
  g_clear_pointer (&args->schedule, g_free);
}

void
epd_cli_solve_args_add (GOptionContext  *context,
                        EpdCliSolveArgs *args,
                        guint            default_batch,
                        double           default_rtol)
{
  /* GOption keeps pointers to the help texts: they live in args. */
  args->batch = default_batch;
  args->rtol = default_rtol;
  args->batch_help = g_strdup_printf ("samples to draw (default %u)", default_batch);
  args->rtol_help = g_strdup_printf ("teacher tolerance, in (0, 1) (default %g)", default_rtol);

  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &args->model,
      "gmm:FILE.json, gmm:PRESET, gmm:hd:DIM[:K] or dataset:... (default " EPD_DEFAULT_MODEL ")", "SPEC" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &args->seed_text, "seed of the latents (default 0)", "S" },
    { "batch", 'b', 0, G_OPTION_ARG_STRING, &args->batch_text, args->batch_help, "B" },
    { "points", 'K', 0, G_OPTION_ARG_STRING, &args->points_text,
      "K of the uniform EPD table used where no table fits (default 2)", "K" },
    { "rtol", 0, 0, G_OPTION_ARG_STRING, &args->rtol_text, args->rtol_help, "X" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &args->device, "auto (default), cpu, vulkan, INDEX or NAME", "D" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
}

gboolean
epd_cli_solve_args_resolve (EpdCliSolveArgs *args,
                            GError         **error)
{
  guint seed = 0;

  args->points = 2;
  if (args->model == NULL)
    args->model = g_strdup (EPD_DEFAULT_MODEL);
  if ((args->seed_text && !epd_cli_parse_uint ("--seed", args->seed_text, 0, G_MAXUINT32, &seed, error)) ||
      (args->batch_text && !epd_cli_parse_uint ("--batch", args->batch_text, 1, G_MAXINT, &args->batch, error)) ||
      (args->points_text && !epd_cli_parse_uint ("--points", args->points_text, 1, 64, &args->points, error)) ||
      (args->rtol_text && !epd_cli_parse_positive ("--rtol", args->rtol_text, &args->rtol, error)))
    return FALSE;
  args->seed = seed;
  if (args->rtol >= 1)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--rtol must be below 1 (got %s)", args->rtol_text);
      return FALSE;
    }
  return TRUE;
}

void
epd_cli_solve_args_clear (EpdCliSolveArgs *args)
{
  g_clear_pointer (&args->model, g_free);
  g_clear_pointer (&args->device, g_free);
  g_clear_pointer (&args->seed_text, g_free);
  g_clear_pointer (&args->batch_text, g_free);
  g_clear_pointer (&args->points_text, g_free);
  g_clear_pointer (&args->rtol_text, g_free);
  g_clear_pointer (&args->batch_help, g_free);
  g_clear_pointer (&args->rtol_help, g_free);
}

gboolean
epd_cli_check_output (const char  *option,
                      const char  *path,
                      const char  *extension,
                      GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *lower = g_ascii_strdown (path, -1);

  if (extension != NULL && !g_str_has_suffix (lower, extension))
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                 "%s %s: the file name must end with %s", option, path, extension);
  else if (g_file_test (path, G_FILE_TEST_IS_DIR))
    g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s %s: is a folder, not a file", option, path);
  else if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || g_access (dir, W_OK) != 0)
    g_set_error (error, EPD_ERROR, EPD_ERROR_IO,
                 "%s %s: folder %s does not exist or is not writable", option, path, dir);
  else if (epd_file_check_output (path, error))
    return TRUE;
  else
    g_prefix_error (error, "%s: ", option);
  return FALSE;
}

gboolean
epd_cli_check_distinct (const char  *option_a,
                        const char  *path_a,
                        const char  *option_b,
                        const char  *path_b,
                        GError     **error)
{
  if (!epd_file_same (path_a, path_b))
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "%s and %s are the same file (%s): one would overwrite the other", option_a, option_b, path_a);
  return FALSE;
}

const char *
epd_cli_symbol (const char *utf8,
                const char *ascii)
{
  return g_get_charset (NULL) ? utf8 : ascii;
}

const char *
epd_cli_plus_minus (void)
{
  return epd_cli_symbol ("\xc2\xb1", "+-");
}

EpdDenoiser *
epd_cli_open_model (const char  *spec,
                    const char  *device,
                    GError     **error)
{
  g_autofree char *notice = NULL;
  EpdDenoiser *denoiser;

  device = device ? device : "auto";
  denoiser = epd_model_open (spec, device, &notice, error);
  if (denoiser == NULL)
    return NULL;
  /* With "auto" the CPU path is the normal choice without a GPU: one short line
   * (`epd devices` explains). An explicit device that fell back says why. */
  if (g_str_equal (device, "auto") && !EPD_IS_VK_DENOISER (denoiser))
    g_printerr ("epd: device: CPU (no GPU chosen; see `epd devices`)\n");
  else if (notice != NULL)
    g_printerr ("epd: %s\n", notice);
  return denoiser;
}
