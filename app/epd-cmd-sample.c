/* epd-cmd-sample.c: placeholder until helper A lands it. */
#include "epd-cli.h"

int
epd_cmd_sample (int argc, char **argv)
{
  g_printerr ("%s: not built yet\n", argv[0]);
  return 1;
}
