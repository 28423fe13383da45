/* SPDX-License-Identifier: MIT */
/* epd-cmd-fd.c: `epd fd`, the quality of a sampler on a Fashion-MNIST model: the
 * Frechet distance in the project's classifier's feature space (not Inception FID),
 * with the data's own floor at the same N, confidence, classes and memorisation. */
#include <math.h>
#include <string.h>

#include "epd-cli.h"
#include "epd-model.h"
#include "epd-sample-quality.h"

/* Images kept for the within-class spread (its cost grows with the square). */
#define WITHIN_CLASS_KEEP 2000

typedef struct
{
  char   *samples_text;
  guint   samples;
  char   *classifier_path;
  char   *classifier_seed_text;
  guint   classifier_seed;
  char   *row;
  char   *in;
  char   *out;
  EpdCliSamplingArgs sampling;
} FdArgs;

static void
fd_args_clear (FdArgs *a)
{
  g_free (a->samples_text);
  g_free (a->classifier_path);
  g_free (a->classifier_seed_text);
  g_free (a->row);
  g_free (a->in);
  g_free (a->out);
  epd_cli_sampling_args_clear (&a->sampling);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (FdArgs, fd_args_clear)

static GOptionContext *
fd_context (FdArgs *a)
{
  const GOptionEntry entries[] = {
    { "samples", 'N', 0, G_OPTION_ARG_STRING, &a->samples_text, "images to sample (default 1000)", "N" },
    { "classifier", 0, 0, G_OPTION_ARG_FILENAME, &a->classifier_path,
      "feature classifier file (default: the cached one of --classifier-seed)", "FILE" },
    { "classifier-seed", 0, 0, G_OPTION_ARG_STRING, &a->classifier_seed_text,
      "seed of the cached classifier, trained on first use (default 1, the reward's)", "S" },
    { "row", 0, 0, G_OPTION_ARG_STRING, &a->row,
      "print only a Markdown table row headed LABEL (for scripts)", "LABEL" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->out, "also write the samples, float64 .npy (N, 784)", "X.npy" },
    { "in", 0, 0, G_OPTION_ARG_FILENAME, &a->in,
      "measure these images (N, 784) in [-1, 1] instead of sampling (no model, solver or table)", "X.npy" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("- Frechet distance of a sampler on Fashion-MNIST");

  g_option_context_set_summary (context,
    "Samples N images (in chunks of --batch, from the noise stream of --seed) and measures\n"
    "them in the feature space of the project's own Fashion-MNIST classifier (the 128 ReLU\n"
    "units of its hidden layer, an MLP 784-128-10). This is NOT Inception FID: its values\n"
    "are not comparable with FID figures of papers, only with each other.\n"
    "Example:\n"
    "  epd fd --model unet:fashion-mnist --solver epd --table T.json --samples 1000");
  g_option_context_set_description (context,
    "Reported: FD of the samples against the 10,000 test images; the data's floor, FD of the\n"
    "first N training images against the same test images (FD is biased upward at small N,\n"
    "so the floor uses the same N); the classifier's mean confidence and class histogram,\n"
    "their normalised entropy; the mean pairwise distance within each predicted class (the\n"
    "first 2000 images); and memorisation: each image's L2 distance to its nearest training\n"
    "image, against the same for the first N test images.");
  g_option_context_add_main_entries (context, entries, NULL);
  epd_cli_sampling_add (context, &a->sampling, 250, 1e-6);
  return context;
}

static EpdClassifier *
open_classifier (const FdArgs  *a,
                 GError       **error)
{
  EpdClassifierSettings settings;

  if (a->classifier_path != NULL)
    return epd_classifier_load (a->classifier_path, error);
  epd_classifier_settings_init (&settings);
  settings.seed = a->classifier_seed;
  return epd_classifier_get_cached (&settings, NULL, error);
}

/* The data side: test statistics, and the same figures of N training and N test images. */
typedef struct
{
  EpdDataset       *train;
  EpdDataset       *test;
  EpdFeatureStats  *test_stats;
  EpdQualityReport  floor;      /* N training images */
  EpdQualityReport  test_n;     /* N test images */
} Reference;

static void
reference_clear (Reference *r)
{
  g_clear_pointer (&r->train, epd_dataset_unref);
  g_clear_pointer (&r->test, epd_dataset_unref);
  g_clear_pointer (&r->test_stats, epd_feature_stats_free);
  epd_quality_report_clear (&r->floor);
  epd_quality_report_clear (&r->test_n);
}

static gboolean
data_report (const EpdClassifier *classifier,
             EpdDataset          *images,
             EpdDataset          *train,
             gsize                n,
             const EpdFeatureStats *stats,
             EpdQualityReport    *report,
             GError             **error)
{
  g_autoptr(EpdSampleQuality) q = epd_sample_quality_new (classifier, train, WITHIN_CLASS_KEEP);

  if (n > epd_dataset_get_n (images))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--samples %" G_GSIZE_FORMAT " exceeds the %" G_GSIZE_FORMAT " images of %s", n,
                   epd_dataset_get_n (images), epd_dataset_get_name (images));
      return FALSE;
    }
  return epd_sample_quality_add_floats (q, epd_dataset_get_pixels (images), n, error) &&
         epd_sample_quality_report (q, stats, report, error);
}

static gboolean
reference_load (Reference           *r,
                const EpdClassifier *classifier,
                gsize                n,
                GError             **error)
{
  r->train = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TRAIN, NULL, error);
  if (r->train == NULL)
    return FALSE;
  r->test = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TEST, NULL, error);
  if (r->test == NULL)
    return FALSE;
  r->test_stats = epd_feature_stats_of_dataset (classifier, r->test, 0, error);
  /* The floor's nearest training image would be itself: no training set there. */
  return r->test_stats != NULL &&
         data_report (classifier, r->train, NULL, n, r->test_stats, &r->floor, error) &&
         data_report (classifier, r->test, r->train, n, r->test_stats, &r->test_n, error);
}

