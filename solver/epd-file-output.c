/* SPDX-License-Identifier: MIT
 * epd-file-output.c: where output files may be written.
 *
 * Atomic writes (g_file_set_contents) replace the path with a new regular
 * file: a symbolic link, FIFO or device node at --out would be replaced, not
 * written through (as root, --out /dev/null would replace /dev/null). Such
 * targets are refused, and commands check their outputs before any work. */
#include "epd-file.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>

static const char *
describe_target (mode_t mode)
{
  if (S_ISLNK (mode))
    return "a symbolic link";
  if (S_ISDIR (mode))
    return "a folder";
  if (S_ISFIFO (mode))
    return "a FIFO (named pipe)";
  if (S_ISCHR (mode) || S_ISBLK (mode))
    return "a device";
  return "not a regular file";
}

gboolean
epd_file_check_output (const char  *path,
                       GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  GStatBuf st;

  if (g_lstat (path, &st) == 0 && !S_ISREG (st.st_mode))
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: is %s, not a regular file; refusing to replace it",
                   path, describe_target (st.st_mode));
      return FALSE;
    }
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR) || g_access (dir, W_OK) != 0)
    {
      g_set_error (error, EPD_ERROR, EPD_ERROR_IO, "%s: folder %s does not exist or is not writable", path, dir);
      return FALSE;
    }
  return TRUE;
}

gboolean
epd_file_same (const char *a,
               const char *b)
{
  g_autofree char *ca = NULL;
  g_autofree char *cb = NULL;
  GStatBuf sa, sb;

  if (a == NULL || b == NULL)
    return FALSE;
  if (g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  ca = g_canonicalize_filename (a, NULL);
  cb = g_canonicalize_filename (b, NULL);
  return g_str_equal (ca, cb);
}
