/* epd-empirical.c: placeholder until its owner lands it. */
