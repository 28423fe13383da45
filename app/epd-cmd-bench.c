/* epd-cmd-bench.c: placeholder until helper C1 lands it. */
#include "epd-cli.h"

int
epd_cmd_bench (int argc, char **argv)
{
  g_printerr ("%s: not built yet\n", argv[0]);
  return 1;
}