static void
print_histogram (const EpdQualityReport *r,
                 const char             *what)
{
  const char *const *names = epd_dataset_fashion_mnist_classes ();

  g_print ("class histogram (%s):", what);
  for (guint c = 0; c < r->n_classes; c++)
    g_print ("%s %s %u", c ? "," : "", c < 10 ? names[c] : "?", r->counts[c]);
  g_print ("\n");
}

static void
print_report (const EpdQualityReport *s,
              const Reference        *r,
              const char             *classifier_name)
{
  g_print ("Feature space: %s, hidden layer (128 ReLU units). Not Inception FID.\n", classifier_name);
  g_print ("%-34s %-12s %s\n", "", "samples", "data, same N");
  g_print ("%-34s %-12.4f %.4f (N training images: the floor)\n", "FD to the 10000 test images", s->fd, r->floor.fd);
  g_print ("%-34s %-12.4f %.4f (N test images)\n", "classifier confidence", s->confidence, r->test_n.confidence);
  g_print ("%-34s %-12.4f %.4f\n", "class entropy (1 = balanced)", s->class_entropy, r->test_n.class_entropy);
  g_print ("%-34s %-12.4f %.4f (ratio %.3f; first %" G_GSIZE_FORMAT " images)\n", "within-class pairwise L2",
           s->within_class, r->test_n.within_class, s->within_class / r->test_n.within_class, s->n_kept);
  g_print ("%-34s %-12.4f %.4f\n", "nearest training image, mean L2", s->nearest_mean, r->test_n.nearest_mean);
  g_print ("%-34s %-12.4f %.4f\n", "nearest training image, median", s->nearest_median, r->test_n.nearest_median);
  g_print ("%-34s %-12.4f %.4f\n", "nearest training image, min", s->nearest_min, r->test_n.nearest_min);
  print_histogram (s, "samples");
  print_histogram (&r->test_n, "test images");
}

/* | LABEL | FD | floor | confidence | entropy | within-class ratio | nearest median (test's) | */
static void
print_row (const char             *label,
           const EpdQualityReport *s,
           const Reference        *r)
{
  g_print ("| %s | %.4f | %.4f | %.4f | %.4f | %.3f | %.3f (%.3f) |\n", label, s->fd, r->floor.fd,
           s->confidence, s->class_entropy, s->within_class / r->test_n.within_class, s->nearest_median,
           r->test_n.nearest_median);
}

static gboolean
parse_numbers (FdArgs  *a,
               GError **error)
{
  a->samples = 1000;
  a->classifier_seed = 1;
  if (a->classifier_path != NULL && a->classifier_seed_text != NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--classifier and --classifier-seed exclude each other");
      return FALSE;
    }
  return (a->samples_text == NULL ||
          epd_cli_parse_uint ("--samples", a->samples_text, 2, 1000000, &a->samples, error)) &&
         (a->classifier_seed_text == NULL ||
          epd_cli_parse_uint ("--classifier-seed", a->classifier_seed_text, 0, G_MAXINT, &a->classifier_seed, error));
}

