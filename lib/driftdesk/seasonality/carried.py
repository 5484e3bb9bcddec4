"""Sums the causal scan carries from one refit to the next, so a refit's cost does not grow with its window.

The mean test's yardstick (``block_fit._mean_yardstick``) is ``rowstats.window_mean_sd`` of trailing stretches of
two series: the root mean square of the means of every w consecutive values with at least 3/4 of them. Each refit
moves the stretches on by a day, so here the means of every w-step window since the scan began are computed once,
as the series grow, and kept as running sums (per row: of the squared means of full windows, and of their number):
the spread over any stretch is then a few look-ups. The means are differences of running sums of the values from
the scan's start rather than of the stretch's own, so they agree with ``window_mean_sd`` to rounding (about 1e-13
relative), not bit for bit.

A row whose history was rewritten (a change handled: ``ScanState.rewrites`` counts them) is summed again from the
start; sums taken step by step or all at once are the same numbers, so they depend on nothing but the values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# (a, b, rows) -> the series' values at steps a..b-1 of those rows (all rows for None; NaN = missing)
Source = Callable[[int, int, np.ndarray | None], np.ndarray]


class WindowSpreads:
    """Running sums for ``rowstats.window_mean_sd`` of any stretch of growing series (``rows`` of ``n`` steps),
    for the window lengths ``windows``."""

    def __init__(self, rows: int, n: int, windows: tuple[int, ...]):
        self.done = 0  # steps summed: [0, done)
        self.stamps = np.full(rows, -1, dtype=np.int64)  # per row, the rewrite count the sums are up to date with
        self.total = np.zeros((rows, n + 1))  # per row, the sum / number of finite values before each step
        self.count = np.zeros((rows, n + 1))
        # per window length (windows x rows x n+1), over window starts q (the window q..q+w-1): the sums of
        # full * mean^2 and of full before each start
        self.windows = windows
        self.square = np.zeros((len(windows), rows, n + 1))
        self.full = np.zeros((len(windows), rows, n + 1))

    def forget(self, rows: slice | np.ndarray) -> None:
        """Sum ``rows`` again from the start at the next update (their series changed)."""
        self.stamps[rows] = -1

    def update(self, source: Source, upto: int, stamps: np.ndarray) -> None:
        """Sum the steps before ``upto``; rows whose ``stamps`` (rewrite counts) changed again from the start."""
        redo = np.flatnonzero(stamps != self.stamps)
        if redo.size and self.done:
            self._sum(source(0, self.done, redo), redo, 0)
        self.stamps = stamps.copy()
        if upto > self.done:
            self._sum(source(self.done, upto, None), slice(None), self.done)
            self.done = upto

    def _sum(self, values: np.ndarray, rows: slice | np.ndarray, a: int) -> None:
        """Running sums of ``values`` (steps a.. of ``rows``), continued from step a's, in step order."""
        b = a + values.shape[1]
        ok = np.isfinite(values)
        for running, add in ((self.total, np.where(ok, values, 0.0)), (self.count, ok)):
            running[rows, a + 1:b + 1] = np.add.accumulate(
                np.concatenate([running[rows, a:a + 1], add], axis=1), axis=1)[:, 1:]
        total, count = self.total[rows], self.count[rows]
        for i, w in enumerate(self.windows):
            q0, q1 = max(a - w + 1, 0), b - w + 1  # the windows that end in a..b-1
            if q1 <= q0:
                continue
            cnt = count[:, q0 + w:q1 + w] - count[:, q0:q1]
            full = cnt >= 0.75 * w
            means = np.where(full, (total[:, q0 + w:q1 + w] - total[:, q0:q1]) / np.maximum(cnt, 1.0), 0.0)
            for running, add in ((self.square[i], means * means), (self.full[i], full)):
                running[rows, q0 + 1:q1 + 1] = np.add.accumulate(
                    np.concatenate([running[rows, q0:q0 + 1], add], axis=1), axis=1)[:, 1:]

    def spread(self, lo: np.ndarray, hi: np.ndarray, until: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per window length (in the order given) and row, ``rowstats.window_mean_sd`` of the row's steps lo..hi-1
        (summed already; ``lo`` and ``hi`` per row), of only those before ``until`` where that is earlier (the later
        ones count as missing): the root mean square of the full w-step means (NaN without any) and their number,
        each (windows x rows)."""
        rows = np.arange(self.total.shape[0])
        u = hi if until is None else np.minimum(np.maximum(until, lo), hi)
        w = np.array(self.windows)[:, None]
        square, full = self.square, self.full
        # the windows that end before u, from the running sums
        which = np.arange(w.shape[0])[:, None]
        before = np.maximum(u - w + 1, lo)
        total_square = square[which, rows, before] - square[which, rows, lo]
        nwin = full[which, rows, before] - full[which, rows, lo]
        if (u < hi).any():  # those that reach past u hold its steps before u only (fewer than w): summed here
            j = np.arange(w.max() - 1)
            q = (u - w + 1)[:, :, None] + j  # windows x rows x starts
            reach = (j < w[:, :, None] - 1) & (q >= lo[:, None]) & (q <= (hi - w)[:, :, None])
            q = np.minimum(np.maximum(q, 0), self.total.shape[1] - 1)
            r = rows[:, None]
            cnt = self.count[rows, u][:, None] - self.count[r, q]
            ok = reach & (cnt >= 0.75 * w[:, :, None])
            means = np.where(ok, (self.total[rows, u][:, None] - self.total[r, q]) / np.maximum(cnt, 1.0), 0.0)
            total_square, nwin = total_square + (means * means).sum(axis=2), nwin + ok.sum(axis=2)
        nwin = np.where(hi - lo >= w, nwin, 0.0)
        sd = np.sqrt(np.divide(total_square, nwin, out=np.zeros_like(total_square), where=nwin > 0))
        return np.where(nwin > 0, sd, np.nan), nwin.astype(np.int64)
