/* SPDX-License-Identifier: MIT
 * epd-cmd-eval.c: `epd eval`, D(x, sigma) of any model for rows read from .npy.
 *
 * X is (B, d), or (B, C, H, W) for image models; image rows are NCHW in the
 * file and converted to the denoiser's [side][side][channels] rows and back,
 * so the output has X's shape and layout. sigma is (B,) (one per row) or a
 * single value for all rows. --repeat N times N calls (after one warm-up)
 * and prints the median on stderr: the benchmark's entry. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "epd-cli.h"

typedef struct
{
  char *model;
  char *device;
  char *x_path;
  char *sigma_path;
  char *out_path;
  char *repeat_text;
  guint repeat;
} EvalArgs;

static void eval_args_clear (EvalArgs *a);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (EvalArgs, eval_args_clear)

static void
eval_args_clear (EvalArgs *a)
{
  g_free (a->model);
  g_free (a->device);
  g_free (a->x_path);
  g_free (a->sigma_path);
  g_free (a->out_path);
  g_free (a->repeat_text);
}

static gboolean
check_args (EvalArgs  *a,
            GError   **error)
{
  const char *missing = a->model == NULL ? "--model" : a->x_path == NULL ? "--x"
                        : a->sigma_path == NULL ? "--sigma" : a->out_path == NULL ? "--out" : NULL;

  if (missing != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "%s is required", missing);
      return FALSE;
    }
  a->repeat = 0;
  if (a->repeat_text != NULL &&
      !epd_cli_parse_uint ("--repeat", a->repeat_text, 1, 100000, &a->repeat, error))
    return FALSE;
  return epd_cli_check_output ("--out", a->out_path, ".npy", error);
}

/* The shape X must have for the model: rows of d, or (C, H, W) images. */
static gboolean
check_x (EpdDenoiser     *model,
         const EpdArray  *x,
         GError         **error)
{
  guint d = epd_denoiser_get_dim (model), side = 0, channels = 0;
  gboolean image = epd_denoiser_get_image_shape (model, &side, &channels);

  if (x->ndim == 2 && x->shape[1] == d)
    return TRUE;
  if (image && x->ndim == 4 && x->shape[1] == channels && x->shape[2] == side && x->shape[3] == side)
    return TRUE;
  if (image)
    g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                 "--x: expected an array (B, %u) or (B, %u, %u, %u) for %s, got %u dimensions%s",
                 d, channels, side, side, epd_denoiser_describe (model), x->ndim,
                 x->ndim >= 2 ? " of other sizes" : "");
  else
    g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                 "--x: expected an array (B, %u) for %s, got %u dimensions%s",
                 d, epd_denoiser_describe (model), x->ndim, x->ndim == 2 ? " of other sizes" : "");
  return FALSE;
}

/* sigma per row: (B,), (B, 1), or one value for every row. */
static double *
expand_sigma (const EpdArray  *sigma,
              gsize            batch,
              GError         **error)
{
  gsize n = epd_array_size (sigma);
  double *s;

  if (n != batch && n != 1)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE,
                   "--sigma: %" G_GSIZE_FORMAT " values for %" G_GSIZE_FORMAT " rows of --x "
                   "(give one per row, or a single value)", n, batch);
      return NULL;
    }
  if (sigma->ndim > 2 || (sigma->ndim == 2 && sigma->shape[1] != 1))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "--sigma: expected shape (B,) or (B, 1)");
      return NULL;
    }
  s = g_new (double, MAX (batch, 1));
  for (gsize r = 0; r < batch; r++)
    s[r] = sigma->data[n == 1 ? 0 : r];
  return s;
}

/* NCHW rows <-> the denoiser's [side][side][channels] rows (to_rows FALSE: back). */
static void
convert_rows (const double *src,
              gsize         batch,
              guint         channels,
              guint         pixels,
              gboolean      to_rows,
              double       *dst)
{
  for (gsize n = 0; n < batch; n++)
    for (guint c = 0; c < channels; c++)
      for (guint j = 0; j < pixels; j++)
        {
          gsize nchw = (n * channels + c) * pixels + j, hwc = (n * pixels + j) * channels + c;

          if (to_rows)
            dst[hwc] = src[nchw];
          else
            dst[nchw] = src[hwc];
        }
}

