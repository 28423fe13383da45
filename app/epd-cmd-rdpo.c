/* epd-cmd-rdpo.c: placeholder until helper E1 lands it. */
#include "epd-cli.h"

int
epd_cmd_rdpo (int argc, char **argv)
{
  g_printerr ("%s: not built yet\n", argv[0]);
  return 1;
}
