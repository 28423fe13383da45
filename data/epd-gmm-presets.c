/* SPDX-License-Identifier: MIT */
/* epd-gmm-presets.c: the built-in mixtures (2-D demos and the hd:DIM[:K] family). */
#include "epd-gmm.h"

#include <math.h>

#define HD_DEFAULT_COMPONENTS 16
#define HD_MAX_DIM            (1u << 20)
#define HD_MAX_COMPONENTS     4096u
#define HD_MAX_PARAMETERS     ((guint64) 1 << 26)

/* Parameters being assembled: one component at a time. */
typedef struct
{
  guint    n;
  double  *weights;
  double  *means;  /* [n][2] */
  double  *stds;
} PresetBuilder;

static void
builder_init (PresetBuilder *pb,
              guint          capacity)
{
  pb->n = 0;
  pb->weights = g_new (double, capacity);
  pb->means = g_new (double, 2 * (gsize) capacity);
  pb->stds = g_new (double, capacity);
}

static void
builder_add (PresetBuilder *pb,
             double         weight,
             double         x,
             double         y,
             double         std)
{
  pb->weights[pb->n] = weight;
  pb->means[2 * pb->n] = x;
  pb->means[2 * pb->n + 1] = y;
  pb->stds[pb->n] = std;
  pb->n++;
}

static EpdGmm *
builder_finish (PresetBuilder *pb,
                const char    *name)
{
  double sum = 0.0;
  EpdGmm *gmm;

  for (guint k = 0; k < pb->n; k++)
    sum += pb->weights[k];
  for (guint k = 0; k < pb->n; k++)
    pb->weights[k] /= sum;
  gmm = epd_gmm_new (pb->n, 2, pb->weights, pb->means, pb->stds, name, NULL);
  g_free (pb->weights);
  g_free (pb->means);
  g_free (pb->stds);
  return gmm;
}

/* Eight well-separated modes on a circle of radius 2. */
static EpdGmm *
preset_ring8 (void)
{
  PresetBuilder pb;

  builder_init (&pb, 8);
  for (guint k = 0; k < 8; k++)
    builder_add (&pb, 1.0, 2.0 * cos (2.0 * G_PI * k / 8), 2.0 * sin (2.0 * G_PI * k / 8), 0.12);
  return builder_finish (&pb, "ring8");
}

/* A 5x5 lattice with unit spacing centred on the origin. */
static EpdGmm *
preset_grid25 (void)
{
  PresetBuilder pb;

  builder_init (&pb, 25);
  for (int i = -2; i <= 2; i++)
    for (int j = -2; j <= 2; j++)
      builder_add (&pb, 1.0, i, j, 0.1);
  return builder_finish (&pb, "grid25");
}

/* 48 small components along an Archimedean spiral r = 0.175 theta, weighted
 * by the local arc length so the density is even along the curve. */
static EpdGmm *
preset_spiral (void)
{
  const guint n = 48;
  PresetBuilder pb;

  builder_init (&pb, n);
  for (guint k = 0; k < n; k++)
    {
      double theta = G_PI / 2 + 3.5 * G_PI * k / (n - 1);
      double radius = 0.175 * theta;

      builder_add (&pb, radius, radius * cos (theta), radius * sin (theta), 0.08);
    }
  return builder_finish (&pb, "spiral");
}

/* Two interleaved half circles (scikit-learn's moons), 16 components each,
 * centred and scaled by 1.5. */
static EpdGmm *
preset_moons (void)
{
  const guint n = 16;
  PresetBuilder pb;

  builder_init (&pb, 2 * n);
  for (guint k = 0; k < n; k++)
    {
      double theta = G_PI * k / (n - 1);

      builder_add (&pb, 1.0, 1.5 * (cos (theta) - 0.5), 1.5 * (sin (theta) - 0.25), 0.1);
      builder_add (&pb, 1.0, 1.5 * (0.5 - cos (theta)), 1.5 * (0.25 - sin (theta)), 0.1);
    }
  return builder_finish (&pb, "moons");
}

