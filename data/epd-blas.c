/* SPDX-License-Identifier: MIT
 * epd-blas.c: OpenBLAS's thread count, shared by serial sections. */
#include "epd-blas.h"

#include <cblas.h>

static GMutex blas_lock;
static guint blas_sections;
static int blas_saved_threads;

void
epd_blas_serial_begin (void)
{
  g_mutex_lock (&blas_lock);
  if (blas_sections++ == 0)
    {
      blas_saved_threads = openblas_get_num_threads ();
      openblas_set_num_threads (1);
    }
  g_mutex_unlock (&blas_lock);
}

void
epd_blas_serial_end (void)
{
  g_mutex_lock (&blas_lock);
  g_assert (blas_sections > 0);
  if (--blas_sections == 0)
    openblas_set_num_threads (blas_saved_threads);
  g_mutex_unlock (&blas_lock);
}
