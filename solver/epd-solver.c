/* epd-solver.c: placeholder until its owner lands it. */