/* A single Gaussian: its denoiser and every ODE solution have closed forms. */
static EpdGmm *
preset_gaussian (void)
{
  PresetBuilder pb;

  builder_init (&pb, 1);
  builder_add (&pb, 1.0, 1.0, -0.5, 0.5);
  return builder_finish (&pb, "gaussian");
}

typedef struct
{
  const char *name;
  EpdGmm *(*build) (void);
} Preset;

static const Preset presets[] = {
  { "ring8", preset_ring8 },
  { "grid25", preset_grid25 },
  { "spiral", preset_spiral },
  { "moons", preset_moons },
  { "gaussian", preset_gaussian },
};

static const char * const preset_names[] = {
  "ring8", "grid25", "spiral", "moons", "gaussian", NULL,
};

G_STATIC_ASSERT (G_N_ELEMENTS (preset_names) == G_N_ELEMENTS (presets) + 1);

const char * const *
epd_gmm_preset_names (void)
{
  return preset_names;
}

/* K components in DIM dimensions from a seed fixed by (DIM, K): means with
 * standard normal entries, stds in [0.3, 0.7), weights in [0.5, 1.5) normalised. */
static EpdGmm *
preset_hd (guint dim,
           guint n_components)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (0x45504400u ^ (dim * 2654435761u) ^ n_components);
  g_autofree double *weights = g_new (double, n_components);
  g_autofree double *stds = g_new (double, n_components);
  g_autofree double *means = g_new (double, (gsize) n_components * dim);
  g_autofree char *name = g_strdup_printf ("hd:%u:%u", dim, n_components);
  double sum = 0.0;

  for (guint k = 0; k < n_components; k++)
    {
      weights[k] = 0.5 + g_rand_double (rand);
      stds[k] = 0.3 + 0.4 * g_rand_double (rand);
      sum += weights[k];
    }
  for (guint k = 0; k < n_components; k++)
    weights[k] /= sum;
  epd_random_normal_fill (rand, means, (gsize) n_components * dim);
  return epd_gmm_new (n_components, dim, weights, means, stds, name, NULL);
}

static gboolean
parse_bounded (const char  *text,
               guint        max,
               const char  *what,
               const char  *spec,
               guint       *out,
               GError     **error)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (text, 10, 1, max, &value, NULL))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "gmm preset '%s': %s '%s' must be an integer from 1 to %u",
                   spec, what, text, max);
      return FALSE;
    }
  *out = (guint) value;
  return TRUE;
}

static EpdGmm *
preset_hd_from_spec (const char  *spec,
                     GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (spec, ":", -1);
  guint n_parts = g_strv_length (parts);
  guint dim, k = HD_DEFAULT_COMPONENTS;

  if (n_parts < 2 || n_parts > 3)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "gmm preset '%s': expected hd:DIM or hd:DIM:K", spec);
      return NULL;
    }
  if (!parse_bounded (parts[1], HD_MAX_DIM, "DIM", spec, &dim, error) ||
      (n_parts == 3 && !parse_bounded (parts[2], HD_MAX_COMPONENTS, "K", spec, &k, error)))
    return NULL;
  if ((guint64) dim * k > HD_MAX_PARAMETERS)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
                   "gmm preset '%s': DIM x K = %" G_GUINT64_FORMAT " means is over the limit of %" G_GUINT64_FORMAT,
                   spec, (guint64) dim * k, HD_MAX_PARAMETERS);
      return NULL;
    }
  return preset_hd (dim, k);
}

EpdGmm *
epd_gmm_new_preset (const char  *name,
                    GError     **error)
{
  g_autofree char *names = NULL;

  g_return_val_if_fail (name != NULL, NULL);
  if (g_str_has_prefix (name, "hd:"))
    return preset_hd_from_spec (name, error);
  for (gsize i = 0; i < G_N_ELEMENTS (presets); i++)
    if (g_str_equal (name, presets[i].name))
      return presets[i].build ();

  names = g_strjoinv (", ", (char **) preset_names);
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "unknown gmm preset '%s': the presets are %s, and hd:DIM[:K]", name, names);
  return NULL;
}
