"""The sweep's figures as Markdown, written between two markers of docs/reliability.md (the prose around
them is left as it is)."""

from __future__ import annotations

from pathlib import Path

BEGIN = "<!-- sweep figures: begin (scripts/reliability_sweep.py writes this part) -->"
END = "<!-- sweep figures: end -->"


def fuzz_table(kinds: dict[str, dict]) -> str:
    rows = ["| input kind | tests | cases tried | cases with a call that returned | cases with a clear error | failures |",
            "|---|---:|---:|---:|---:|---:|"]
    for kind, s in sorted(kinds.items()):
        rows.append(f"| {kind} | {s['tests']} | {s['cases']:,} | {round(s['returned']):,} | "
                    f"{round(s['clean_errors']):,} | {s['failing']} |")

    def total(key: str) -> float:
        return sum(s[key] for s in kinds.values())

    rows.append(f"| **all** | {total('tests')} | **{total('cases'):,}** | {round(total('returned')):,} | "
                f"{round(total('clean_errors')):,} | **{total('failing')}** |")
    return "\n".join(rows)


def kill_table(tries: list[dict]) -> str:
    rows = [("| command | tries | kill -9 points | distinct points (lines written when killed) | mid-line (torn) "
             "| kills after the run had ended | resumes identical |"), "|---|---:|---:|---:|---:|---:|---:|"]

    def row(label: str, mine: list[dict]) -> str:
        kills = [k for t in mine for k in t["kills"] if k["killed"]]
        ended = sum(not k["killed"] for t in mine for k in t["kills"])
        points = len({(t["command"], k["lines"], k["torn"]) for t in mine for k in t["kills"] if k["killed"]})
        same = sum(t["identical"] for t in mine)
        return (f"| {label} | {len(mine)} | {len(kills)} | {points} | {sum(k['torn'] for k in kills)} | {ended} | "
                f"{same} / {len(mine)} |")

    for name in dict.fromkeys(t["command"] for t in tries):
        rows.append(row(f"`{name}`", [t for t in tries if t["command"] == name]))
    rows.append(row("**all**", tries))
    return "\n".join(rows)


def render(summary: dict) -> str:
    parts = [(f"Measured by `{summary['command']}` on {summary['date']} ({summary['machine']}; "
             f"{summary['minutes']:.1f} minutes)."), ""]
    if summary.get("fuzz") is not None:
        parts += [(f"**Fuzzing** ({summary['fuzz_examples']:,} examples per test, derandomised; pytest exit "
                  f"{summary['fuzz_exit']}; a case may call several readers, so one case can count in both "
                  "middle columns; failure = a traceback, a hang or an error not naming the file or key):"), "",
                  fuzz_table(summary["fuzz"]), ""]
    if summary.get("tries"):
        parts += [(f"**Random kill -9** (1 to {summary['max_kills']} kills per try, then the same command to "
                  "the end; identical = the uninterrupted run's files byte for byte, for train its final "
                  "weights bit for bit and its metrics.jsonl without the timings, and no traceback):"), "",
                  kill_table(summary["tries"]), ""]
    return "\n".join(parts).rstrip() + "\n"


def splice(page: Path, figures: str) -> None:
    """Put `figures` between the markers of `page` (appended with the markers when they are missing)."""
    text = page.read_text(encoding="utf-8") if page.is_file() else ""
    block = f"{BEGIN}\n{figures}{END}"
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + ("\n\n" if text else "") + block + "\n"
    page.write_text(text, encoding="utf-8")