static int
compare_doubles (const void *a,
                 const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static gboolean
evaluate (EpdDenoiser   *model,
          const double  *rows,
          const double  *sigma,
          gsize          batch,
          guint          repeat,
          double        *out,
          GError       **error)
{
  g_autofree double *times = g_new (double, MAX (repeat, 1));

  if (!epd_denoiser_denoise (model, rows, sigma, batch, out, error))
    return FALSE;
  for (guint i = 0; i < repeat; i++)
    {
      gint64 start = g_get_monotonic_time ();

      if (!epd_denoiser_denoise (model, rows, sigma, batch, out, error))
        return FALSE;
      times[i] = (g_get_monotonic_time () - start) / 1e6;
    }
  if (repeat > 0)
    {
      qsort (times, repeat, sizeof (double), compare_doubles);
      g_printerr ("epd: eval: batch %" G_GSIZE_FORMAT ", median %.6f s per call over %u calls (min %.6f s)\n",
                  batch, times[repeat / 2], repeat, times[0]);
    }
  return TRUE;
}

static gboolean
run_eval (EvalArgs  *a,
          GError   **error)
{
  g_autoptr(EpdDenoiser) model = NULL;
  g_autoptr(EpdArray) x = NULL, sigma_in = NULL, out = NULL;
  g_autofree double *sigma = NULL, *rows = NULL, *result = NULL;
  guint side = 0, channels = 1;
  gsize batch, n;
  gboolean image;

  if ((x = epd_npy_load (a->x_path, error)) == NULL || (sigma_in = epd_npy_load (a->sigma_path, error)) == NULL)
    return FALSE;
  if ((model = epd_cli_open_model (a->model, a->device, error)) == NULL || !check_x (model, x, error))
    return FALSE;
  batch = x->shape[0];
  n = epd_array_size (x);
  if ((sigma = expand_sigma (sigma_in, batch, error)) == NULL)
    return FALSE;
  image = epd_denoiser_get_image_shape (model, &side, &channels);
  rows = g_new (double, MAX (n, 1));
  result = g_new (double, MAX (n, 1));
  if (image && channels > 1)
    convert_rows (x->data, batch, channels, side * side, TRUE, rows);
  else
    memcpy (rows, x->data, n * sizeof (double));
  if (!evaluate (model, rows, sigma, batch, a->repeat, result, error))
    return FALSE;
  out = epd_array_new (x->ndim, x->shape);
  if (image && channels > 1)
    convert_rows (result, batch, channels, side * side, FALSE, out->data);
  else
    memcpy (out->data, result, n * sizeof (double));
  return epd_npy_save (out, a->out_path, error);
}

int
epd_cmd_eval (int    argc,
              char **argv)
{
  g_auto(EvalArgs) a = { 0 };
  g_autoptr(GOptionContext) context = g_option_context_new ("- evaluate D(x, sigma) of a model");
  g_autoptr(GError) error = NULL;
  const GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_STRING, &a.model,
      "model spec: gmm:..., dataset:..., unet:DIR or unet:NAME", "SPEC" },
    { "x", 0, 0, G_OPTION_ARG_FILENAME, &a.x_path, "rows x: .npy (B, d), or (B, C, H, W) for images", "X.npy" },
    { "sigma", 0, 0, G_OPTION_ARG_FILENAME, &a.sigma_path, "noise levels: .npy (B,) or one value", "S.npy" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a.out_path, "D(x, sigma), float64, X's shape", "D.npy" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &a.device, "auto (default), cpu, vulkan, INDEX or NAME", "D" },
    { "repeat", 0, 0, G_OPTION_ARG_STRING, &a.repeat_text,
      "time N more calls and print the median on stderr", "N" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  g_option_context_set_description (context,
    "Image rows are NCHW in the files (C-order flattening of (C, H, W)).\n"
    "Example: epd eval --model unet:fashion-mnist --x x.npy --sigma s.npy --out d.npy");
  if (!epd_cli_parse (context, &argc, &argv, &error) || !check_args (&a, &error) || !run_eval (&a, &error))
    return epd_cli_fail (error);
  return 0;
}
