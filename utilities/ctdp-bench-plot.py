#!/usr/bin/python3
"""Plots ctdp-bench's lookup series: packets/s against conns.

Usage: ctdp-bench-plot.py CSV PNG

CSV is what `ctdp-bench --csv=FILE` writes: one line per series (ctdp,
ctdp-acct0, OVS, floor), thread count and table size, with the median, min
and max in Mpps.
Each series is drawn with its min-max range as error bars, one thread solid
and two threads dashed, on log-log axes.
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

COLORS = {"ctdp": "tab:blue", "ctdp-acct0": "tab:green", "OVS": "tab:orange",
          "floor": "tab:gray"}
LABELS = {"ctdp": "ctdp", "ctdp-acct0": "ctdp, nf_conntrack_acct=0",
          "OVS": "Open vSwitch", "floor": "memory floor"}


def read_series(path):
    series = {}
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            key = (row["series"], int(row["threads"]))
            series.setdefault(key, []).append(
                (int(row["conns"]), float(row["median"]),
                 float(row["min"]), float(row["max"])))
    return series


def plot(series, out):
    fig, ax = plt.subplots(figsize=(8, 5))
    for (name, threads), points in sorted(series.items()):
        points.sort()
        x = [p[0] for p in points]
        y = [p[1] for p in points]
        err = [[p[1] - p[2] for p in points], [p[3] - p[1] for p in points]]
        ax.errorbar(x, y, yerr=err, capsize=3, marker="o",
                    color=COLORS.get(name),
                    linestyle="-" if threads == 1 else "--",
                    label="%s, %d thread%s" % (LABELS.get(name, name),
                                               threads,
                                               "" if threads == 1 else "s"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("established UDP conns in the table")
    ax.set_ylabel("lookups (Mpps, median; bars: min-max)")
    ax.set_title("ct() lookups in random order, batches of 32")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(out, dpi=100)


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: %s CSV PNG\n" % sys.argv[0])
        return 1
    plot(read_series(sys.argv[1]), sys.argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main())
