/* SPDX-License-Identifier: MIT */
/* epd-cli-sampling.c: the solver options of every command that samples with one
 * solver configuration (`epd sample`, `epd fd`): parsed and resolved in one place. */
#include <math.h>
#include <string.h>

#include "epd-cli.h"
#include "epd-epd-step.h"
#include "epd-memory.h"
#include "epd-sample-quality.h"

void
epd_cli_sampling_add (GOptionContext      *context,
                      EpdCliSamplingArgs  *a,
                      guint                default_batch,
                      double               default_rtol)
{
  const GOptionEntry entries[] = {
    { "solver", 's', 0, G_OPTION_ARG_STRING, &a->solver,
      "euler heun dpm2 dpmpp2m dpmpp3m ipndm epd epd-plugin teacher (default: the table's, else epd)", "NAME" },
    { "steps", 'n', 0, G_OPTION_ARG_STRING, &a->steps_text, "intervals of the grid (default: the table's, else 4)", "N" },
    { "table", 't', 0, G_OPTION_ARG_FILENAME, &a->table,
      "EPD coefficient table (.json, the reference's .npz, or builtin:NAME)", "FILE" },
    { "afs", 0, 0, G_OPTION_ARG_NONE, &a->afs, "analytical first step d = x / sqrt(1 + t^2)", NULL },
    { "max-order", 0, 0, G_OPTION_ARG_STRING, &a->max_order_text,
      "iPNDM order for ipndm and epd-plugin, 1 to 4 (default 4)", "M" },
    { NULL }
  };

  g_option_context_add_main_entries (context, entries, NULL);
  epd_cli_solve_args_add (context, &a->common, default_batch, default_rtol);
  g_option_context_add_group (context, epd_cli_schedule_group (&a->sched));
}

void
epd_cli_sampling_args_clear (EpdCliSamplingArgs *a)
{
  g_free (a->solver);
  g_free (a->steps_text);
  g_free (a->table);
  g_free (a->max_order_text);
  g_clear_pointer (&a->loaded, epd_table_free);
  g_clear_pointer (&a->uniform, epd_table_free);
  epd_cli_solve_args_clear (&a->common);
  epd_cli_schedule_args_clear (&a->sched);
}

/* An explicit option that disagrees with the table is an error. */
static gboolean
check_same (double       given,
            double       in_table,
            const char  *name,
            GError     **error)
{
  if (isnan (given) || given == in_table)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "--%s %g disagrees with the table's %g (leave it out to use the table's)",
               name, given, in_table);
  return FALSE;
}

static gboolean
resolve_from_table (const EpdCliSamplingArgs *a,
                    const EpdTable    *table,
                    EpdSolveOptions   *o,
                    GError           **error)
{
  EpdScheduleKind kind;

  if (a->solver != NULL && g_strcmp0 (a->solver, table->solver) != 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--solver %s disagrees with the table's solver %s", a->solver, table->solver);
      return FALSE;
    }
  if (!epd_solver_kind_from_string (table->solver, &o->solver, error))
    return FALSE;
  if (a->steps > 0 && a->steps != table->steps)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--steps %u disagrees with the table's %u steps (%u grid points)",
                   a->steps, table->steps, table->steps + 1);
      return FALSE;
    }
  if (a->afs && !table->afs)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--afs given but the table was made without the analytical first step");
      return FALSE;
    }
  if (a->sched.schedule != NULL &&
      (!epd_schedule_kind_from_string (a->sched.schedule, &kind, error) || kind != table->schedule.kind))
    {
      if (error && *error == NULL)
        g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                     "--schedule %s disagrees with the table's %s schedule", a->sched.schedule,
                     epd_schedule_kind_to_string (table->schedule.kind));
      return FALSE;
    }
  if (!check_same (a->sched.sigma_min, table->schedule.sigma_min, "sigma-min", error) ||
      !check_same (a->sched.sigma_max, table->schedule.sigma_max, "sigma-max", error) ||
      !check_same (a->sched.rho, table->schedule.rho, "rho", error) ||
      !check_same (a->sched.shift, table->schedule.shift, "shift", error) ||
      !check_same (a->max_order > 0 ? (double) a->max_order : NAN, table->max_order, "max-order", error))
    return FALSE;
  o->steps = table->steps;
  o->schedule = table->schedule;
  o->afs = table->afs;
  o->max_order = table->max_order;
  o->table = table;
  return TRUE;
}

/* Options from the command line, the table's where one is given. *uniform
 * receives the uniform table an EPD solver uses without --table. */
