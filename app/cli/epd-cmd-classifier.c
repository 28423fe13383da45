/* SPDX-License-Identifier: MIT */
/* epd-cmd-classifier.c: `epd classifier train|eval`, the Fashion-MNIST classifier behind
 * the `classifier` reward and image diversity. */
#include <math.h>
#include <string.h>

#include "epd-cli.h"
#include "epd-dataset.h"
#include "epd-classifier.h"

typedef struct
{
  int     hidden;
  int     epochs;
  int     batch_size;
  double  lr;
  int     n_train;
  int     seed;
  char   *file;
} ClassifierArgs;

static void
classifier_args_clear (ClassifierArgs *a)
{
  g_free (a->file);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (ClassifierArgs, classifier_args_clear)

static gboolean
parse_args (ClassifierArgs *a,
            const char     *action,
            int            *argc,
            char         ***argv,
            GError        **error)
{
  const GOptionEntry train_entries[] = {
    { "hidden", 0, 0, G_OPTION_ARG_INT, &a->hidden, "hidden units (default 128)", "N" },
    { "epochs", 0, 0, G_OPTION_ARG_INT, &a->epochs, "passes over the training set (default 6)", "N" },
    { "batch-size", 0, 0, G_OPTION_ARG_INT, &a->batch_size, "minibatch size (default 128)", "N" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &a->lr, "Adam learning rate (default 1e-3)", "X" },
    { "n-train", 0, 0, G_OPTION_ARG_INT, &a->n_train, "training images used (default all 60000)", "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT, &a->seed, "initialisation and shuffling seed (default 1)", "S" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &a->file,
      "where to save (default: the cache file the classifier reward loads)", "FILE" },
    { NULL }
  };
  const GOptionEntry eval_entries[] = {
    { "file", 'f', 0, G_OPTION_ARG_FILENAME, &a->file,
      "a saved classifier (default: the cached one, trained first if missing)", "FILE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (g_str_equal (action, "train")
                                                            ? "- train the Fashion-MNIST classifier"
                                                            : "- its accuracy on the Fashion-MNIST test split");

  g_option_context_add_main_entries (context, g_str_equal (action, "train") ? train_entries : eval_entries,
                                     NULL);
  if (!epd_cli_parse (context, argc, argv, error))
    return FALSE;
  if (a->hidden < 1 || a->epochs < 1 || a->batch_size < 1 || !(a->lr > 0) || a->n_train < 0 || a->seed < 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--hidden, --epochs and --batch-size must be >= 1, --lr > 0, --n-train and --seed >= 0");
      return FALSE;
    }
  return TRUE;
}

static void
print_progress (guint    epoch,
                guint    n_epochs,
                double   loss,
                gpointer user_data)
{
  g_printerr ("epd: epoch %u/%u: training loss %.4f (%.1f s)\n", epoch, n_epochs, loss,
              g_timer_elapsed (user_data, NULL));
}

static int
classifier_train (ClassifierArgs *a)
{
  EpdClassifierSettings settings = { (guint) a->hidden, (guint) a->epochs, (guint) a->batch_size,
                                     a->lr, (guint) a->n_train, (guint32) a->seed };
  g_autoptr(GTimer) timer = g_timer_new ();
  g_autoptr(EpdClassifier) classifier = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = a->file ? g_strdup (a->file) : epd_classifier_cache_path (&settings);
  g_autofree char *dir = g_path_get_dirname (path);

  classifier = epd_classifier_train_fashion_mnist (&settings, print_progress, timer, NULL, &error);
  if (classifier == NULL)
    return epd_cli_fail (error);
  g_mkdir_with_parents (dir, 0755);
  if (!epd_classifier_save (classifier, path, &error))
    return epd_cli_fail (error);
  g_print ("test accuracy %.4f (10000 Fashion-MNIST test images), trained in %.1f s\n",
           epd_classifier_get_test_accuracy (classifier), g_timer_elapsed (timer, NULL));
  g_print ("saved %s\n", path);
  return 0;
}

/* Accuracy on the test images of one class (recall). */
static double
class_accuracy (const EpdClassifier *classifier,
                EpdDataset          *test,
                guint8               klass)
{
  const guint8 *labels = epd_dataset_get_labels (test);
  guint dim = epd_dataset_get_dim (test);
  gsize total = epd_dataset_get_n (test), n = 0;
  g_autofree float *pixels = g_new (float, total * dim);
  g_autofree guint8 *same = g_new (guint8, total);

  for (gsize i = 0; i < total; i++)
    if (labels[i] == klass)
      {
        memcpy (pixels + n * dim, epd_dataset_get_image (test, i), dim * sizeof (float));
        same[n++] = klass;
      }
  return epd_classifier_accuracy (classifier, pixels, same, n);
}

/* Overall and per-class accuracy on the test split. */
static gboolean
print_accuracy (const EpdClassifier *classifier,
                GError             **error)
{
  g_autoptr(EpdDataset) test = epd_dataset_load_fashion_mnist (EPD_DATASET_SPLIT_TEST, NULL, error);
  const char *const *names = epd_dataset_fashion_mnist_classes ();

  if (test == NULL)
    return FALSE;
  g_print ("test accuracy %.4f on %" G_GSIZE_FORMAT " images\n",
           epd_classifier_accuracy (classifier, epd_dataset_get_pixels (test),
                                    epd_dataset_get_labels (test), epd_dataset_get_n (test)),
           epd_dataset_get_n (test));
  for (guint k = 0; k < epd_classifier_n_classes (classifier); k++)
    g_print ("  %-12s %.4f\n", k < 10 ? names[k] : "?", class_accuracy (classifier, test, (guint8) k));
  return TRUE;
}

static int
classifier_eval (ClassifierArgs *a)
{
  g_autoptr(EpdClassifier) classifier = NULL;
  g_autoptr(GError) error = NULL;

  classifier = a->file ? epd_classifier_load (a->file, &error) : epd_classifier_get_default (NULL, &error);
  if (classifier == NULL || !print_accuracy (classifier, &error))
    return epd_cli_fail (error);
  return 0;
}

static void
print_help (const char *program)
{
  g_print ("Usage:\n"
           "  %s train [OPTIONS]   train the Fashion-MNIST classifier (MLP 784-128-10) and cache it\n"
           "  %s eval [OPTIONS]    its overall and per-class accuracy on the test split\n"
           "\n"
           "The classifier scores images for the `classifier` reward of `epd rdpo` and the\n"
           "class diversity of image models. The reward trains and caches it on first use;\n"
           "`train` does so explicitly (a few seconds on the 60000 training images).\n"
           "\n"
           "Options of each action: %s train --help, %s eval --help\n",
           program, program, program, program);
}

int
epd_cmd_classifier (int    argc,
                    char **argv)
{
  g_auto(ClassifierArgs) args = { 128, 6, 128, 1e-3, 0, 1, NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  const char *action = argc > 1 ? argv[1] : "";

  if (g_str_equal (action, "--help") || g_str_equal (action, "-h") || g_str_equal (action, "help"))
    {
      print_help (argv[0]);
      return 0;
    }
  if (!g_str_equal (action, "train") && !g_str_equal (action, "eval"))
    {
      g_set_error (&error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   action[0] == '\0' ? "%s: missing action: train or eval (see %s --help)"
                                      : "%s: unknown action '%s': train or eval (see %s --help)",
                   argv[0], action[0] == '\0' ? argv[0] : action, argv[0]);
      return epd_cli_fail (error);
    }
  /* "epd classifier train" becomes the program name in --help and errors. */
  name = g_strdup_printf ("%s %s", argv[0], action);
  argv[1] = name;
  argc--;
  argv++;
  if (!parse_args (&args, action, &argc, &argv, &error))
    return epd_cli_fail (error);
  return g_str_equal (action, "train") ? classifier_train (&args) : classifier_eval (&args);
}
