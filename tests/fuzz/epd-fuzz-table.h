/* SPDX-License-Identifier: MIT
 * epd-fuzz-table.h: the round trips every table that epd reads must survive. */
#pragma once

#include "epd.h"

/* JSON text and .npz bytes of table must both read back as an equal table. */
void epd_fuzz_table_round_trips (const EpdTable *table);
