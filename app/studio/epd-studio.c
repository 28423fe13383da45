/* SPDX-License-Identifier: MIT */
/* epd-studio.c: the EPD Studio entry point. */
#include <stdio.h>
#include <unistd.h>

#include "epd-application.h"
#include "epd-studio-jobs.h"

int
main (int    argc,
      char **argv)
{
  g_autoptr(EpdApplication) app = NULL;
  int status;

  /* Every view draws with Cairo, so GTK's GL renderer adds nothing but a
   * texture upload, and without a GPU it runs on llvmpipe: on the 2-core
   * test machine a coefficient drag took a median 216 ms from edit to frame
   * with GL against 20 ms with the Cairo renderer. GSK_RENDERER still wins. */
  g_setenv ("GSK_RENDERER", "cairo", FALSE);
  app = epd_application_new ();
  status = g_application_run (G_APPLICATION (app), argc, argv);
  status = status != 0 ? status : epd_application_get_exit_status (app);
  /* A job that ignored its cancellable may be inside OpenBLAS, whose exit
   * handler would then wait for it forever: leave without exit handlers. */
  if (epd_studio_jobs_n_running () > 0)
    {
      fflush (NULL);
      _exit (status);
    }
  return status;
}
