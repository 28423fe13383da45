/* SPDX-License-Identifier: MIT
 * epd-fuzz.h: what the libFuzzer harnesses share.
 *
 * Each fuzz-NAME.c defines LLVMFuzzerTestOneInput() for one parser. It is
 * linked twice: with libFuzzer (-Dfuzzing=true, clang) into fuzz-NAME, and
 * with fuzz-replay.c into fuzz-replay-NAME, which the normal test suite runs
 * over the committed corpus and regression inputs. A harness rejects nothing
 * by crashing: every bad input must come back as a GError. Round trips that
 * must hold (what epd writes, epd reads) abort through epd_fuzz_fail(). */
#pragma once

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

G_BEGIN_DECLS

int   LLVMFuzzerTestOneInput (const uint8_t *data,
                              size_t         size);

/* A private folder for this process, made once and removed at exit. */
const char *epd_fuzz_dir        (void);
/* Writes data to epd_fuzz_dir()/name (replacing it) and returns the path. */
char       *epd_fuzz_write_file (const char    *name,
                                 const uint8_t *data,
                                 size_t         size);
/* A broken invariant: prints what and aborts, so the fuzzer keeps the input. */
G_NORETURN void epd_fuzz_fail   (const char    *format,
                                 ...) G_GNUC_PRINTF (1, 2);

G_END_DECLS
