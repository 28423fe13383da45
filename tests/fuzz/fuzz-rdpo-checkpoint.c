/* SPDX-License-Identifier: MIT
 * fuzz-rdpo-checkpoint.c: RDPO checkpoints, loaded into a trainer on a small
 * start table with a toy reward. A checkpoint that loads must save and load
 * again. EPD_FUZZ_SAVE_CHECKPOINT=PATH makes the harness write the seed this
 * trainer expects (after two iterations, so that it holds a best table). */
#include "epd-fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "epd-rdpo.h"

static const char *const toy_names[] = { "toy", NULL };

/* Samples near the table's first r and weight; the reward favours small r. */
static gboolean
toy_rollout (gpointer data, const EpdTable *table, const double *z, gsize n,
             double *x_final, double *scores, double *term_scores,
             GCancellable *cancellable, GError **error)
{
  for (gsize i = 0; i < n; i++)
    {
      x_final[2 * i] = table->r[0] + 0.01 * z[2 * i];
      x_final[2 * i + 1] = table->weight[0] + 0.01 * z[2 * i + 1];
      scores[i] = term_scores[i] = -table->r[0] + 0.001 * z[2 * i];
    }
  return TRUE;
}

static EpdRdpoEnv toy_env = {
  .dim = 2, .n_terms = 1, .term_names = toy_names, .rollout = toy_rollout,
};

static EpdRdpo *
make_trainer (void)
{
  static const double r[6] = { 0.13, 0.71, 0.3, 0.45, 0.62, 0.9 };
  static const double w[6] = { 0.4, 0.6, 0.06, 0.94, 0.5, 0.5 };
  g_autoptr(EpdTable) start = epd_table_new ("epd", 3, 2);
  g_autoptr(GError) error = NULL;
  EpdRdpoOptions o;
  EpdRdpo *rdpo;

  memcpy (start->r, r, sizeof r);
  memcpy (start->weight, w, sizeof w);
  epd_rdpo_options_init (&o);
  o.iters = 2;
  o.batch = 2;
  o.latents = 2;
  o.val_every = 1;
  o.val_seeds = 2;
  o.val_latents = 2;
  o.seed = 7;
  o.reward_spec = "toy";
  rdpo = epd_rdpo_new (&toy_env, start, &o, &error);
  if (rdpo == NULL)
    epd_fuzz_fail ("no trainer: %s", error->message);
  return rdpo;
}

static void
save_seed (const char *path)
{
  g_autoptr(GError) error = NULL;
  EpdRdpo *rdpo = make_trainer ();
  EpdRdpoRecord record;

  for (guint i = 0; i < 2; i++)
    if (!epd_rdpo_iterate (rdpo, &record, NULL, &error))
      epd_fuzz_fail ("toy iteration: %s", error->message);
  if (!epd_rdpo_save_checkpoint (rdpo, path, &error))
    epd_fuzz_fail ("%s", error->message);
  epd_rdpo_free (rdpo);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  static EpdRdpo *rdpo;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  g_autofree char *again = NULL;

  if (rdpo == NULL)
    {
      if (g_getenv ("EPD_FUZZ_SAVE_CHECKPOINT") != NULL)
        save_seed (g_getenv ("EPD_FUZZ_SAVE_CHECKPOINT"));
      rdpo = make_trainer ();
    }
  path = epd_fuzz_write_file ("checkpoint.json", data, size);
  if (!epd_rdpo_load_checkpoint (rdpo, path, &error))
    return 0;
  again = g_build_filename (epd_fuzz_dir (), "again.json", NULL);
  if (!epd_rdpo_save_checkpoint (rdpo, again, &error) || !epd_rdpo_load_checkpoint (rdpo, again, &error))
    epd_fuzz_fail ("a loaded checkpoint does not save and load again: %s", error->message);
  return 0;
}
