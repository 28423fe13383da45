/* epd-schedule.c: placeholder until its owner lands it. */
