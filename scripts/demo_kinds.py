"""Per format and kind: one demo seed's MIA pairs and its synth-multi answers before and after.

Used for docs/demo_findings.md, section 5.

    .venv/bin/python scripts/demo_kinds.py RUN [--seed 0] [--after DIR] [--pairs DIR] [--json OUT]
    .venv/bin/python scripts/demo_kinds.py RUN --write-symmetric DIR   # a prior-neutral copy of the pairs

RUN is the demo's --out. The pairs' distractors are planned again from the source rows (build-data's plan is
seeded), so every pair gets the target's and the distractors' colour and shape. `--after` reads the after
predictions from another folder holding synth-multi/ (an intervention trained outside the demo), `--pairs`
the pairs from another build folder (for example a filtered copy). `--write-symmetric DIR` writes
DIR/pairs.jsonl: the seed's pairs with the colour pairs (`--kinds colour,shape`: and the shape pairs) of each
format cut to a symmetric set (as many "a over b" pairs as "b over a" for every two words, the first ones in
file order), so that no word is chosen more often than it is rejected; other pairs are kept. `--control` keeps
as many of those pairs per format, drawn at random, so their skew stays. Train on it with `root:` the seed's
pairs/.

Tables (markdown on stdout):
  pairs       rows answered, answered right, pairs kept, per format x kind; for colour and shape rows also split
              by whether a distractor shares the target's other attribute (the question's shortcut);
  answers     the chosen and rejected words of the pairs, and how often the rejected word is a distractor's;
  outcomes    synth-multi per format x kind: accuracy before / after, right->wrong and wrong->right, and what
              the right->wrong answers became (the lure's word, another distractor's, another word, unparsed);
  words       for colour and shape questions: answers per word before / after, right answers per true word, and
              the pairs' chosen and rejected words.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mmalign.data.llava_source import read_llava
from mmalign.data.synth.grading import answer_word
from mmalign.data.synth.scenes import COLOURS, SHAPES
from mmalign.pairs.plan import plan_rows

FORMAT_NAMES = {"sequence": "sequence", "grid_collage": "collage", "pic_in_pic": "inset"}
OTHER = {"colour": "shape", "shape": "colour"}  # the attribute a colour / shape question names or not


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def text_of(turns) -> str:
    if isinstance(turns, str):
        return turns
    return "".join(part.get("text", "") for turn in turns for part in turn["content"] if part.get("type") == "text")


def source_rows(seed_dir: Path, summary: dict):
    """{row id: (kind, target scene, [distractor scenes], format)} for every planned source row."""
    data = seed_dir / "source" / "llava.json"
    meta = {row["id"]: row["meta"] for row in json.loads(data.read_text())}
    by_image = {row["image"]: row["meta"] for row in json.loads(data.read_text())}
    rows, _ = read_llava(data, data.parent)
    plans = plan_rows(rows, summary["proportions"], seed=summary["config"]["seed"])
    out = {}
    for plan in plans:
        m = meta[plan.row.id]
        out[plan.row.id] = (m["kind"], m, [by_image[d] for d in plan.distractors], FORMAT_NAMES[plan.format])
    return out


def shortcut(kind: str, target: dict, distractors: list[dict]) -> bool:
    """A distractor that shares the attribute the question does not ask about (its colour for a shape
    question, its shape for a colour question) and differs in the one asked: then the question's words do
    not pick out the target, only the reference does ("lure present"). For colour questions, which name the
    shape, without such a distractor the named shape alone finds the target."""
    if kind not in OTHER:
        return False
    other = OTHER[kind]
    return any(d[other] == target[other] and d[kind] != target[kind] for d in distractors)


def pair_tables(seed_dir: Path, pairs_dir: Path) -> dict:
    summary = json.loads((seed_dir / "pairs" / "summary.json").read_text())
    src = source_rows(seed_dir, summary)
    counts: dict = defaultdict(Counter)
    for p in read_jsonl(seed_dir / "pairs" / "progress.jsonl"):
        kind, target, distractors, fmt = src[p["id"]]
        if p["reason"] == "yes_no_answer":
            continue
        lure = "lure" if shortcut(kind, target, distractors) else "no lure"
        for key in ((fmt, kind), (fmt, kind, lure)):
            counts[key]["answered"] += 1
            counts[key]["right"] += p["reason"] == "same_as_ground_truth"
    answers: dict = defaultdict(lambda: defaultdict(Counter))
    for rec in read_jsonl(pairs_dir / "pairs.jsonl"):
        kind, target, distractors, fmt = src[rec["id"]]
        lure = "lure" if shortcut(kind, target, distractors) else "no lure"
        for key in ((fmt, kind), (fmt, kind, lure)):
            counts[key]["pairs"] += 1
        if kind not in OTHER:
            continue
        chosen, rejected = answer_word(text_of(rec["chosen"]), kind), answer_word(text_of(rec["rejected"]), kind)
        a = answers[(fmt, kind)]
        a["chosen"][chosen] += 1
        a["rejected"][rejected or "(none)"] += 1
        where = ("unparsed" if rejected is None else "distractor's" if rejected in {d[kind] for d in distractors}
                 else "in no image")
        a["rejected is"][where] += 1
        a["rejected raw"][text_of(rec["rejected"]).strip().lower()] += 1
    replay = Counter()
    if (pairs_dir / "replay.jsonl").is_file():
        kinds = {row["id"]: row["meta"]["kind"] for row in json.loads((seed_dir / "source" / "llava.json").read_text())}
        replay = Counter(kinds[r["id"].removeprefix("replay-")] for r in read_jsonl(pairs_dir / "replay.jsonl"))
    return {"counts": {" / ".join(k): dict(v) for k, v in sorted(counts.items())},
            "answers": {" / ".join(k): {n: dict(c.most_common()) for n, c in v.items()} for k, v in sorted(answers.items())},
            "replay_kinds": dict(replay)}


def outcome_tables(questions: Path, before: Path, after: Path) -> dict:
    qs = read_jsonl(questions)
    pb = {r["id"]: r["answer"] for r in read_jsonl(before)}
    pa = {r["id"]: r["answer"] for r in read_jsonl(after)}
    out: dict = defaultdict(Counter)
    colours: dict = defaultdict(Counter)
    for q in qs:
        t, fmt, kind = q["truth"], q["subset"], q["truth"]["kind"]
        b, a = answer_word(pb[q["id"]], kind), answer_word(pa[q["id"]], kind)
        c = out[(fmt, kind)]
        c["n"] += 1
        c["right before"] += b == t["answer"]
        c["right after"] += a == t["answer"]
        if b == t["answer"] and a != t["answer"]:
            c["right->wrong"] += 1
            lure = t["distractors"][0][kind] if kind in OTHER else None
            others = {d[kind] for d in t["distractors"][1:]} if kind in OTHER else set()
            became = ("unparsed" if a is None else "lure's" if a == lure
                      else "another distractor's" if a in others or a in t["distractor_answers"] else "in no image")
            c[f"became {became}"] += 1
        if b != t["answer"] and a == t["answer"]:
            c["wrong->right"] += 1
        if kind in OTHER:
            colours[(kind, fmt, "truth")][t["answer"]] += 1
            colours[(kind, fmt, "before")][b or "(none)"] += 1
            colours[(kind, fmt, "after")][a or "(none)"] += 1
            colours[(kind, fmt, "right before")][t["answer"]] += b == t["answer"]
            colours[(kind, fmt, "right after")][t["answer"]] += a == t["answer"]
    return {"outcomes": {" / ".join(k): dict(v) for k, v in sorted(out.items())},
            "colours": {" / ".join(k): dict(v) for k, v in sorted(colours.items())}}


def write_symmetric(seed_dir: Path, out: Path, control: bool = False, kinds: tuple[str, ...] = ("colour",)) -> dict:
    """DIR/pairs.jsonl with symmetric colour pairs per format (see the module doc); returns the counts.
    `control`: as many colour pairs per format, drawn at random (seed 0), their skew kept."""
    summary = json.loads((seed_dir / "pairs" / "summary.json").read_text())
    src = source_rows(seed_dir, summary)
    pairs = read_jsonl(seed_dir / "pairs" / "pairs.jsonl")
    words = []
    for rec in pairs:  # the key is (format, chosen word, rejected word); the kind follows from the words
        kind, _, _, fmt = src[rec["id"]]
        words.append((fmt, answer_word(text_of(rec["chosen"]), kind), answer_word(text_of(rec["rejected"]), kind))
                     if kind in kinds else None)
    n = Counter(w for w in words if w)
    quota = {(f, a, b): min(c, n[(f, b, a)]) for (f, a, b), c in n.items()}
    used: Counter = Counter()
    kept = []
    if control:
        per_format = Counter()
        for (f, _, _), q in quota.items():
            per_format[f] += q
        picked = set()
        for f, q in per_format.items():
            idx = [i for i, w in enumerate(words) if w and w[0] == f]
            picked |= set(random.Random(0).sample(idx, q))
        words = [w if w is None else (("picked",) if i in picked else ("dropped",)) for i, w in enumerate(words)]
        quota = {("picked",): len(picked), ("dropped",): 0}
    for rec, w in zip(pairs, words):
        if w is not None:
            if used[w] >= quota[w]:
                continue
            used[w] += 1
        kept.append(rec)
    out.mkdir(parents=True, exist_ok=True)
    (out / "pairs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept))
    counts = {"pairs": len(pairs), "kept": len(kept), "cut pairs": sum(n.values()), "cut kept": sum(used.values()),
              "kinds": kinds, "control": control}
    print(f"wrote {out / 'pairs.jsonl'}: {counts}")
    return counts


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.0f}" if d else "-"


def markdown(res: dict) -> str:
    lines = ["### pairs (rows with open answers, the base's answers at build time)", "",
             "| format / kind | rows answered | answered right | pairs |", "|---|---|---|---|"]
    for key, c in res["pairs"]["counts"].items():
        lines.append(f"| {key} | {c.get('answered', 0)} | {c.get('right', 0)} ({pct(c.get('right', 0), c.get('answered', 0))} %) "
                     f"| {c.get('pairs', 0)} |")
    lines += ["", f"replay rows per kind: {res['pairs']['replay_kinds']}", "", "### pair answers", ""]
    for key, a in res["pairs"]["answers"].items():
        lines.append(f"- **{key}**: chosen {a['chosen']}; rejected {a['rejected']}; rejected is {a['rejected is']}")
    lines += ["", "### synth-multi outcomes", "",
              "| format / kind | n | before | after | right->wrong | wrong->right | right->wrong became |",
              "|---|---|---|---|---|---|---|"]
    for key, c in res["outcomes"].items():
        became = ", ".join(f"{k.removeprefix('became ')} {v}" for k, v in c.items() if k.startswith("became"))
        lines.append(f"| {key} | {c['n']} | {pct(c['right before'], c['n'])} | {pct(c['right after'], c['n'])} "
                     f"| {c.get('right->wrong', 0)} | {c.get('wrong->right', 0)} | {became} |")
    for kind, words in (("colour", sorted(COLOURS)), ("shape", list(SHAPES))):
        lines += ["", f"### {kind} questions: answers per word (and right answers per true word)", "",
                  "| format | | " + " | ".join(words) + " | (none) |", "|---|---|" + "---|" * (len(words) + 1)]
        for key, c in res["colours"].items():
            k, fmt, what = key.split(" / ")
            if k == kind:
                lines.append(f"| {fmt} | {what} | " + " | ".join(str(c.get(w, 0)) for w in words)
                             + f" | {c.get('(none)', '')} |")
        for key, a in res["pairs"]["answers"].items():
            if key.endswith(kind):
                for side in ("chosen", "rejected"):
                    lines.append(f"| {key.split(' / ')[0]} | pairs' {side} | "
                                 + " | ".join(str(a[side].get(w, 0)) for w in words) + f" | {a[side].get('(none)', '')} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path, help="the demo's --out folder")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--after", type=Path, help="a folder with synth-multi/predictions.jsonl (default: the seed's after/)")
    ap.add_argument("--pairs", type=Path, help="a folder with pairs.jsonl (default: the seed's pairs/)")
    ap.add_argument("--json", type=Path, help="also write the numbers here")
    ap.add_argument("--write-symmetric", type=Path, metavar="DIR", help="write symmetric pairs (see --kinds) to DIR and stop")
    ap.add_argument("--control", action="store_true", help="with --write-symmetric: as many pairs per format, at random")
    ap.add_argument("--kinds", default="colour", help="with --write-symmetric: the kinds cut (default colour)")
    args = ap.parse_args(argv)
    seed_dir = args.run / f"seed-{args.seed}"
    if args.write_symmetric:
        write_symmetric(seed_dir, args.write_symmetric, args.control, tuple(args.kinds.split(",")))
        return 0
    after = (args.after or seed_dir / "after") / "synth-multi" / "predictions.jsonl"
    res = {"pairs": pair_tables(seed_dir, args.pairs or seed_dir / "pairs"),
           **outcome_tables(args.run / "suites" / f"seed-{args.seed}" / "synth-multi" / "questions.jsonl",
                            seed_dir / "before" / "synth-multi" / "predictions.jsonl", after)}
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
