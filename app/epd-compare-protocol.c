/* epd-compare-protocol.c: placeholder until helper D lands it. */
#include "epd-cli.h"

int
epd_compare_protocol (int argc, char **argv)
{
  g_printerr ("%s: not built yet\n", argv[0]);
  return 1;
}
