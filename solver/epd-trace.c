/* epd-trace.c: placeholder until its owner lands it. */
