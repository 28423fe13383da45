/* epd-diversity.c: placeholder until its owner lands it. */