/* The images to measure: --in, or sampled (and written to --out when given). */
static gboolean
gather (FdArgs           *a,
        EpdSampleQuality *q,
        GError          **error)
{
  g_autoptr(EpdArray) x = NULL;
  g_autoptr(EpdDenoiser) denoiser = NULL;
  g_autofree double *keep = NULL;
  EpdSolveOptions o;
  EpdNfe nfe;

  if (a->in != NULL)
    {
      if ((x = epd_npy_load (a->in, error)) == NULL)
        return FALSE;
      if (x->ndim != 2 || x->shape[1] != 784 || x->shape[0] < 2)
        {
          g_set_error (error, EPD_ERROR, EPD_ERROR_SHAPE, "%s: images must have shape (N >= 2, 784)", a->in);
          return FALSE;
        }
      return epd_sample_quality_add (q, x->data, x->shape[0], error);
    }
  if (!epd_cli_sampling_resolve (&a->sampling, &o, error))
    return FALSE;
  denoiser = epd_cli_open_model (a->sampling.common.model, a->sampling.common.device, error);
  if (denoiser == NULL || !epd_cli_sampling_fit_model (&a->sampling, denoiser, &o, error))
    return FALSE;
  if (epd_denoiser_get_dim (denoiser) != 784)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_UNSUPPORTED,
                   "%s has %u dimensions; the classifier takes 28x28 grey images (784)",
                   a->sampling.common.model, epd_denoiser_get_dim (denoiser));
      return FALSE;
    }
  if (a->out != NULL && (keep = g_try_malloc_n (a->samples, 784 * sizeof (double))) == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "not enough memory to keep %u images for --out", a->samples);
      return FALSE;
    }
  if (!epd_cli_sample_quality (denoiser, &o, a->sampling.common.seed, a->samples, a->sampling.common.batch,
                               q, keep, error))
    return FALSE;
  nfe = epd_solve_options_nfe (&o);
  g_printerr ("epd: %s | %s, %u steps%s | NFE %u latency / %u total | %u samples (seed %u)\n",
              epd_denoiser_describe (denoiser), epd_solver_kind_to_string (o.solver), o.steps,
              o.afs ? ", AFS" : "", nfe.latency, nfe.total, a->samples, a->sampling.common.seed);
  if (keep == NULL)
    return TRUE;
  {
    gsize shape[2] = { a->samples, 784 };
    g_autoptr(EpdArray) out = epd_array_new (2, shape);

    memcpy (out->data, keep, (gsize) a->samples * 784 * sizeof (double));
    return epd_npy_save (out, a->out, error);
  }
}

/* --in excludes the sampling options; outputs are checked before any work. */
static gboolean
check_options (const FdArgs *a,
               GError      **error)
{
  if (a->in != NULL && (a->sampling.table || a->sampling.solver || a->sampling.common.model || a->out ||
                        a->samples_text))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--in measures given images: --model, --solver, --table, --samples and --out do not apply");
      return FALSE;
    }
  return a->out == NULL || epd_cli_check_output ("--out", a->out, NULL, error);
}

static gboolean
run_fd (FdArgs  *a,
        GError **error)
{
  g_autoptr(EpdClassifier) classifier = NULL;
  g_autoptr(EpdSampleQuality) q = NULL;
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autofree char *classifier_name = NULL;
  g_autoptr(EpdArray) in = NULL;
  Reference r = { 0 };
  EpdQualityReport s = { 0 };
  gboolean ok;

  if (!parse_numbers (a, error) || !check_options (a, error) || (classifier = open_classifier (a, error)) == NULL)
    return FALSE;
  classifier_name = a->classifier_path ? g_strdup_printf ("classifier %s", a->classifier_path)
    : g_strdup_printf ("the Fashion-MNIST classifier (MLP 784-128-10, seed %u, test accuracy %.4f)",
                       a->classifier_seed, epd_classifier_get_test_accuracy (classifier));
  epd_cli_catch_interrupt (NULL);
  if (a->in != NULL)
    {
      /* The floor needs the same N as the images. */
      if ((in = epd_npy_load (a->in, error)) == NULL)
        return FALSE;
      a->samples = in->ndim == 2 ? (guint) MIN (in->shape[0], G_MAXUINT) : 2;
    }
  ok = reference_load (&r, classifier, a->samples, error);
  if (ok)
    {
      q = epd_sample_quality_new (classifier, r.train, WITHIN_CLASS_KEEP);
      ok = gather (a, q, error) && epd_sample_quality_report (q, r.test_stats, &s, error);
    }
  if (ok)
    {
      g_printerr ("epd: measured %" G_GSIZE_FORMAT " images in %.1f s\n", s.n, g_timer_elapsed (timer, NULL));
      if (a->row != NULL)
        print_row (a->row, &s, &r);
      else
        print_report (&s, &r, classifier_name);
    }
  epd_quality_report_clear (&s);
  reference_clear (&r);
  return ok;
}

int
epd_cmd_fd (int    argc,
            char **argv)
{
  g_auto(FdArgs) a = { 0 };
  g_autoptr(GOptionContext) context = fd_context (&a);
  g_autoptr(GError) error = NULL;

  if (!epd_cli_parse (context, &argc, &argv, &error) || !run_fd (&a, &error))
    return epd_cli_fail (error);
  return 0;
}
