/* epd-distill.c: placeholder until its owner lands it. */
