/* epd-reward.c: placeholder until its owner lands it. */
