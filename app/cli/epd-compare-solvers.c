/* SPDX-License-Identifier: MIT */
/* epd-compare-solvers.c: `epd compare --nfe N[,N...]`: every solver at the
 * same latency NFE, from the same noise, against the adaptive teacher. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "epd-cli.h"
#include "epd-model.h"
#include "epd-file.h"

#define DEFAULT_SOLVERS "euler,heun,dpm2,dpmpp2m,dpmpp3m,ipndm,epd,epd-plugin"

typedef struct
{
  char    *nfe;
  char    *solvers;
  char    *table;
  char    *afs;
  char    *csv;
  EpdCliSolveArgs common;
  EpdCliScheduleArgs sched;
} CompareArgs;

/* One row of the result table. */
typedef struct
{
  guint          nfe;
  EpdSolverKind  solver;
  guint          steps;
  gboolean       afs;
  EpdNfe         measured;
  double         err_mean;
  double         err_std;
  char          *table_name;  /* "table", "builtin:NAME", "uniform" or NULL */
  gboolean       distilled;   /* a shipped table made by `epd distill` */
  char          *note;
} CompareRow;

static void
compare_row_clear (gpointer data)
{
  CompareRow *row = data;

  g_free (row->table_name);
  g_free (row->note);
}

static void
compare_args_clear (CompareArgs *a)
{
  g_free (a->nfe);
  g_free (a->solvers);
  g_free (a->table);
  g_free (a->afs);
  g_free (a->csv);
  epd_cli_solve_args_clear (&a->common);
  epd_cli_schedule_args_clear (&a->sched);
}

static GOptionContext *
compare_context (CompareArgs *a)
{
  const GOptionEntry entries[] = {
    { "nfe", 0, 0, G_OPTION_ARG_STRING, &a->nfe, "latency NFE budgets, comma separated (required)", "N[,N...]" },
    { "solvers", 0, 0, G_OPTION_ARG_STRING, &a->solvers, "solvers to compare (default " DEFAULT_SOLVERS ")", "LIST" },
    { "table", 't', 0, G_OPTION_ARG_FILENAME, &a->table, "EPD table for its solver at its own NFE", "FILE" },
    { "afs", 0, 0, G_OPTION_ARG_STRING, &a->afs,
      "analytical first step: auto (where it makes the NFE exact; default), on or off", "MODE" },
    { "csv", 0, 0, G_OPTION_ARG_FILENAME, &a->csv, "also write the rows as CSV", "FILE" },
    { NULL }
  };
  GOptionContext *context = g_option_context_new ("- solvers at equal NFE against the teacher");

  g_option_context_set_summary (context,
    "epd compare has three modes:\n"
    "  epd compare --nfe N[,N...] [--table T]       solvers at equal NFE (the options below)\n"
    "  epd compare --protocol --model M --nfe N     the paper's protocol: distil, then compare\n"
    "                                               on held-out noise (epd compare --protocol --help)\n"
    "  epd compare --table A --table B [--png F]    two tables side by side: reward, diversity,\n"
    "                                               a figure (epd compare --table A --table B --help)\n"
    "\n"
    "Solvers at equal NFE: runs each solver at the same latency NFE (a parallel batch counts\n"
    "once) from the same noise and reports the L2 error of its samples to the teacher's.\n"
    "epd and epd-plugin use --table where it fits the NFE, else the shipped distilled table\n"
    "for the model where one fits (builtin:ring8-epd-nfe5 for gmm:ring8 at NFE 5), else an\n"
    "untrained uniform table. Example:\n"
    "  epd compare --model gmm:ring8 --nfe 3,5,7,9 --batch 64 --seed 0");
  g_option_context_add_main_entries (context, entries, NULL);
  epd_cli_solve_args_add (context, &a->common, 64, 1e-10);
  g_option_context_add_group (context, epd_cli_schedule_group (&a->sched));
  return context;
}

static GArray *
parse_solver_list (const char  *text,
                   GError     **error)
{
  g_auto(GStrv) parts = g_strsplit (text ? text : DEFAULT_SOLVERS, ",", -1);
  g_autoptr(GArray) list = g_array_new (FALSE, FALSE, sizeof (EpdSolverKind));

  if (parts[0] == NULL)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--solvers needs at least one solver name (got an empty list)");
      return NULL;
    }

  for (guint i = 0; parts[i] != NULL; i++)
    {
      EpdSolverKind kind;

      if (!epd_solver_kind_from_string (g_strstrip (parts[i]), &kind, error))
        return NULL;
      if (kind == EPD_SOLVER_TEACHER)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       "the teacher is the reference of the comparison, not one of --solvers");
          return NULL;
        }
      g_array_append_val (list, kind);
    }
  return g_steal_pointer (&list);
}

