/* SPDX-License-Identifier: MIT */
/* epd-file.c: reading input files with a size limit; writing atomically.
 *
 * g_file_get_contents() reads whatever a path gives: /dev/zero until memory
 * runs out, a FIFO until someone writes. Input files here are regular files
 * of known size, so everything else is refused before it is read. */
#include "epd-file.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

static const char *
describe_mode (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a folder";
  if (S_ISFIFO (mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR (mode))
    return "a character device";
  if (S_ISBLK (mode))
    return "a block device";
  if (S_ISSOCK (mode))
    return "a socket";
  return "not a regular file";
}

static gboolean
check_mode (const char  *path,
            mode_t       mode,
            GError     **error)
{
  if (S_ISREG (mode))
    return TRUE;
  g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: is %s, not a regular file", path, describe_mode (mode));
  return FALSE;
}

/* size 0: unknown (the file grew past the limit while it was read).
 * Plain ASCII: g_format_size() puts a no-break space that the C locale
 * prints as '?'. */
static void
set_size_error (const char  *path,
                guint64      size,
                gsize        max_bytes,
                GError     **error)
{
  g_autofree char *limit = max_bytes % (1 << 20) == 0
                           ? g_strdup_printf ("%" G_GSIZE_FORMAT " MiB", max_bytes >> 20)
                           : g_strdup_printf ("%" G_GSIZE_FORMAT " bytes", max_bytes);
  g_autofree char *have = size ? g_strdup_printf (" (%" G_GUINT64_FORMAT " bytes)", size) : NULL;

  g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: the file is larger than the %s allowed for this kind of file%s",
               path, limit, have ? have : "");
}

gboolean
epd_file_check_regular (const char  *path,
                        GError     **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: cannot open: %s", path, g_strerror (saved));
      return FALSE;
    }
  return check_mode (path, st.st_mode, error);
}

/* Reads fd to its end, but at most max_bytes + 1 bytes: that one byte more
 * tells a file larger than max_bytes (one may grow after fstat, and some
 * report size 0) without reading the rest. size_hint is fstat's size. */
static gboolean
read_all (int          fd,
          const char  *path,
          gsize        size_hint,
          gsize        max_bytes,
          char       **contents,
          gsize       *length,
          GError     **error)
{
  gsize limit = max_bytes + 1;
  gsize capacity = MIN (size_hint + 1, limit);
  g_autofree char *buffer = g_malloc (capacity + 1);
  gsize got = 0;

  for (;;)
    {
      gssize n;

      if (got == capacity)
        {
          if (capacity == limit)
            break;
          capacity = MIN (limit, MAX (2 * capacity, 4096));
          buffer = g_realloc (buffer, capacity + 1);
        }
      n = read (fd, buffer + got, capacity - got);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: cannot read: %s", path, g_strerror (saved));
          return FALSE;
        }
      if (n == 0)
        break;
      got += (gsize) n;
    }
  if (got > max_bytes)
    {
      set_size_error (path, 0, max_bytes, error);
      return FALSE;
    }
  buffer[got] = '\0';
  *contents = g_steal_pointer (&buffer);
  *length = got;
  return TRUE;
}

gboolean
epd_file_read_capped (const char  *path,
                      gsize        max_bytes,
                      char       **contents,
                      gsize       *length,
                      GError     **error)
{
  struct stat st;
  gboolean ok;
  int fd;

  g_return_val_if_fail (path != NULL && contents != NULL && length != NULL, FALSE);
  g_return_val_if_fail (max_bytes < G_MAXSIZE, FALSE);
  /* Non-blocking, so that opening a FIFO returns at once and fstat can refuse it. */
  fd = g_open (path, O_RDONLY | O_NONBLOCK | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: cannot open: %s", path, g_strerror (saved));
      return FALSE;
    }
  if (fstat (fd, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: cannot read: %s", path, g_strerror (saved));
      ok = FALSE;
    }
  else if (!check_mode (path, st.st_mode, error))
    ok = FALSE;
  else if ((guint64) st.st_size > max_bytes)
    {
      set_size_error (path, (guint64) st.st_size, max_bytes, error);
      ok = FALSE;
    }
  else
    ok = read_all (fd, path, (gsize) st.st_size, max_bytes, contents, length, error);
  close (fd);
  return ok;
}

gboolean
epd_file_write_atomic (const char  *path,
                       const void  *data,
                       gssize       length,
                       GError     **error)
{
  g_autoptr(GError) local = NULL;

  /* CONSISTENT: fsync before the rename, so the new name never points at a
   * file whose data has not reached the disk. */
  if (!g_file_set_contents_full (path, data, length, G_FILE_SET_CONTENTS_CONSISTENT, 0666, &local))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "cannot write %s: %s", path, local->message);
      return FALSE;
    }
  return TRUE;
}
