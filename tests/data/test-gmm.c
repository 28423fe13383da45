/* SPDX-License-Identifier: MIT */
/* test-gmm.c: the exact Gaussian-mixture denoiser against closed forms,
 * quadrature and finite differences; model files (malformed, deeply
 * nested, FIFOs, devices) and presets. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "epd-gmm.h"
#include "epd-model.h"

/* A small non-symmetric 2-D mixture whose posterior is easy to integrate. */
static EpdGmm *
make_test_mixture (void)
{
  const double weights[] = { 0.5, 0.3, 0.2 };
  const double means[] = { -1.0, 0.5, 1.2, 0.8, 0.3, -1.4 };
  const double stds[] = { 0.4, 0.3, 0.5 };

  return epd_gmm_new (3, 2, weights, means, stds, "test3", NULL);
}

/* The clean density of a mixture at one 2-D point, written out directly. */
static double
clean_density (EpdGmm       *gmm,
               const double *x0)
{
  const double *w = epd_gmm_get_weights (gmm), *mu = epd_gmm_get_means (gmm);
  const double *sd = epd_gmm_get_stds (gmm);
  double p = 0.0;

  for (guint k = 0; k < epd_gmm_get_n_components (gmm); k++)
    {
      double v = sd[k] * sd[k];
      double d2 = pow (x0[0] - mu[2 * k], 2) + pow (x0[1] - mu[2 * k + 1], 2);
      p += w[k] * exp (-0.5 * d2 / v) / (2.0 * G_PI * v);
    }
  return p;
}

/* E[x0 | x] by the midpoint rule on [-L, L]^2: Gaussian integrands are smooth
 * and decay fast, so the rule converges far below the tolerance used. */
static void
posterior_mean_quadrature (EpdGmm       *gmm,
                           const double *x,
                           double        sigma,
                           double       *out)
{
  const double L = 6.0, h = 0.01;
  int n = (int) (2 * L / h);
  double z = 0.0, m0 = 0.0, m1 = 0.0;

  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++)
      {
        double x0[2] = { -L + (i + 0.5) * h, -L + (j + 0.5) * h };
        double d2 = pow (x[0] - x0[0], 2) + pow (x[1] - x0[1], 2);
        double p = clean_density (gmm, x0) * exp (-0.5 * d2 / (sigma * sigma));

        z += p;
        m0 += p * x0[0];
        m1 += p * x0[1];
      }
  out[0] = m0 / z;
  out[1] = m1 / z;
}

static void
test_gmm_posterior_mean_quadrature (void)
{
  g_autoptr(EpdGmm) gmm = make_test_mixture ();
  const double xs[][2] = { { 0.1, 0.2 }, { -1.5, 1.0 }, { 1.0, -0.7 }, { 2.5, 2.0 } };
  const double sigmas[] = { 0.2, 0.7, 2.0 };

  for (gsize i = 0; i < G_N_ELEMENTS (xs); i++)
    for (gsize j = 0; j < G_N_ELEMENTS (sigmas); j++)
      {
        double exact[2], numeric[2];
        g_autoptr(GError) error = NULL;

        g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), xs[i], &sigmas[j], 1, exact, &error));
        g_assert_no_error (error);
        posterior_mean_quadrature (gmm, xs[i], sigmas[j], numeric);
        g_assert_cmpfloat_with_epsilon (exact[0], numeric[0], 1e-8);
        g_assert_cmpfloat_with_epsilon (exact[1], numeric[1], 1e-8);
      }
}

/* One Gaussian: D = mu + std^2/(std^2+s^2) (x - mu), p_s = N(mu, (std^2+s^2) I). */
static void
test_gmm_single_gaussian_closed_form (void)
{
  const double mu[3] = { 0.7, -1.1, 2.0 }, w = 1.0, sd = 0.6;
  const double x[2][3] = { { 0.0, 0.5, 1.0 }, { 3.0, -2.0, 4.0 } };
  const double sigma[2] = { 0.35, 5.0 };
  g_autoptr(EpdGmm) gmm = epd_gmm_new (1, 3, &w, mu, &sd, NULL, NULL);
  double out[6], logp[2];

  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), &x[0][0], sigma, 2, out, NULL));
  epd_gmm_log_density (gmm, &x[0][0], sigma, 2, logp);
  for (int b = 0; b < 2; b++)
    {
      double v = sd * sd + sigma[b] * sigma[b];
      double d2 = 0.0;

      for (int j = 0; j < 3; j++)
        {
          g_assert_cmpfloat_with_epsilon (out[3 * b + j], mu[j] + sd * sd / v * (x[b][j] - mu[j]), 1e-14);
          d2 += pow (x[b][j] - mu[j], 2);
        }
      g_assert_cmpfloat_with_epsilon (logp[b], -1.5 * log (2 * G_PI * v) - 0.5 * d2 / v, 1e-12);
    }
}