static guint
cost_per_step (EpdSolverKind kind)
{
  switch (kind)
    {
    case EPD_SOLVER_HEUN:
    case EPD_SOLVER_DPM2:
    case EPD_SOLVER_EPD:
    case EPD_SOLVER_EPD_PLUGIN:
      return 2;
    default:
      return 1;
    }
}

/* Steps and AFS for a latency budget: latency = cost * steps - afs. The
 * largest budget not above nfe when it cannot be hit; a note says so. */
static void
plan_steps (const char  *afs_mode,
            guint        nfe,
            guint        cost,
            CompareRow  *row)
{
  gboolean allow_on = g_strcmp0 (afs_mode, "off") != 0;
  gboolean force_on = g_strcmp0 (afs_mode, "on") == 0;

  if (!force_on && nfe % cost == 0)
    {
      row->steps = nfe / cost;
      row->afs = FALSE;
    }
  else if (allow_on && (nfe + 1) % cost == 0)
    {
      row->steps = (nfe + 1) / cost;
      row->afs = TRUE;
    }
  else
    {
      row->afs = force_on;
      row->steps = (nfe + (force_on ? 1 : 0)) / cost;
    }
}

typedef struct
{
  EpdDenoiser       *denoiser;
  const CompareArgs *args;
  EpdSchedule        schedule;
  const EpdTable    *table;     /* may be NULL */
  gsize              batch;
  guint              dim;
  const double      *z;
  const double      *reference; /* the teacher's samples */
} Compare;

static void
row_errors (const Compare *c,
            const double  *x,
            CompareRow    *row)
{
  double sum = 0.0, sum2 = 0.0;

  for (gsize b = 0; b < c->batch; b++)
    {
      double s = 0.0;

      for (guint j = 0; j < c->dim; j++)
        {
          double e = x[b * c->dim + j] - c->reference[b * c->dim + j];
          s += e * e;
        }
      sum += sqrt (s);
      sum2 += s;
    }
  row->err_mean = sum / c->batch;
  row->err_std = sqrt (MAX (0.0, sum2 / c->batch - row->err_mean * row->err_mean));
}

/* The table an EPD-family row uses: the given one where it fits this row, else
 * the shipped distilled one for this model and row, else a uniform one. A table
 * made here is returned in *owned. */
static const EpdTable *
row_table (const Compare  *c,
           CompareRow     *row,
           EpdTable      **owned)
{
  const char *name = epd_solver_kind_to_string (row->solver);

  if (c->table != NULL && g_str_equal (c->table->solver, name))
    {
      EpdSolveOptions probe;

      epd_solve_options_init (&probe);
      probe.solver = row->solver;
      probe.steps = c->table->steps;
      probe.afs = c->table->afs;
      probe.table = c->table;
      if (epd_solve_options_nfe (&probe).latency == row->nfe)
        {
          row->steps = c->table->steps;
          row->afs = c->table->afs;
          row->table_name = g_strdup ("table");
          return c->table;
        }
    }
  *owned = epd_find_shipped_table (c->args->common.model, row->solver, row->steps,
                                   c->args->common.points, row->afs, &c->schedule, &row->table_name);
  if (*owned != NULL)
    {
      const char *created_by = json_object_get_string_member_with_default ((*owned)->metadata, "created_by", "");

      row->distilled = g_str_has_prefix (created_by, "epd distill");
      return *owned;
    }
  *owned = epd_table_new (name, row->steps, c->args->common.points);
  (*owned)->afs = row->afs;
  row->table_name = g_strdup ("uniform");
  return *owned;
}

static gboolean
run_row (const Compare  *c,
         CompareRow     *row,
         GError        **error)
{
  g_autoptr(EpdTable) owned = NULL;
  g_autofree double *x = g_new (double, c->batch * c->dim);
  EpdSolveOptions o;

  epd_solve_options_init (&o);
  o.solver = row->solver;
  o.schedule = c->schedule;
  plan_steps (c->args->afs, row->nfe, cost_per_step (row->solver), row);
  if (row->steps == 0)
    {
      row->note = g_strdup_printf ("needs NFE >= %u", cost_per_step (row->solver) - 1);
      return TRUE;
    }
  if (row->solver == EPD_SOLVER_EPD || row->solver == EPD_SOLVER_EPD_PLUGIN)
    {
      o.table = row_table (c, row, &owned);
      if (!g_str_equal (row->table_name, "uniform"))
        {
          /* Its own grid (the builtin's equals this one) and order. */
          o.schedule = o.table->schedule;
          o.max_order = o.table->max_order;
        }
    }
  o.steps = row->steps;
  o.afs = row->afs;
  epd_solve_init_from_noise (&o, c->z, c->batch * c->dim, x);
  if (!epd_solve (c->denoiser, &o, x, c->batch, x, NULL, &row->measured, NULL, error))
    return FALSE;
  if (row->measured.latency != row->nfe)
    row->note = g_strdup_printf ("cannot hit NFE %u exactly", row->nfe);
  row_errors (c, x, row);
  return TRUE;
}

