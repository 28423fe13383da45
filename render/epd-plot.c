/* epd-plot.c: placeholder until its owner lands it. */