/* The exact forward-mode derivative against central differences, for
 * directions in x and sigma together. */
static void
test_gmm_jvp_finite_differences (void)
{
  g_autoptr(EpdGmm) gmm = make_test_mixture ();
  const double x[] = { 0.3, -0.2, -1.2, 1.4, 2.0, 0.1 };
  const double sigma[] = { 0.25, 0.9, 3.0 };
  const double dx[] = { 0.7, -0.4, 1.0, 0.5, -0.3, 0.8 };
  const double dsigma[] = { 0.6, -1.0, 0.4 };
  const double h = 1e-5;
  double out[6], dout[6], plus[6], minus[6], xp[6], xm[6], sp[3], sm[3];

  g_assert_true (epd_denoiser_has_exact_jvp (EPD_DENOISER (gmm)));
  g_assert_true (epd_denoiser_denoise_jvp (EPD_DENOISER (gmm), x, sigma, dx, dsigma, 3, out, dout, NULL));
  for (int i = 0; i < 6; i++)
    {
      xp[i] = x[i] + h * dx[i];
      xm[i] = x[i] - h * dx[i];
    }
  for (int b = 0; b < 3; b++)
    {
      sp[b] = sigma[b] + h * dsigma[b];
      sm[b] = sigma[b] - h * dsigma[b];
    }
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), xp, sp, 3, plus, NULL));
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), xm, sm, 3, minus, NULL));
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat_with_epsilon (dout[i], (plus[i] - minus[i]) / (2 * h), 1e-7);

  /* The value returned with the derivative is the plain denoiser's. */
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), x, sigma, 3, plus, NULL));
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (out[i], ==, plus[i]);
}

/* The midpoint rule of exp(log p) over a box holding all the mass. */
static double
integrate_density (EpdGmm *gmm,
                   double  sigma)
{
  const double L = 4.5, h = 0.01;
  int n = (int) (2 * L / h);
  g_autofree double *x = g_new (double, 2 * (gsize) n);
  g_autofree double *s = g_new (double, n);
  g_autofree double *logp = g_new (double, n);
  double total = 0.0;

  for (int i = 0; i < n; i++)
    {
      for (int j = 0; j < n; j++)
        {
          x[2 * j] = -L + (i + 0.5) * h;
          x[2 * j + 1] = -L + (j + 0.5) * h;
          s[j] = sigma;
        }
      epd_gmm_log_density (gmm, x, s, n, logp);
      for (int j = 0; j < n; j++)
        total += exp (logp[j]) * h * h;
    }
  return total;
}

static void
test_gmm_density_normalised (void)
{
  g_autoptr(EpdGmm) ring = epd_gmm_new_preset ("ring8", NULL);

  /* Components at radius 2, std 0.12 (0.5 with noise): > 4 std inside the box. */
  g_assert_cmpfloat_with_epsilon (integrate_density (ring, 0.0), 1.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (integrate_density (ring, 0.3), 1.0, 1e-6);
}

/* A batch with a sigma per row equals the rows denoised one by one; sigma = 0
 * returns x itself. */
static void
test_gmm_batch_rows (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("spiral", NULL);
  const double x[] = { 0.1, 0.2, -1.0, 0.5, 2.0, -2.0, 0.3, 0.3 };
  const double sigma[] = { 0.0, 0.05, 1.0, 80.0 };
  double batch[8], row[2];

  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), x, sigma, 4, batch, NULL));
  for (int b = 0; b < 4; b++)
    {
      g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), x + 2 * b, sigma + b, 1, row, NULL));
      g_assert_cmpfloat (row[0], ==, batch[2 * b]);
      g_assert_cmpfloat (row[1], ==, batch[2 * b + 1]);
    }
  g_assert_cmpfloat (batch[0], ==, x[0]);
  g_assert_cmpfloat (batch[1], ==, x[1]);
}

/* Far from every mode in 256 dimensions the plain sum of exponentials
 * underflows to 0/0; the log-sum-exp form stays finite. */
