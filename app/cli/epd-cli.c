/* SPDX-License-Identifier: MIT */
/* epd-cli.c: `epd`, the command-line tool: dispatch to sub-commands. */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "epd-cli.h"

typedef struct
{
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} EpdCommand;

static const EpdCommand commands[] = {
  { "sample",  epd_cmd_sample,  "sample a model with a solver, write .npy / PNG / trace" },
  { "compare", epd_cmd_compare, "compare solvers at equal NFE, or two tables side by side" },
  { "table",   epd_cmd_table,   "show, validate and convert coefficient tables" },
  { "devices", epd_cmd_devices, "list compute devices (CPU and Vulkan)" },
  { "bench",   epd_cmd_bench,   "measure denoiser throughput on each device" },
  { "distill", epd_cmd_distill, "Stage 1: distil an EPD table from a teacher" },
  { "rdpo",    epd_cmd_rdpo,    "Stage 2: improve a table for a reward with RDPO" },
  { "fd",      epd_cmd_fd,      "Frechet distance in classifier features (not Inception FID) on Fashion-MNIST" },
  { "classifier", epd_cmd_classifier, "train or evaluate the Fashion-MNIST reward classifier" },
  { "eval",    epd_cmd_eval,    "evaluate D(x, sigma) of a model on rows from .npy" },
};

static void
print_usage (FILE *stream)
{
  fprintf (stream, "Usage: epd COMMAND [OPTION...]\n\nCommands:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (stream, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf (stream, "\nRun 'epd COMMAND --help' for the options of one command.\n");
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  /* Numbers in files and tables always use '.', whatever the locale. */
  setlocale (LC_NUMERIC, "C");

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? 2 : 0;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        g_autofree char *prog = g_strdup_printf ("epd %s", commands[i].name);
        argv[1] = prog;
        return commands[i].run (argc - 1, argv + 1);
      }

  fprintf (stderr, "epd: error: unknown command '%s'\n\n", argv[1]);
  print_usage (stderr);
  return 2;
}
