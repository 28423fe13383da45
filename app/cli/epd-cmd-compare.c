/* SPDX-License-Identifier: MIT */
/* epd-cmd-compare.c: `epd compare` picks its mode from the options given:
 * --protocol runs the paper's protocol, two tables (--table, --table=FILE, -t
 * FILE or -tFILE) or --png put two tables side by side, anything else compares
 * solvers at equal NFE (where a single table is the EPD table to use). */
#include "epd-cli.h"

/* -t FILE and -tFILE as the long forms, which the two-table mode knows. */
static char *
long_table_option (const char *arg)
{
  if (g_str_equal (arg, "-t"))
    return g_strdup ("--table");
  if (g_str_has_prefix (arg, "-t"))
    return g_strconcat ("--table=", arg + 2, NULL);
  return g_strdup (arg);
}

static int
run_tables (int    argc,
            char **argv)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);
  g_autofree char **view = NULL;
  gboolean options = TRUE;

  for (int i = 0; i < argc; i++)
    {
      options = options && !g_str_equal (argv[i], "--");
      g_ptr_array_add (args, i > 0 && options ? long_table_option (argv[i]) : g_strdup (argv[i]));
    }
  g_ptr_array_add (args, NULL);
  /* GOption may reorder and drop entries of argv: it gets a copy of the pointers. */
  view = g_memdup2 (args->pdata, args->len * sizeof (char *));
  return epd_compare_tables (argc, view);
}

int
epd_cmd_compare (int    argc,
                 char **argv)
{
  guint n_tables = 0;
  gboolean png = FALSE;

  for (int i = 1; i < argc && !g_str_equal (argv[i], "--"); i++)
    {
      if (g_str_equal (argv[i], "--protocol"))
        return epd_compare_protocol (argc, argv);
      if (g_str_equal (argv[i], "--table") || g_str_has_prefix (argv[i], "--table=") ||
          g_str_has_prefix (argv[i], "-t"))
        n_tables++;
      if (g_str_equal (argv[i], "--png") || g_str_has_prefix (argv[i], "--png="))
        png = TRUE;
    }
  if (n_tables >= 2 || png)
    return run_tables (argc, argv);
  return epd_compare_solvers (argc, argv);
}
