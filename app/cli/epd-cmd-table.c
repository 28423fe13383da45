/* SPDX-License-Identifier: MIT */
/* epd-cmd-table.c: `epd table show|validate|convert|list`. */
#include <math.h>
#include <stdio.h>

#include "epd-cli.h"
#include "epd-gmm.h"

#define TABLE_SUMMARY "Coefficient tables: JSON (ours or the reference's form), the reference's .npz,\n" \
                      "or builtin:NAME for a shipped table (see 'epd table list')."

typedef struct
{
  const char *name;
  int       (*run) (int argc, char **argv);
  const char *args;
  const char *summary;
} TableAction;

/* Parses options, then checks the number of positional arguments. */
static gboolean
parse_action (GOptionContext  *context,
              int             *argc,
              char          ***argv,
              int              min_args,
              int              max_args,
              GError         **error)
{
  if (!g_option_context_parse (context, argc, argv, error))
    return FALSE;
  if (*argc - 1 < min_args || *argc - 1 > max_args)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                   "%s takes %s (see --help)", (*argv)[0],
                   min_args == max_args ? (min_args == 0 ? "no arguments" : min_args == 1 ? "one argument" : "two arguments")
                                        : "one or more arguments");
      return FALSE;
    }
  return TRUE;
}

/* ---- show --------------------------------------------------------------- */

static void
print_metadata (JsonObject *metadata)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *member;

  json_object_iter_init_ordered (&iter, metadata);
  while (json_object_iter_next_ordered (&iter, &name, &member))
    {
      g_autofree char *value = NULL;

      if (JSON_NODE_HOLDS_VALUE (member) && json_node_get_value_type (member) == G_TYPE_STRING)
        value = g_strdup (json_node_get_string (member));
      else
        value = json_to_string (member, FALSE);
      if (g_utf8_strlen (value, -1) > 72)
        {
          char *cut = g_utf8_substring (value, 0, 69);

          g_free (value);
          value = g_strconcat (cut, "...", NULL);
          g_free (cut);
        }
      g_print ("  %-14s %s\n", name, value);
    }
}

static void
print_header (const char     *source,
              const EpdTable *t)
{
  const EpdSchedule *s = &t->schedule;

  g_print ("%s\n", source);
  g_print ("  solver         %s, K = %u points per step, AFS %s", t->solver, t->n_points, t->afs ? "on" : "off");
  if (g_str_equal (t->solver, "epd-plugin"))
    g_print (", max order %u", t->max_order);
  g_print ("\n  steps          %u (%u grid points)\n", t->steps, t->steps + 1);
  g_print ("  schedule       %s, sigma %.6g .. %.6g", epd_schedule_kind_to_string (s->kind),
           s->sigma_min, s->sigma_max);
  if (s->kind == EPD_SCHEDULE_POLYNOMIAL)
    g_print (", rho %g", s->rho);
  if (epd_schedule_is_flow (s))
    g_print (", shift %.6g", s->shift);
  g_print ("\n");
  if (json_object_get_size (t->metadata) > 0)
    g_print ("metadata\n");
  print_metadata (t->metadata);
}

/* One line per point: t_n -> t_{n+1} on the first, the point's time
 * tau = t_{n+1}^r t_n^(1-r), r, weight and the scales when present. */
static void
print_steps (const EpdTable *t,
             const double   *grid)
{
  const char *time = epd_schedule_is_flow (&t->schedule) ? "t" : "sigma";

  g_print ("\n %4s  %-25s %2s %10s %12s %10s", "step", time, "k", "r", "tau", "weight");
  if (t->scale_dir)
    g_print (" %10s", "scale_dir");
  if (t->scale_time)
    g_print (" %10s", "scale_time");
  g_print ("\n");
  for (guint n = 0; n < t->steps; n++)
    for (guint k = 0; k < t->n_points; k++)
      {
        gsize i = (gsize) n * t->n_points + k;
        g_autofree char *span = grid && k == 0 ? g_strdup_printf ("%.6g -> %.6g", grid[n], grid[n + 1]) : g_strdup ("");
        double tau = grid ? pow (grid[n + 1], t->r[i]) * pow (grid[n], 1.0 - t->r[i]) : NAN;

        if (k == 0)
          g_print (" %4u  %-25s", n, grid ? span : "(schedule has no grid)");
        else
          g_print (" %4s  %-25s", "", "");
        g_print (" %2u %10.6f %12.6g %10.6f", k, t->r[i], tau, t->weight[i]);
        if (t->scale_dir)
          g_print (" %10.6f", t->scale_dir[i]);
        if (t->scale_time)
          g_print (" %10.6f", t->scale_time[i]);
        g_print ("\n");
      }
}

static int
table_show (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE|builtin:NAME");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) table = NULL;
  g_autofree double *grid = NULL;

  g_option_context_set_summary (context, "Print a table's header, metadata and every step's points.\n\n" TABLE_SUMMARY);
  if (!parse_action (context, &argc, &argv, 1, 1, &error))
    return epd_cli_fail (error);
  if (!(table = epd_table_load (argv[1], &error)))
    return epd_cli_fail (error);
  grid = epd_schedule_grid (&table->schedule, table->steps, NULL);
  print_header (argv[1], table);
  print_steps (table, grid);
  return 0;
}