static void
test_gmm_high_dim_stable (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("hd:256:8", &error);
  g_autoptr(EpdGmm) again = epd_gmm_new_preset ("hd:256:8", NULL);
  g_autofree double *x = g_new (double, 256);
  g_autofree double *out = g_new (double, 256);
  const double sigma = 0.01;
  double logp;

  g_assert_no_error (error);
  g_assert_cmpuint (epd_gmm_get_dim (gmm), ==, 256);
  g_assert_cmpuint (epd_gmm_get_n_components (gmm), ==, 8);
  g_assert_cmpmem (epd_gmm_get_means (gmm), 256 * 8 * sizeof (double),
                   epd_gmm_get_means (again), 256 * 8 * sizeof (double));
  g_assert_cmpstr (epd_denoiser_describe (EPD_DENOISER (gmm)), ==, "gmm:hd:256:8 (CPU float64)");
  for (int j = 0; j < 256; j++)
    x[j] = 50.0;
  g_assert_true (epd_denoiser_denoise (EPD_DENOISER (gmm), x, &sigma, 1, out, NULL));
  for (int j = 0; j < 256; j++)
    g_assert_true (isfinite (out[j]));
  epd_gmm_log_density (gmm, x, &sigma, 1, &logp);
  g_assert_true (isfinite (logp));
  g_assert_cmpfloat (logp, <, -1e5);
}

static void
test_gmm_bad_sigma (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("gaussian", NULL);
  const double x[] = { 0.0, 0.0, 1.0, 1.0 };
  const double sigma[] = { 1.0, NAN };
  double out[4];
  g_autoptr(GError) error = NULL;

  g_assert_false (epd_denoiser_denoise (EPD_DENOISER (gmm), x, sigma, 2, out, &error));
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "sigma[1]"));
}

static void
test_gmm_assign_and_sample (void)
{
  g_autoptr(EpdGmm) gmm = epd_gmm_new_preset ("grid25", NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  const gsize n = 100000;
  g_autofree double *samples = g_new (double, 2 * n);
  g_autofree guint *labels = g_new (guint, n);
  guint assigned[25];
  gsize counts[25] = { 0 };

  epd_gmm_assign (gmm, epd_gmm_get_means (gmm), NULL, 25, assigned);
  for (guint k = 0; k < 25; k++)
    g_assert_cmpuint (assigned[k], ==, k);

  /* Modes 1 apart with std 0.1: a sample lands on its own mode's cell, so the
   * counts are multinomial(n, 1/25); 5 binomial standard deviations. */
  epd_gmm_sample (gmm, rand, n, samples);
  epd_gmm_assign (gmm, samples, NULL, n, labels);
  for (gsize i = 0; i < n; i++)
    counts[labels[i]]++;
  for (guint k = 0; k < 25; k++)
    g_assert_cmpfloat (fabs (counts[k] - n / 25.0), <, 5 * sqrt (n * (1 / 25.0) * (24 / 25.0)));
}

static void
test_gmm_presets (void)
{
  const char * const *names = epd_gmm_preset_names ();
  g_autoptr(GError) error = NULL;
  EpdGmm *bad;

  g_assert_cmpuint (g_strv_length ((char **) names), ==, 5);
  for (gsize i = 0; names[i]; i++)
    {
      g_autoptr(EpdGmm) gmm = epd_gmm_new_preset (names[i], &error);
      double sum = 0.0;

      g_assert_no_error (error);
      g_assert_cmpuint (epd_gmm_get_dim (gmm), ==, 2);
      for (guint k = 0; k < epd_gmm_get_n_components (gmm); k++)
        sum += epd_gmm_get_weights (gmm)[k];
      g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-12);
      g_assert_cmpstr (epd_gmm_get_name (gmm), ==, names[i]);
    }

  bad = epd_gmm_new_preset ("ring9", &error);
  g_assert_null (bad);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "ring8, grid25"));
  g_clear_error (&error);

  const char *bad_hd[] = { "hd:", "hd:0", "hd:64:0", "hd:x", "hd:64:8:1", "hd:1048576:4096" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad_hd); i++)
    {
      g_assert_null (epd_gmm_new_preset (bad_hd[i], &error));
      g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
      g_clear_error (&error);
    }
}

static char *
write_temp (const char *contents)
{
  g_autoptr(GError) error = NULL;
  char *path = NULL;
  int fd = g_file_open_tmp ("epd-gmm-XXXXXX.json", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  return path;
}

static void
test_gmm_file_round_trip (void)
{
  const double weights[] = { 0.1, 0.2, 0.7 };
  const double means[] = { 0.1, 1.0 / 3.0, -2.0 / 7.0, 1e-300, 6.02214076e23, -0.0 };
  const double stds[] = { 0.3, G_PI, 1e-3 };
  g_autoptr(EpdGmm) gmm = epd_gmm_new (3, 2, weights, means, stds, NULL, NULL);
  g_autofree char *path = write_temp ("");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdGmm) back = NULL;

  g_assert_true (epd_gmm_save (gmm, path, &error));
  g_assert_no_error (error);
  back = epd_gmm_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_gmm_get_n_components (back), ==, 3);
  g_assert_cmpuint (epd_gmm_get_dim (back), ==, 2);
  g_assert_cmpmem (epd_gmm_get_weights (back), sizeof weights, epd_gmm_get_weights (gmm), sizeof weights);
  g_assert_cmpmem (epd_gmm_get_means (back), sizeof means, means, sizeof means);
  g_assert_cmpmem (epd_gmm_get_stds (back), sizeof stds, stds, sizeof stds);
  g_unlink (path);
}

