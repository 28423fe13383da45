/* SPDX-License-Identifier: MIT
 * epd-fuzz.c: a scratch folder and failure reports for the fuzz harnesses. */
#include "epd-fuzz.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

static char *fuzz_dir;

static void
remove_dir (void)
{
  g_autoptr(GDir) dir = g_dir_open (fuzz_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fuzz_dir, name, NULL);
      g_autoptr(GDir) sub = g_dir_open (path, 0, NULL);
      const char *inner;

      /* One level of subfolders (the PNG harness's image folder). */
      while (sub != NULL && (inner = g_dir_read_name (sub)) != NULL)
        {
          g_autofree char *file = g_build_filename (path, inner, NULL);
          g_unlink (file);
        }
      g_remove (path);
    }
  g_rmdir (fuzz_dir);
  g_clear_pointer (&fuzz_dir, g_free);
}

const char *
epd_fuzz_dir (void)
{
  if (fuzz_dir == NULL)
    {
      g_autoptr(GError) error = NULL;

      fuzz_dir = g_dir_make_tmp ("epd-fuzz-XXXXXX", &error);
      if (fuzz_dir == NULL)
        epd_fuzz_fail ("no scratch folder: %s", error->message);
      atexit (remove_dir);
    }
  return fuzz_dir;
}

char *
epd_fuzz_write_file (const char    *name,
                     const uint8_t *data,
                     size_t         size)
{
  g_autoptr(GError) error = NULL;
  char *path = g_build_filename (epd_fuzz_dir (), name, NULL);

  if (!g_file_set_contents (path, (const char *) data, (gssize) size, &error))
    epd_fuzz_fail ("cannot write %s: %s", path, error->message);
  return path;
}

void
epd_fuzz_fail (const char *format,
               ...)
{
  va_list args;

  va_start (args, format);
  fputs ("epd-fuzz: ", stderr);
  vfprintf (stderr, format, args);
  fputc ('\n', stderr);
  va_end (args);
  abort ();
}