/* ---- validate ----------------------------------------------------------- */

static int
table_validate (int    argc,
                char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("FILE|builtin:NAME...");
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_option_context_set_summary (context,
                                "Check tables: shapes, NaN/Inf, r in (0, 1), weights on the simplex\n"
                                "(within 1e-6), scales > 0. Exits non-zero if any table is invalid.\n\n" TABLE_SUMMARY);
  if (!parse_action (context, &argc, &argv, 1, G_MAXINT, &error))
    return epd_cli_fail (error);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(EpdTable) table = epd_table_load (argv[i], &error);

      if (table == NULL)
        {
          int failed = epd_cli_fail (error);

          status = MAX (status, failed);
          g_clear_error (&error);
          continue;
        }
      g_print ("%s: valid (%s, %u steps, K = %u, %s schedule)\n", argv[i], table->solver, table->steps,
               table->n_points, epd_schedule_kind_to_string (table->schedule.kind));
    }
  return status;
}

/* ---- convert ------------------------------------------------------------ */

static int
table_convert (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new ("IN OUT");
  g_autoptr(GError) error = NULL;
  g_autoptr(EpdTable) table = NULL;

  g_option_context_set_summary (context,
                                "Convert a table between JSON and the reference's .npz. The output format\n"
                                "follows OUT's extension (.npz, else JSON); values are kept bit for bit.\n"
                                "The reference's num_steps (grid points) becomes steps + 1 and back.\n\n" TABLE_SUMMARY);
  if (!parse_action (context, &argc, &argv, 2, 2, &error))
    return epd_cli_fail (error);
  if (!(table = epd_table_load (argv[1], &error)) || !epd_table_save (table, argv[2], &error))
    return epd_cli_fail (error);
  g_print ("wrote %s (%s, %u steps, K = %u)\n", argv[2],
           g_str_has_suffix (argv[2], ".npz") ? "NPZ" : "JSON", table->steps, table->n_points);
  return 0;
}

/* ---- list --------------------------------------------------------------- */

static void
list_tables (void)
{
  g_auto(GStrv) names = epd_table_builtin_names ();

  g_print ("Builtin tables (use as builtin:NAME):\n");
  for (guint i = 0; names[i]; i++)
    {
      g_autofree char *spec = g_strconcat (EPD_TABLE_BUILTIN_PREFIX, names[i], NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(EpdTable) t = epd_table_load (spec, &error);

      if (t == NULL)
        g_print ("  %-22s (unreadable: %s)\n", names[i], error->message);
      else
        g_print ("  %-22s %-10s %2u steps, K = %u, %s\n", names[i], t->solver, t->steps, t->n_points,
                 epd_schedule_kind_to_string (t->schedule.kind));
    }
}

static void
list_presets (void)
{
  const char * const *names = epd_gmm_preset_names ();

  g_print ("\nGaussian-mixture presets (use as --model gmm:NAME):\n");
  for (guint i = 0; names[i]; i++)
    {
      g_autoptr(EpdGmm) gmm = epd_gmm_new_preset (names[i], NULL);

      guint k = epd_gmm_get_n_components (gmm);

      g_print ("  %-22s %u component%s in %u dimensions\n", names[i], k, k == 1 ? "" : "s",
               epd_gmm_get_dim (gmm));
    }
  g_print ("  %-22s K random components in DIM dimensions (K = 16 if left out)\n", "hd:DIM[:K]");
}

static int
table_list (int    argc,
            char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, "List the builtin tables and the Gaussian-mixture model presets.");
  if (!parse_action (context, &argc, &argv, 0, 0, &error))
    return epd_cli_fail (error);
  list_tables ();
  list_presets ();
  return 0;
}

/* ---- dispatch ----------------------------------------------------------- */

static const TableAction actions[] = {
  { "show", table_show, "FILE|builtin:NAME", "print a table step by step" },
  { "validate", table_validate, "FILE...", "check tables; non-zero exit if any is invalid" },
  { "convert", table_convert, "IN OUT", "convert between JSON and .npz (by OUT's extension)" },
  { "list", table_list, "", "list builtin tables and model presets" },
};

static void
print_usage (FILE *stream)
{
  fprintf (stream, "Usage: epd table ACTION [OPTION...]\n\n%s\n\nActions:\n", TABLE_SUMMARY);
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    fprintf (stream, "  %-9s%-19s %s\n", actions[i].name, actions[i].args, actions[i].summary);
  fprintf (stream, "\nRun 'epd table ACTION --help' for the options of one action.\n");
}

int
epd_cmd_table (int    argc,
               char **argv)
{
  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (actions); i++)
    if (g_str_equal (argv[1], actions[i].name))
      {
        g_autofree char *prog = g_strdup_printf ("%s %s", argv[0], actions[i].name);

        argv[1] = prog;
        return actions[i].run (argc - 1, argv + 1);
      }
  fprintf (stderr, "epd: error: unknown table action '%s'\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
