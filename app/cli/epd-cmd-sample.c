/* SPDX-License-Identifier: MIT */
/* epd-cmd-sample.c: `epd sample`, one solve from latents to samples. */
#include <math.h>
#include <string.h>

#include "epd-cli.h"
#include "epd-model.h"
#include "epd-image-grid.h"
#include "epd-numeric.h"

typedef struct
{
  char   *latents;
  char   *out;
  char   *trace;
  char   *png;
  EpdCliSamplingArgs sampling;
} SampleArgs;

static void
sample_args_clear (SampleArgs *a)
{
  g_free (a->latents);
  g_free (a->out);
  g_free (a->trace);
  g_free (a->png);
  epd_cli_sampling_args_clear (&a->sampling);
}

static GOptionContext *
sample_context (SampleArgs *a)
{
  const GOptionEntry entries[] = {
    { "latents", 'z', 0, G_OPTION_ARG_FILENAME, &a->latents, "standard-normal latents, float64 .npy (B, d)", "Z.npy" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out, "samples as float64 .npy (B, d)", "X.npy" },
    { "trace", 0, 0, G_OPTION_ARG_FILENAME, &a->trace, "the whole solve as JSON", "T.json" },
    { "png", 0, 0, G_OPTION_ARG_FILENAME, &a->png, "a PNG grid of the samples (image models)", "GRID.png" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("- sample a model with a solver");

  g_option_context_set_summary (context,
    "Solves the probability-flow ODE from x_T = t_max z (z standard normal) and writes\n"
    "the samples. Example:\n"
    "  epd sample --model gmm:ring8 --solver epd --table T.json --seed 1 --batch 64 --out x.npy");
  g_option_context_set_description (context,
    "Flow matching (--schedule flowmatch, or an SD3/FLUX table) solves in the flow-matching\n"
    "form x = (1 - t) x0 + t n, and --out holds that state at the last time t_min, not the\n"
    "data: the data scale is x / (1 - t_min) (t_min = 1/111 for SD3: 0.9 % larger). The\n"
    "trace's \"x_final_scale\" says which. Other schedules end at sigma_min on the data scale.");
  g_option_context_add_main_entries (context, entries, NULL);
  epd_cli_sampling_add (context, &a->sampling, 16, 1e-8);
  return context;
}

/* The first non-finite value of the latents, named by file, row and column. */
static gboolean
check_finite_latents (const char    *path,
                      const double  *z,
                      gsize          batch,
                      guint          dim,
                      GError       **error)
{
  gssize bad = epd_first_non_finite (z, batch * dim);

  if (bad >= 0)
    {
      gsize i = (gsize) bad;

      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "%s: the latents have a non-finite value %g at row %" G_GSIZE_FORMAT ", column %"
                   G_GSIZE_FORMAT, path, z[i], i / dim, i % dim);
      return FALSE;
    }
  return TRUE;
}

/* Latents as [batch][dim]: from .npy (B, d...) or from the seed. */
static double *
load_latents (const SampleArgs  *a,
              guint              dim,
              gsize             *batch,
              GError           **error)
{
  g_autoptr(EpdArray) z = NULL;
  gsize row;

  if (a->latents == NULL)
    {
      *batch = a->sampling.common.batch;
      return epd_random_latents (a->sampling.common.seed, *batch, dim);
    }
  z = epd_npy_load (a->latents, error);
  if (z == NULL)
    return NULL;
  row = z->ndim >= 2 ? epd_array_size (z) / MAX (z->shape[0], 1) : 0;
  if (z->ndim < 2 || z->shape[0] == 0 || row != dim)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "%s: latents must have shape (B, %u) for this model (got %u dimensions, %"
                   G_GSIZE_FORMAT " values)", a->latents, dim, z->ndim, epd_array_size (z));
      return NULL;
    }
  if (!check_finite_latents (a->latents, z->data, z->shape[0], dim, error))
    return NULL;
  *batch = z->shape[0];
  return g_steal_pointer (&z->data);
}

/* Every output is checked before the solve, so that a failure leaves no partial output. */
static gboolean
check_outputs (const SampleArgs  *a,
               GError           **error)
{
  if (a->out == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--out X.npy is required");
      return FALSE;
    }
  return epd_cli_check_output ("--out", a->out, NULL, error) &&
         (a->trace == NULL || epd_cli_check_output ("--trace", a->trace, NULL, error)) &&
         (a->png == NULL || epd_cli_check_output ("--png", a->png, ".png", error));
}