static double *
run_teacher (Compare  *c,
             EpdNfe   *nfe,
             GError  **error)
{
  g_autofree double *x = g_new (double, c->batch * c->dim);
  EpdSolveOptions o;

  epd_solve_options_init (&o);
  o.solver = EPD_SOLVER_TEACHER;
  o.steps = 1;
  o.schedule = c->schedule;
  o.teacher_rtol = c->args->common.rtol;
  epd_solve_init_from_noise (&o, c->z, c->batch * c->dim, x);
  if (!epd_solve (c->denoiser, &o, x, c->batch, x, NULL, nfe, NULL, error))
    return NULL;
  return g_steal_pointer (&x);
}

/* "uniform table", "given table" or "builtin:NAME (distilled)", then the row's note. */
static char *
row_note (const CompareRow *r)
{
  g_autofree char *table = NULL;

  if (r->table_name == NULL)
    table = g_strdup ("");
  else if (g_str_equal (r->table_name, "uniform") || g_str_equal (r->table_name, "table"))
    table = g_strdup (g_str_equal (r->table_name, "uniform") ? "uniform table" : "given table");
  else
    table = g_strdup_printf ("%s%s", r->table_name, r->distilled ? " (distilled)" : "");
  return g_strjoin (r->note && *table ? "; " : "", table, r->note ? r->note : "", NULL);
}

static void
print_rows (const Compare *c,
            GArray        *rows,
            const EpdNfe  *teacher_nfe)
{
  gboolean any_uniform = FALSE;

  g_print ("model %s, %" G_GSIZE_FORMAT " samples from seed %u\n",
           epd_denoiser_describe (c->denoiser), c->batch, c->args->common.seed);
  g_print ("schedule %s, sigma %g..%g, rho %g, shift %g\n",
           epd_schedule_kind_to_string (c->schedule.kind), c->schedule.sigma_min,
           c->schedule.sigma_max, c->schedule.rho, c->schedule.shift);
  g_print ("teacher: Dormand-Prince 5(4) in log t, rtol %g, %u evaluations\n",
           c->args->common.rtol, teacher_nfe->latency);
  g_print ("error: L2 distance of each sample to the teacher's, mean and std over the batch\n\n");
  g_print ("%4s  %-10s %5s %4s %7s %5s  %-10s %-9s  %s\n",
           "NFE", "solver", "steps", "AFS", "latency", "total", "L2 mean", "L2 std", "note");
  for (guint i = 0; i < rows->len; i++)
    {
      CompareRow *r = &g_array_index (rows, CompareRow, i);
      g_autofree char *note = row_note (r);

      any_uniform |= g_strcmp0 (r->table_name, "uniform") == 0;
      if (r->steps == 0)
        g_print ("%4u  %-10s %5s %4s %7s %5s  %-10s %-9s  %s\n", r->nfe,
                 epd_solver_kind_to_string (r->solver), "-", "-", "-", "-", "-", "-", note);
      else
        g_print ("%4u  %-10s %5u %4s %7u %5u  %-10.4e %-9.2e  %s\n", r->nfe,
                 epd_solver_kind_to_string (r->solver), r->steps, r->afs ? "yes" : "no",
                 r->measured.latency, r->measured.total, r->err_mean, r->err_std, note);
    }
  if (any_uniform)
    g_print ("\nhint: a uniform table is untrained (no --table and no shipped table fits that row);\n"
             "distil one with `epd distill --model %s --steps S [--afs] --out T.json` and pass\n"
             "--table T.json, or run `epd compare --protocol --model %s --nfe N`.\n",
             c->args->common.model, c->args->common.model);
}

