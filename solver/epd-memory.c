/* SPDX-License-Identifier: MIT
 * epd-memory.c: a memory budget for what a command is about to allocate. */
#include "epd-memory.h"

#include <stdlib.h>
#include <unistd.h>

static guint64
physical_memory (void)
{
  long pages = sysconf (_SC_PHYS_PAGES);
  long page = sysconf (_SC_PAGESIZE);

  return pages > 0 && page > 0 ? (guint64) pages * (guint64) page : G_MAXUINT64;
}

/* "8G", "512M", "1000000": bytes, or 0 when unreadable. */
static guint64
parse_size (const char *text)
{
  char *end = NULL;
  guint64 value = g_ascii_strtoull (text, &end, 10);
  guint shift = 0;

  if (end == text)
    return 0;
  switch (g_ascii_toupper (*end))
    {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: break;
    }
  if (*end != '\0' || value > (G_MAXUINT64 >> shift))
    return 0;
  return value << shift;
}

guint64
epd_memory_budget (void)
{
  const char *limit = g_getenv ("EPD_MEMORY_LIMIT");
  guint64 bytes = limit != NULL ? parse_size (limit) : 0;

  return bytes > 0 ? bytes : physical_memory ();
}

static char *
format_bytes (guint64 bytes)
{
  /* Plain ASCII: g_format_size() puts a no-break space. */
  if (bytes >= ((guint64) 1 << 30))
    return g_strdup_printf ("%.1f GiB", (double) bytes / (double) ((guint64) 1 << 30));
  return g_strdup_printf ("%.1f MiB", (double) bytes / (double) (1 << 20));
}

gboolean
epd_memory_check (const char  *what,
                  guint64      count,
                  guint64      item_bytes,
                  GError     **error)
{
  guint64 budget = epd_memory_budget ();
  g_autofree char *limit = NULL;
  g_autofree char *need = NULL;

  if (item_bytes == 0 || count <= budget / item_bytes)
    return TRUE;
  limit = format_bytes (budget);
  need = count <= G_MAXUINT64 / item_bytes ? format_bytes (count * item_bytes) : g_strdup ("more than 2^64 bytes");
  g_set_error (error, EPD_ERROR, EPD_ERROR_INVALID,
               "%s needs %s of memory, more than the limit of %s (%s)", what, need, limit,
               g_getenv ("EPD_MEMORY_LIMIT") != NULL ? "EPD_MEMORY_LIMIT" : "physical memory; EPD_MEMORY_LIMIT sets another");
  return FALSE;
}

gboolean
epd_memory_check_solve (const char  *what,
                        guint64      batch,
                        guint64      dim,
                        guint        n_points,
                        GError     **error)
{
  guint64 arrays = 2 * (guint64) n_points + 10;

  if (dim != 0 && batch > G_MAXUINT64 / dim)
    return epd_memory_check (what, G_MAXUINT64, 2, error);
  return epd_memory_check (what, batch * dim, arrays * sizeof (double), error);
}
