"""OpenRubrics (arXiv 2510.07743) in mmalign: contrastive rubrics for preference records, kept by rejection
sampling, and a judge that grades answers against them (docs/data-quality.md, "OpenRubrics").

    from mmalign.rubrics import RubricSettings, build_rubrics, load_rubrics
    summary = build_rubrics("pairs.jsonl", "runs/sft/final", "rubrics/", settings=RubricSettings(samples=4))
    rubrics = load_rubrics("rubrics/rubrics.jsonl")          # {record id: {"hard_rules": [...], "principles": [...]}}

`mmalign rubrics build` runs `build_rubrics`; `--judge rubric:model=PATH,rubrics=FILE` (mmalign.judge.rubric)
scores candidates with the rubrics.
"""

from ..judge.rubric import RubricProblem, check_rubric, load_rubrics, parse_rubric, rubric_text
from .build import RUBRICS_FILE, SUMMARY_FILE, RubricSettings, build_rubrics, read_pairs
from .maker import REASONS, RubricMaker

__all__ = ["REASONS", "RUBRICS_FILE", "SUMMARY_FILE", "RubricMaker", "RubricProblem", "RubricSettings",
           "build_rubrics", "check_rubric", "load_rubrics", "parse_rubric", "read_pairs", "rubric_text"]
