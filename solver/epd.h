/* SPDX-License-Identifier: MIT */
/* epd.h: the solver library's public headers. */
#pragma once

#include "epd-types.h"
#include "epd-denoiser.h"
#include "epd-schedule.h"
#include "epd-table.h"
#include "epd-trace.h"
#include "epd-solver.h"
#include "epd-npy.h"
#include "epd-random.h"
#include "epd-file.h"
#include "epd-numeric.h"
#include "epd-memory.h"
#include "epd-json.h"
#include "epd-distill.h"
