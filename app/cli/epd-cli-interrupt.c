/* SPDX-License-Identifier: MIT
 * epd-cli-interrupt.c: Ctrl-C and SIGTERM in long commands.
 *
 * The first SIGINT or SIGTERM sets a flag and cancels one GCancellable, from
 * a thread of its own (GLib's Unix signal sources), so that whatever is
 * running -- a reward command in its own process group included -- is
 * stopped, cleaned up, and the best result so far written. A second signal
 * ends the process at once. */
#include "epd-cli.h"

#include <glib-unix.h>
#include <signal.h>
#include <unistd.h>

static GCancellable *interrupt_cancellable;
static gint interrupted;

static gboolean
on_signal (gpointer data)
{
  int signum = GPOINTER_TO_INT (data);

  if (g_atomic_int_get (&interrupted))
    _exit (128 + signum);
  g_atomic_int_set (&interrupted, 1);
  g_cancellable_cancel (interrupt_cancellable);
  return G_SOURCE_CONTINUE;
}

static gpointer
watch_signals (gpointer data)
{
  GMainContext *context = data;

  for (;;)
    g_main_context_iteration (context, TRUE);
  return NULL;
}

static void
add_signal (GMainContext *context,
            int           signum)
{
  GSource *source = g_unix_signal_source_new (signum);

  g_source_set_callback (source, on_signal, GINT_TO_POINTER (signum), NULL);
  g_source_attach (source, context);
  g_source_unref (source);
}

static void
cancel_other (GCancellable *interrupt,
              gpointer      other)
{
  g_cancellable_cancel (other);
}

static void
install_once (void)
{
  static gsize done;

  if (g_once_init_enter (&done))
    {
      GMainContext *context = g_main_context_new ();

      interrupt_cancellable = g_cancellable_new ();
      add_signal (context, SIGINT);
      add_signal (context, SIGTERM);
      g_thread_unref (g_thread_new ("epd-signals", watch_signals, context));
      g_once_init_leave (&done, 1);
    }
}

void
epd_cli_catch_interrupt (GCancellable *also_cancel)
{
  install_once ();
  if (also_cancel != NULL)
    g_cancellable_connect (interrupt_cancellable, G_CALLBACK (cancel_other),
                           g_object_ref (also_cancel), g_object_unref);
}

gboolean
epd_cli_interrupted (void)
{
  return g_atomic_int_get (&interrupted) != 0;
}

GCancellable *
epd_cli_interrupt_cancellable (void)
{
  install_once ();
  return interrupt_cancellable;
}
