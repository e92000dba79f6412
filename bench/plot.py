"""Plot p99 delivery latency against offered deliveries/s from a bench.run results file.

``python -m bench.plot bench/results/<run>.json --out docs/benchmarks-latency.png``
"""

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

STYLES = {
    "websockets": ("bare websockets", "tab:green", "o"),
    "tutorial": ("Channels tutorial (daphne)", "tab:red", "s"),
    "jabber": ("Jabber (daphne)", "tab:blue", "D"),
    "jabber-uvicorn": ("Jabber (uvicorn, websockets)", "tab:purple", "^"),
    "jabber-uvicorn-sansio": ("Jabber (uvicorn, websockets-sansio)", "tab:brown", "v"),
    "tutorial-redis": ("Channels tutorial (Redis)", "tab:orange", "<"),
    "jabber-redis": ("Jabber (Redis)", "tab:cyan", "P"),
}


def plot(report: dict, out: Path) -> None:
    """One panel per topology: p99 against offered rate, steps with loss hollow."""
    topologies = sorted(
        {(row["rooms"], row["clients_per_room"]) for row in report["fanout"]}, reverse=True
    )
    figure, axes = plt.subplots(
        1, len(topologies), figsize=(6.5 * len(topologies), 4.8), squeeze=False
    )
    for axis, (rooms, clients) in zip(axes[0], topologies, strict=True):
        for row in report["fanout"]:
            if (row["rooms"], row["clients_per_room"]) != (rooms, clients):
                continue
            label, color, marker = STYLES.get(row["server"], (row["server"], None, "x"))
            if row["processes"] > 1:
                label += f" x{row['processes']}"
            steps = sorted(row["steps"], key=lambda step: step["offered"])
            rates = [step["offered"] for step in steps]
            p99 = [max(step["p99_ms"], 0.1) for step in steps]
            axis.plot(rates, p99, color=color, marker=marker, label=label)
            lossy = [step for step in steps if step["loss"] or step["closed"]]
            axis.scatter(
                [step["offered"] for step in lossy],
                [max(step["p99_ms"], 0.1) for step in lossy],
                s=120,
                facecolors="none",
                edgecolors="black",
                zorder=5,
                label="_nolegend_",
            )
        axis.axhline(100, color="grey", linestyle="--", linewidth=1)
        axis.axhline(20, color="grey", linestyle=":", linewidth=1)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("offered deliveries/s")
        axis.set_ylabel("p99 delivery latency (ms)")
        axis.set_title(f"{rooms} room(s) x {clients} clients, 1 sender per room")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(loc="upper left", fontsize=8)
    figure.suptitle(
        "Fan-out latency (server on 1 core; dashed: 100 ms bound, dotted: 20 ms; circled: loss)",
        fontsize=10,
    )
    figure.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(out, dpi=110)


def main() -> None:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("results", type=Path)
    parser.add_argument("--out", type=Path, default=Path("docs/benchmarks-latency.png"))
    args = parser.parse_args()
    plot(json.loads(args.results.read_text()), args.out)
    print(args.out)


if __name__ == "__main__":
    main()
