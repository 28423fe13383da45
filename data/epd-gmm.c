/* epd-gmm.c: placeholder until its owner lands it. */
