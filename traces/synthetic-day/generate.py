#!/usr/bin/env python3
"""Regenerates rate_per_minute.csv: a SYNTHETIC one-day, per-minute request-rate series.

This is a model, not a recording. It mimics the usual shape of a weekday for a user-facing
web/API service in its local time zone:

  * a night trough around 04:00 (about 12 % of the peak),
  * a morning climb to a first peak around 10:30,
  * a lunch dip around 12:30 and a second, highest peak around 15:00,
  * an evening shoulder around 20:30, then the decline into the night,
  * a short burst at 13:05-13:20 (e.g. a newsletter going out): x1.8 for 15 minutes,
  * multiplicative minute-to-minute noise: a mean-reverting AR(1) random walk in log space
    (sigma 0.04 per minute, correlation time 20 minutes), plus Poisson counting noise.

Columns: `time` (seconds from local midnight at the start of the minute) and `rate`
(requests per second averaged over that minute, i.e. count / 60). Uses only the Python
standard library; the seed is fixed so the file is reproducible:

    python3 traces/synthetic-day/generate.py > traces/synthetic-day/rate_per_minute.csv
"""

import math
import random

PEAK = 120.0  # requests per second at the highest point of the smooth curve


def bump(minute: float, centre_h: float, width_h: float) -> float:
    """A Gaussian bump centred at centre_h (hours) with std width_h (hours)."""
    x = (minute / 60.0 - centre_h) / width_h
    return math.exp(-0.5 * x * x)


def smooth(minute: float) -> float:
    """The noise-free daily curve, as a fraction of PEAK."""
    base = 0.12
    shape = (
        base
        + 0.62 * bump(minute, 10.5, 1.8)
        + 0.85 * bump(minute, 15.0, 2.0)
        + 0.40 * bump(minute, 20.5, 1.6)
        - 0.10 * bump(minute, 12.5, 0.5)
    )
    # Wrap the night: the late evening decays toward the next morning's trough.
    shape += 0.10 * bump(minute + 1440, 20.5, 1.6) + 0.05 * bump(minute - 1440, 10.5, 1.8)
    return max(shape, 0.05)


def main() -> None:
    rng = random.Random(1995)
    phi = math.exp(-1.0 / 20.0)
    sigma = 0.04
    var = sigma * sigma / (1.0 - phi * phi)
    x = rng.gauss(0.0, math.sqrt(var))
    print("time,rate")
    for minute in range(1440):
        x = phi * x + rng.gauss(0.0, sigma)
        burst = 1.8 if 13 * 60 + 5 <= minute < 13 * 60 + 20 else 1.0
        mean_rate = PEAK * smooth(minute) * burst * math.exp(x - var / 2.0)
        # Poisson counting noise on the minute's count (normal approximation; counts are large).
        lam = mean_rate * 60.0
        count = max(0, round(rng.gauss(lam, math.sqrt(lam))))
        print(f"{minute * 60},{count / 60.0:.4f}")


if __name__ == "__main__":
    main()
