/* epd-cli-common.c: option groups and helpers shared by the sub-commands. */
#include <math.h>
#include <signal.h>

#include "epd-cli.h"
#include "render/epd-model-open.h"

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

GOptionGroup *
epd_cli_schedule_group (EpdCliScheduleArgs *args)
{
  const GOptionEntry entries[] = {
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &args->schedule,
      "polynomial (default), logsnr, time-uniform, discrete or flowmatch", "NAME" },
    { "sigma-min", 0, 0, G_OPTION_ARG_DOUBLE, &args->sigma_min, "smallest sigma (default 0.002)", "X" },
    { "sigma-max", 0, 0, G_OPTION_ARG_DOUBLE, &args->sigma_max, "largest sigma (default 80)", "Y" },
    { "rho", 0, 0, G_OPTION_ARG_DOUBLE, &args->rho, "polynomial exponent (default 7)", "R" },
    { "shift", 0, 0, G_OPTION_ARG_DOUBLE, &args->shift, "flow-matching shift (default 3)", "S" },
    { NULL }
  };
  GOptionGroup *group = g_option_group_new ("schedule", "Schedule options:",
                                            "Show schedule options", NULL, NULL);

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

void
epd_cli_schedule_args_clear (EpdCliScheduleArgs *args)
{
  g_clear_pointer (&args->schedule, g_free);
}

EpdDenoiser *
epd_cli_open_model (const char  *spec,
                    const char  *device,
                    GError     **error)
{
  g_autofree char *notice = NULL;
  EpdDenoiser *denoiser = epd_model_open (spec, device ? device : "auto", &notice, error);

  if (denoiser != NULL && notice != NULL)
    g_printerr ("epd: %s\n", notice);
  return denoiser;
}

static volatile sig_atomic_t interrupted;

static void
on_sigint (int signum)
{
  /* A second Ctrl-C kills the process as usual. */
  interrupted = 1;
  signal (SIGINT, SIG_DFL);
}

void
epd_cli_catch_interrupt (void)
{
  interrupted = 0;
  signal (SIGINT, on_sigint);
}

gboolean
epd_cli_interrupted (void)
{
  return interrupted != 0;
}
