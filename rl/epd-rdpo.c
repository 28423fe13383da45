/* epd-rdpo.c: placeholder until its owner lands it. */