static gboolean
write_csv (const char  *path,
           GArray      *rows,
           GError     **error)
{
  g_autoptr(GString) s = g_string_new ("nfe,solver,steps,afs,nfe_latency,nfe_total,l2_mean,l2_std,table,note\n");

  for (guint i = 0; i < rows->len; i++)
    {
      CompareRow *r = &g_array_index (rows, CompareRow, i);

      g_string_append_printf (s, "%u,%s,%u,%d,%u,%u,%.17g,%.17g,%s,\"%s\"\n", r->nfe,
                              epd_solver_kind_to_string (r->solver), r->steps, r->afs,
                              r->measured.latency, r->measured.total,
                              r->steps ? r->err_mean : NAN, r->steps ? r->err_std : NAN,
                              r->table_name ? r->table_name : "", r->note ? r->note : "");
    }
  return epd_file_write_atomic (path, s->str, s->len, error);
}

static gboolean
check_args (CompareArgs  *a,
            GError      **error)
{
  if (!epd_cli_solve_args_resolve (&a->common, error))
    return FALSE;
  if (a->afs == NULL)
    a->afs = g_strdup ("auto");
  if (!g_str_equal (a->afs, "auto") && !g_str_equal (a->afs, "on") && !g_str_equal (a->afs, "off"))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--afs must be auto, on or off (got '%s')", a->afs);
      return FALSE;
    }
  return a->csv == NULL || epd_cli_check_output ("--csv", a->csv, NULL, error);
}

static gboolean
run_compare (CompareArgs  *a,
             GError      **error)
{
  g_autoptr(GArray) nfes = NULL, solvers = NULL;
  g_autoptr(GArray) rows = g_array_new (FALSE, TRUE, sizeof (CompareRow));
  g_autoptr(EpdTable) table = NULL;
  g_autoptr(EpdDenoiser) denoiser = NULL;
  g_autofree double *z = NULL, *reference = NULL;
  Compare c = { .args = a };
  EpdNfe teacher_nfe;

  g_array_set_clear_func (rows, compare_row_clear);
  if (!check_args (a, error) || (nfes = epd_parse_number_list ("nfe", a->nfe, EPD_NFE_MIN, EPD_NFE_MAX, error)) == NULL ||
      (solvers = parse_solver_list (a->solvers, error)) == NULL ||
      !epd_cli_schedule_resolve (&a->sched, &c.schedule, error))
    return FALSE;
  if (a->table != NULL && (table = epd_table_load (a->table, error)) == NULL)
    return FALSE;
  c.batch = a->common.batch;
  if ((denoiser = epd_cli_open_model (a->common.model, a->common.device, error)) == NULL)
    return FALSE;
  c.table = table;
  if (table != NULL && a->sched.schedule == NULL)
    c.schedule = table->schedule;
  else if (!epd_cli_schedule_fit_model (&a->sched, denoiser, &c.schedule, error))
    return FALSE;
  c.denoiser = denoiser;
  c.dim = epd_denoiser_get_dim (denoiser);
  z = epd_random_latents (a->common.seed, c.batch, c.dim);
  c.z = z;
  if ((reference = run_teacher (&c, &teacher_nfe, error)) == NULL)
    return FALSE;
  c.reference = reference;
  epd_cli_catch_interrupt (NULL);
  for (guint i = 0; i < nfes->len * solvers->len && !epd_cli_interrupted (); i++)
    {
      CompareRow row = { .nfe = g_array_index (nfes, guint, i / solvers->len),
                         .solver = g_array_index (solvers, EpdSolverKind, i % solvers->len) };

      if (isatty (STDERR_FILENO))
        g_printerr ("\repd: %u/%u: %s at NFE %u   ", i + 1, nfes->len * solvers->len,
                    epd_solver_kind_to_string (row.solver), row.nfe);
      if (!run_row (&c, &row, error))
        {
          g_free (row.note);
          return FALSE;
        }
      g_array_append_val (rows, row);
    }
  if (isatty (STDERR_FILENO))
    g_printerr ("\n");
  print_rows (&c, rows, &teacher_nfe);
  if (epd_cli_interrupted ())
    g_print ("(interrupted: %u of %u rows)\n", rows->len, nfes->len * solvers->len);
  return a->csv == NULL || write_csv (a->csv, rows, error);
}

int
epd_compare_solvers (int    argc,
                     char **argv)
{
  CompareArgs a = { 0 };
  g_autoptr(GOptionContext) context = compare_context (&a);
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (!epd_cli_parse (context, &argc, &argv, &error) || !run_compare (&a, &error))
    status = epd_cli_fail (error);
  else if (epd_cli_interrupted ())
    status = 130;  /* the partial table is out; scripts still see the interruption */
  compare_args_clear (&a);
  return status;
}