typedef struct
{
  const char *json;
  int         code;
  const char *needle;  /* part of the message */
} BadModel;

static void
test_gmm_malformed_files (void)
{
  const BadModel cases[] = {
    { "{\"weights\": [1.0], \"means\": [[0, 0]]", EPD_ERROR_PARSE, "not valid JSON" },
    { "[1, 2]", EPD_ERROR_PARSE, "JSON object" },
    { "{\"means\": [[0, 0]], \"stds\": [1]}", EPD_ERROR_PARSE, "'weights' is missing" },
    { "{\"weights\": 1, \"means\": [[0, 0]], \"stds\": [1]}", EPD_ERROR_PARSE, "'weights' must be an array" },
    { "{\"weights\": [], \"means\": [], \"stds\": []}", EPD_ERROR_SHAPE, "'weights' is empty" },
    { "{\"weights\": [0.5, 0.5], \"means\": [[0, 0]], \"stds\": [1, 1]}", EPD_ERROR_SHAPE, "'means' has 1 rows" },
    { "{\"weights\": [0.5, 0.5], \"means\": [[0, 0], [1]], \"stds\": [1, 1]}", EPD_ERROR_SHAPE, "means[1] has 1 values" },
    { "{\"weights\": [0.5, 0.5], \"means\": [[0, 0], [1, 1]], \"stds\": [1]}", EPD_ERROR_SHAPE, "'stds' has 1 entries" },
    { "{\"weights\": [0.5, 0.5], \"means\": [[0, 0], [1, \"a\"]], \"stds\": [1, 1]}", EPD_ERROR_PARSE, "means[1][1] is not a number" },
    { "{\"weights\": [0.5, true], \"means\": [[0, 0], [1, 1]], \"stds\": [1, 1]}", EPD_ERROR_PARSE, "weights[1] is not a number" },
    { "{\"weights\": [0.5, 0.5], \"means\": [[0, 0], [1, 1]], \"stds\": [1, -0.5]}", EPD_ERROR_NUMERIC, "stds[1] = -0.5" },
    { "{\"weights\": [0.5, 0.5], \"means\": [[0, 0], [1, 1]], \"stds\": [0, 1]}", EPD_ERROR_NUMERIC, "stds[0] = 0" },
    { "{\"weights\": [1.5, -0.5], \"means\": [[0, 0], [1, 1]], \"stds\": [1, 1]}", EPD_ERROR_NUMERIC, "weights[1] = -0.5" },
    { "{\"weights\": [0.6, 0.5], \"means\": [[0, 0], [1, 1]], \"stds\": [1, 1]}", EPD_ERROR_NUMERIC, "sum to 1.1" },
    { "{\"weights\": [1, 3], \"means\": [[0, 0], [1, 1]], \"stds\": [1, 1]}", EPD_ERROR_NUMERIC,
      "weights sum to 4, not 1 (tolerance 1e-6); they are not normalised silently: divide each weight by 4" },
    { "{\"weights\": [0, 0], \"means\": [[0, 0], [1, 1]], \"stds\": [1, 1]}", EPD_ERROR_NUMERIC, "all weights are 0" },
    { "{\"weights\": [1], \"means\": [[]], \"stds\": [1]}", EPD_ERROR_SHAPE, "means[0] is empty" },
    { "{\"weights\": [1], \"means\": [1], \"stds\": [1]}", EPD_ERROR_PARSE, "means[0] must be an array" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = write_temp (cases[i].json);
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdGmm) gmm = epd_gmm_load (path, &error);

      g_assert_null (gmm);
      g_assert_error (error, EPD_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].needle) == NULL || strstr (error->message, path) == NULL)
        g_error ("case %" G_GSIZE_FORMAT ": message '%s' lacks '%s' or the path", i, error->message, cases[i].needle);
      g_unlink (path);
    }
}

/* Model files are read through the capped reader and the depth-checked
 * parser: no stack overflow, no blocking on a FIFO, no reading a device. */