static gboolean
resolve_options (const EpdCliSamplingArgs *a,
                 EpdTable          *table,
                 EpdTable         **uniform,
                 EpdSolveOptions   *o,
                 GError           **error)
{
  epd_solve_options_init (o);
  o->teacher_rtol = a->common.rtol;
  if (table != NULL)
    return resolve_from_table (a, table, o, error);
  if (a->solver != NULL && !epd_solver_kind_from_string (a->solver, &o->solver, error))
    return FALSE;
  if (!epd_cli_schedule_resolve (&a->sched, &o->schedule, error))
    return FALSE;
  o->steps = a->steps > 0 ? a->steps : 4;
  o->afs = a->afs;
  if (a->max_order > 0)
    o->max_order = a->max_order;
  if (o->solver == EPD_SOLVER_EPD || o->solver == EPD_SOLVER_EPD_PLUGIN)
    {
      *uniform = epd_table_new (epd_solver_kind_to_string (o->solver), o->steps, a->common.points);
      o->table = *uniform;
      g_printerr ("epd: no --table: using the uniform table (K = %u, r evenly spread, equal weights)\n",
                  a->common.points);
    }
  return TRUE;
}

/* The numbers typed as text, checked: a bad value is an error, never a default. */
static gboolean
parse_numbers (EpdCliSamplingArgs  *a,
               GError             **error)
{
  return epd_cli_solve_args_resolve (&a->common, error) &&
         (a->steps_text == NULL || epd_cli_parse_uint ("--steps", a->steps_text, 1, G_MAXINT, &a->steps, error)) &&
         (a->max_order_text == NULL ||
          epd_cli_parse_uint ("--max-order", a->max_order_text, 1, EPD_IPNDM_MAX_ORDER, &a->max_order, error));
}

gboolean
epd_cli_sampling_resolve (EpdCliSamplingArgs  *a,
                          EpdSolveOptions     *o,
                          GError             **error)
{
  if (!parse_numbers (a, error))
    return FALSE;
  if (a->table != NULL && (a->loaded = epd_table_load (a->table, error)) == NULL)
    return FALSE;
  return resolve_options (a, a->loaded, &a->uniform, o, error);
}

gboolean
epd_cli_sampling_fit_model (const EpdCliSamplingArgs *a,
                            EpdDenoiser              *denoiser,
                            EpdSolveOptions          *o,
                            GError                  **error)
{
  return a->loaded != NULL || epd_cli_schedule_fit_model (&a->sched, denoiser, &o->schedule, error);
}

/* Samples n images in chunks of the batch size from one noise stream, so the
 * images do not depend on the chunk size. */
gboolean
epd_cli_sample_quality (EpdDenoiser           *denoiser,
                        const EpdSolveOptions *o,
                        guint32                seed,
                        gsize                  n,
                        gsize                  chunk,
                        EpdSampleQuality      *q,
                        double                *keep,
                        GError               **error)
{
  guint dim = epd_denoiser_get_dim (denoiser);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autofree double *z = NULL, *x = NULL;
  g_autofree char *what = NULL;

  chunk = MIN (chunk, n);
  what = g_strdup_printf ("--batch %" G_GSIZE_FORMAT " (samples of %u values)", chunk, dim);
  /* The solver's own scratch grows with the chunk: refuse before it would abort. */
  if (!epd_memory_check_solve (what, chunk, dim, o->table != NULL ? o->table->n_points : 1, error))
    return FALSE;
  z = g_try_malloc_n (chunk, dim * sizeof (double));
  x = g_try_malloc_n (chunk, dim * sizeof (double));
  if (z == NULL || x == NULL)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID, "not enough memory for a chunk of %"
                   G_GSIZE_FORMAT " images (lower --batch)", chunk);
      return FALSE;
    }
  for (gsize done = 0; done < n; done += chunk)
    {
      gsize m = MIN (chunk, n - done);

      epd_random_normal_fill (rand, z, m * dim);
      epd_solve_init_from_noise (o, z, m * dim, x);
      if (!epd_solve (denoiser, o, x, m, x, NULL, NULL, NULL, error) ||
          !epd_sample_quality_add (q, x, m, error))
        return FALSE;
      if (keep != NULL)
        memcpy (keep + done * dim, x, m * dim * sizeof (double));
      if (epd_cli_interrupted ())
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "interrupted after %" G_GSIZE_FORMAT
                       " of %" G_GSIZE_FORMAT " images", done + m, n);
          return FALSE;
        }
    }
  return TRUE;
}

