/* SPDX-License-Identifier: MIT */
/* epd-types.h: forward declarations and small shared types of the solver library. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _EpdTable EpdTable;
typedef struct _EpdTrace EpdTrace;
typedef struct _EpdTraceStep EpdTraceStep;
typedef struct _EpdSchedule EpdSchedule;
typedef struct _EpdSolveOptions EpdSolveOptions;

#define EPD_ERROR (epd_error_quark ())
GQuark epd_error_quark (void);

typedef enum {
  EPD_ERROR_INVALID,   /* a bad argument or option value */
  EPD_ERROR_PARSE,     /* a file that is not what it claims to be */
  EPD_ERROR_SHAPE,     /* arrays of the wrong shape */
  EPD_ERROR_NUMERIC,   /* NaN, Inf, or values out of their range */
  EPD_ERROR_IO,        /* reading or writing failed */
  EPD_ERROR_DEVICE,    /* a compute device failed */
  EPD_ERROR_UNSUPPORTED,
} EpdErrorCode;

/* Number of denoiser evaluations of a solve, counted both ways. */
typedef struct {
  guint latency;  /* sequential evaluations; a parallel batch counts once */
  guint total;    /* every evaluation, per sample */
} EpdNfe;

G_END_DECLS
