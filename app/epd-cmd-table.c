/* epd-cmd-table.c: placeholder until helper B lands it. */
#include "epd-cli.h"

int
epd_cmd_table (int argc, char **argv)
{
  g_printerr ("%s: not built yet\n", argv[0]);
  return 1;
}
