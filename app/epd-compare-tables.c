/* epd-compare-tables.c: placeholder until helper E2 lands it. */
#include "epd-cli.h"

int
epd_compare_tables (int argc, char **argv)
{
  g_printerr ("%s: not built yet\n", argv[0]);
  return 1;
}
