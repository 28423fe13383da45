/* epd-compare-solvers.c: placeholder until helper A lands it. */
#include "epd-cli.h"

int
epd_compare_solvers (int argc, char **argv)
{
  g_printerr ("%s: not built yet\n", argv[0]);
  return 1;
}
