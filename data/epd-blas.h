/* SPDX-License-Identifier: MIT
 * epd-blas.h: OpenBLAS's thread count around code that runs its own threads.
 *
 * OpenBLAS keeps one process-wide thread count. Code that splits its work
 * over threads of its own (the empirical denoiser) calls it single-threaded
 * between begin and end, so its workers do not fight over OpenBLAS's pool and
 * a GEMM's rounding does not depend on how OpenBLAS split it. Sections nest
 * and may overlap across threads: the count is set to 1 by the first begin and
 * restored by the last end. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

void epd_blas_serial_begin (void);
void epd_blas_serial_end   (void);

G_END_DECLS