static gboolean
write_outputs (const SampleArgs  *a,
               EpdDenoiser       *denoiser,
               const double      *x,
               gsize              batch,
               guint              dim,
               const EpdTrace    *trace,
               GError           **error)
{
  gsize shape[2] = { batch, dim };
  g_autoptr(EpdArray) out = epd_array_new (2, shape);
  guint side, channels;

  memcpy (out->data, x, batch * dim * sizeof (double));
  if (!epd_npy_save (out, a->out, error))
    return FALSE;
  if (a->trace != NULL && !epd_trace_save (trace, a->trace, error))
    return FALSE;
  if (a->png == NULL || !epd_denoiser_get_image_shape (denoiser, &side, &channels))
    return TRUE;
  return epd_image_grid_save_png (x, batch, side, channels, 0, 2, a->png, error);
}

static void
print_summary (EpdDenoiser           *denoiser,
               const EpdSolveOptions *o,
               const EpdNfe          *nfe,
               gsize                  batch,
               double                 seconds)
{
  gboolean epd = o->table && (o->solver == EPD_SOLVER_EPD || o->solver == EPD_SOLVER_EPD_PLUGIN);
  g_autofree char *k = epd ? g_strdup_printf (" K=%u", o->table->n_points) : g_strdup ("");
  g_autofree char *steps = o->solver == EPD_SOLVER_TEACHER
                           ? g_strdup_printf (" (adaptive, %u evaluations)", nfe->total)
                           : g_strdup_printf (", %u steps", o->steps);

  g_printerr ("epd: %s | %s%s%s, %s schedule%s | NFE %u latency / %u total per sample"
              " | %" G_GSIZE_FORMAT " samples in %.1f ms\n",
              epd_denoiser_describe (denoiser), epd_solver_kind_to_string (o->solver), k, steps,
              epd_schedule_kind_to_string (o->schedule.kind), o->afs ? ", AFS" : "",
              nfe->latency, nfe->total, batch, 1e3 * seconds);
}

/* --batch 2147483647 would end in GLib's abort on allocation. */
static gboolean
check_batch_memory (guint                  batch,
                    guint                  dim,
                    const EpdSolveOptions *o,
                    GError               **error)
{
  g_autofree char *what = g_strdup_printf ("--batch %u (samples of %u values)", batch, dim);

  return epd_memory_check_solve (what, batch, dim, o->table != NULL ? o->table->n_points : 1, error);
}

static gboolean
run_sample (SampleArgs  *a,
            GError     **error)
{
  g_autoptr(EpdDenoiser) denoiser = NULL;
  g_autoptr(EpdTrace) trace = NULL;
  g_autofree double *z = NULL, *x = NULL;
  g_autoptr(GTimer) timer = NULL;
  EpdSolveOptions o;
  EpdNfe nfe;
  gsize batch = 0;
  guint dim, side, channels;

  if (!check_outputs (a, error) || !epd_cli_sampling_resolve (&a->sampling, &o, error))
    return FALSE;
  denoiser = epd_cli_open_model (a->sampling.common.model, a->sampling.common.device, error);
  if (denoiser == NULL || !epd_cli_sampling_fit_model (&a->sampling, denoiser, &o, error))
    return FALSE;
  if (a->png != NULL && !epd_denoiser_get_image_shape (denoiser, &side, &channels))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "--png needs an image model; %s is not one", a->sampling.common.model);
      return FALSE;
    }
  dim = epd_denoiser_get_dim (denoiser);
  if (a->latents == NULL && !check_batch_memory (a->sampling.common.batch, dim, &o, error))
    return FALSE;
  z = load_latents (a, dim, &batch, error);
  if (z == NULL)
    return FALSE;
  x = g_new (double, batch * dim);
  epd_solve_init_from_noise (&o, z, batch * dim, x);
  trace = a->trace ? epd_trace_new () : NULL;
  timer = g_timer_new ();
  if (!epd_solve (denoiser, &o, x, batch, x, trace, &nfe, NULL, error))
    return FALSE;
  g_timer_stop (timer);
  if (!write_outputs (a, denoiser, x, batch, dim, trace, error))
    return FALSE;
  print_summary (denoiser, &o, &nfe, batch, g_timer_elapsed (timer, NULL));
  return TRUE;
}

int
epd_cmd_sample (int    argc,
                char **argv)
{
  SampleArgs a = { 0 };
  g_autoptr(GOptionContext) context = sample_context (&a);
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!epd_cli_parse (context, &argc, &argv, &error) || !run_sample (&a, &error))
    status = epd_cli_fail (error);
  sample_args_clear (&a);
  return status;
}
