/* epd-cmd-compare.c: `epd compare` picks its mode from the options given:
 * --protocol runs the paper's protocol, two --table options (or --png) put two
 * tables side by side, anything else compares solvers at equal NFE (where a
 * single --table is the EPD table to use). */
#include "epd-cli.h"

int
epd_cmd_compare (int    argc,
                 char **argv)
{
  guint n_tables = 0;
  gboolean png = FALSE;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--protocol"))
        return epd_compare_protocol (argc, argv);
      if (g_str_equal (argv[i], "--table") || g_str_has_prefix (argv[i], "--table="))
        n_tables++;
      if (g_str_equal (argv[i], "--png") || g_str_has_prefix (argv[i], "--png="))
        png = TRUE;
    }
  if (n_tables >= 2 || png)
    return epd_compare_tables (argc, argv);
  return epd_compare_solvers (argc, argv);
}
