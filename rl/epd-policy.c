/* epd-policy.c: placeholder until its owner lands it. */
