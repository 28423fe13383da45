/* epd-distributions.c: placeholder until its owner lands it. */
