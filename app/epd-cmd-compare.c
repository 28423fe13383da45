/* epd-cmd-compare.c: `epd compare` picks its mode from the options given. */
#include "epd-cli.h"

int
epd_cmd_compare (int    argc,
                 char **argv)
{
  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--protocol"))
        return epd_compare_protocol (argc, argv);
      if (g_str_equal (argv[i], "--table") || g_str_has_prefix (argv[i], "--table="))
        return epd_compare_tables (argc, argv);
    }
  return epd_compare_solvers (argc, argv);
}
