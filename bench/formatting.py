"""Time chat.formatting.render per message on a realistic mix of bodies, and its two halves.

``python -m bench.formatting`` prints microseconds per message for each kind of body
(CPU time, the best of a few rounds, so other load on the machine counts less), then the mix.
"""

import argparse
import time
import timeit

from chat import formatting

MEMBERS = {"ann": 1, "bob": 2, "carol": 3, "dave": 4}

CODE = "\n".join(
    f"    line_{index} = compute({index}, key='v{index}')  # note" for index in range(38)
)
BODIES = {
    "plain one-liner": "sounds good, see you at the standup tomorrow then",
    "plain, two lines": "ok so the deploy went fine\nbut the cache warmup took ages",
    "link and mention": "@bob the report is at https://example.com/reports/q4?view=full, thanks!",
    "emphasis and code": "please **do not** merge `main` into *release* until ~~friday~~ monday",
    "40-line code block": f"```python\ndef build():\n{CODE}\n```",
    "4000-char paragraph": ("lorem ipsum dolor sit amet, consectetur adipiscing elit " * 72)[:4000],
}
# What a busy room sends: mostly one-liners.
MIX = {
    "plain one-liner": 70,
    "plain, two lines": 10,
    "link and mention": 10,
    "emphasis and code": 7,
    "40-line code block": 2,
    "4000-char paragraph": 1,
}


def best_microseconds(function, rounds: int, number: int) -> float:
    """The fastest of `rounds` runs of `number` calls, per call, in CPU microseconds."""
    # CPU time of this process, so that other work on a shared machine counts less.
    timer = timeit.Timer(function, timer=time.process_time)
    return min(timer.repeat(repeat=rounds, number=number)) / number * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=200)
    arguments = parser.parse_args()
    markdown, cleaner = formatting._markdown, formatting._cleaner

    print(f"{'body':22} {'chars':>6} {'render':>10} {'markdown':>10} {'nh3':>8}  path")
    costs = {}
    for name, body in BODIES.items():
        env = {"mentionable": MEMBERS, "mentions": []}
        raw = markdown.render(body, env)
        costs[name] = best_microseconds(
            lambda body=body: formatting.render(body, MEMBERS), arguments.rounds, arguments.number
        )
        parse = best_microseconds(
            lambda body=body: markdown.render(body, {"mentionable": MEMBERS, "mentions": []}),
            arguments.rounds,
            arguments.number,
        )
        clean = best_microseconds(
            lambda raw=raw: cleaner.clean(raw), arguments.rounds, arguments.number
        )
        path = "fast" if formatting._is_plain(body) else "full"
        print(f"{name:22} {len(body):6} {costs[name]:8.1f}us {parse:8.1f}us {clean:6.1f}us  {path}")
    total = sum(MIX.values())
    mixed = sum(costs[name] * weight for name, weight in MIX.items()) / total
    print(f"mix ({', '.join(f'{weight}% {name}' for name, weight in MIX.items())}):")
    print(f"  {mixed:.1f}us per message on average")


if __name__ == "__main__":
    main()