static void
test_gmm_unsafe_files (void)
{
  g_autofree char *open = g_strnfill (100000, '[');
  g_autofree char *close = g_strnfill (100000, ']');
  g_autofree char *deep = g_strconcat ("{\"weights\": ", open, close, "}", NULL);
  g_autofree char *path = write_temp (deep);
  g_autofree char *dir = g_dir_make_tmp ("epd-gmm-XXXXXX", NULL);
  g_autofree char *fifo = g_build_filename (dir, "model.json", NULL);
  g_autofree char *spec = g_strconcat ("gmm:", fifo, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdGmm) gmm = epd_gmm_load (path, &error);
  g_autoptr(EpdDenoiser) model = NULL;

  g_assert_null (gmm);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_PARSE);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_assert_true (g_str_has_suffix (error->message, ": JSON nested deeper than 64 levels"));
  g_clear_error (&error);
  g_unlink (path);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  model = epd_model_from_spec (spec, &error);
  g_assert_null (model);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "is a FIFO (named pipe), not a regular file"));
  g_clear_error (&error);
  g_unlink (fifo);
  g_rmdir (dir);

  gmm = epd_gmm_load ("/dev/zero", &error);
  g_assert_null (gmm);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "/dev/zero: is a character device"));
}

/* Weights off by less than 1e-6 are accepted and renormalised exactly. */
static void
test_gmm_weights_renormalised (void)
{
  g_autofree char *path = write_temp ("{\"weights\": [0.5, 0.5000004], \"means\": [[0, 0], [1, 1]], \"stds\": [1, 1]}");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdGmm) gmm = epd_gmm_load (path, &error);
  const double *w;

  g_assert_no_error (error);
  w = epd_gmm_get_weights (gmm);
  g_assert_cmpfloat_with_epsilon (w[0] + w[1], 1.0, 1e-15);
  g_assert_cmpfloat_with_epsilon (w[0], 0.5 / 1.0000004, 1e-15);
  g_unlink (path);
}

static void
test_model_specs (void)
{
  const double w = 1.0, mu[2] = { 0.5, 0.5 }, sd = 0.2;
  g_autoptr(EpdGmm) gmm = epd_gmm_new (1, 2, &w, mu, &sd, NULL, NULL);
  g_autofree char *path = write_temp ("");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdDenoiser) ring = epd_model_from_spec ("gmm:ring8", &error);
  g_autoptr(EpdDenoiser) hd = NULL, file = NULL, bad = NULL;
  g_autofree char *spec = g_strconcat ("gmm:", path, NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (epd_denoiser_describe (ring), ==, "gmm:ring8 (CPU float64)");
  hd = epd_model_from_spec ("gmm:hd:64", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_denoiser_get_dim (hd), ==, 64);

  g_assert_true (epd_gmm_save (gmm, path, NULL));
  file = epd_model_from_spec (spec, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (epd_gmm_get_n_components (EPD_GMM (file)), ==, 1);
  g_unlink (path);

  bad = epd_model_from_spec ("resnet:50", &error);
  g_assert_null (bad);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "gmm:FILE.json"));
  g_assert_nonnull (strstr (error->message, "moons"));
  g_clear_error (&error);
  bad = epd_model_from_spec ("gmm:/nonexistent/model.json", &error);
  g_assert_null (bad);
  g_assert_error (error, EPD_ERROR, EPD_ERROR_IO);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gmm/posterior-mean-quadrature", test_gmm_posterior_mean_quadrature);
  g_test_add_func ("/gmm/single-gaussian-closed-form", test_gmm_single_gaussian_closed_form);
  g_test_add_func ("/gmm/jvp-finite-differences", test_gmm_jvp_finite_differences);
  g_test_add_func ("/gmm/density-normalised", test_gmm_density_normalised);
  g_test_add_func ("/gmm/batch-rows", test_gmm_batch_rows);
  g_test_add_func ("/gmm/high-dim-stable", test_gmm_high_dim_stable);
  g_test_add_func ("/gmm/bad-sigma", test_gmm_bad_sigma);
  g_test_add_func ("/gmm/assign-and-sample", test_gmm_assign_and_sample);
  g_test_add_func ("/gmm/presets", test_gmm_presets);
  g_test_add_func ("/gmm/file-round-trip", test_gmm_file_round_trip);
  g_test_add_func ("/gmm/malformed-files", test_gmm_malformed_files);
  g_test_add_func ("/gmm/weights-renormalised", test_gmm_weights_renormalised);
  g_test_add_func ("/gmm/unsafe-files", test_gmm_unsafe_files);
  g_test_add_func ("/gmm/model-specs", test_model_specs);
  return g_test_run ();
}
