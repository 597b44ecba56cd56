"""Fuzzing what the judges read: prompt template files (`prompt=FILE`, mmalign/judge/prompts), judge specs
(`--judge SPEC`), and the judges' replies (mmalign.judge.parse; MMHal-Bench's and HallusionBench's judge
outputs). A template or spec is accepted or refused with an MMAlignError; a reply gives a score in range or
None (counted by the caller), in bounded time."""

from __future__ import annotations

from importlib import resources

from fuzz_inputs import FUZZ, NASTY_TEXT, bounded, expect_clean, write
from hypothesis import example, given
from hypothesis import strategies as st

from mmalign.errors import MMAlignError
from mmalign.eval.hallusionbench import parse_judgement
from mmalign.eval.mmhal import parse_rating
from mmalign.judge.generative import fill, load_template
from mmalign.judge.parse import parse_score, parse_verdict
from mmalign.judge.spec import JUDGE_KINDS, JudgeSpec, parse_judge_spec

PROMPTS = {
    name: resources.files("mmalign.judge").joinpath("prompts", name).read_text(encoding="utf-8")
    for name in ("self_rewarding_5point.txt", "pairwise.txt")
}
NEEDS = {
    "self_rewarding_5point.txt": ("prompt", "response"),
    "pairwise.txt": ("prompt", "response_a", "response_b"),
}


@st.composite
def template_file(draw) -> tuple[str, bytes]:
    name = draw(st.sampled_from(sorted(PROMPTS)))
    text = PROMPTS[name]
    kind = draw(st.sampled_from(["keep", "drop", "braces", "cut", "bytes", "bom", "empty", "text"]))
    if kind == "drop":  # a placeholder lost or misspelt
        text = text.replace(
            "{" + draw(st.sampled_from(NEEDS[name])) + "}", draw(st.sampled_from(["", "{x}", "{ prompt }"]))
        )
    elif kind == "braces":
        text = text + draw(st.sampled_from(["{", "}", "{{prompt}}", "{0}", "{response!r}", "%s"]))
    elif kind == "text":
        text = draw(st.text(max_size=40))
    data = text.encode("utf-8", "surrogatepass")
    if kind == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    elif kind == "bom":
        data = b"\xef\xbb\xbf" + data
    elif kind == "empty":
        data = b""
    return name, data


@FUZZ
@given(
    case=template_file(), values=st.lists(st.one_of(NASTY_TEXT, st.text(max_size=20)), min_size=3, max_size=3)
)
@example(case=("pairwise.txt", b"{prompt} {response_a} \xff {response_b}"), values=["a", "b", "c"])
def test_judge_prompt_files(case, values, tmp_path_factory):
    name, content = case
    path = write(tmp_path_factory.getbasetemp() / "judge_prompt.txt", content)
    template = expect_clean(load_template, str(path), name, NEEDS[name], names=path)
    if isinstance(template, MMAlignError):
        return
    filled = fill(template, **dict(zip(NEEDS[name], values)))
    assert isinstance(filled, str)


REPLY_PARTS = st.sampled_from(
    [
        "Score: 4",
        "Score: **5**",
        "score = 3",
        "Score: -1",
        "Score: 6",
        "Score: 4.5.6",
        "score:",
        "Score: " + "9" * 5000,
        "[[A]]",
        "[[B]]",
        "[[C]]",
        "[[ D ]]",
        "[[",
        "]]",
        "Answer 1 is better",
        "answer 2 is slightly better",
        "Rating: 3",
        "rating: 7",
        "correct",
        "incorrect",
        " " * 20000,
        "\n" * 5000,
        "*" * 5000,
        "score" * 2000,
        "é🙂\u202e",
        "\x00",
        "",
    ]
)
REPLIES = st.lists(st.one_of(REPLY_PARTS, st.text(max_size=30)), max_size=5).map("".join)


@FUZZ
@given(reply=REPLIES, max_score=st.sampled_from([5.0, 10.0, 0.0, -1.0]))
@example(reply="score:" + " " * 50000 + "x", max_score=5.0)
@example(reply="Score: *" + " " * 50000 + "x", max_score=5.0)
def test_judge_replies(reply, max_score):
    with bounded(2):
        score = parse_score(reply, max_score)
        verdict = parse_verdict(reply)
        rating = parse_rating(reply)
        judgement = parse_judgement(reply)
    assert score is None or 0 <= score <= max_score
    assert verdict in (None, 0.0, 0.5, 1.0)
    assert rating in range(7) and judgement in ("correct", "incorrect", "unclear")


OPTION_VALUES = st.sampled_from(
    [
        "",
        "1",
        "-1",
        "0.5",
        "nan",
        "inf",
        "1e999",
        "9" * 5000,
        "true",
        "x",
        "a=b",
        "/m",
        "é",
        " 3 ",
        "0x10",
        "1_000",
    ]
)
SPECS = st.one_of(
    st.builds(
        lambda kind, opts: kind + (":" + ",".join(opts) if opts else ""),
        st.sampled_from(sorted(JUDGE_KINDS) + ["", "Oracle", "oracle ", "unknown"]),
        st.lists(
            st.builds(
                lambda k, v: f"{k}={v}",
                st.sampled_from(
                    [
                        "noise",
                        "seed",
                        "model",
                        "samples",
                        "temperature",
                        "top_p",
                        "max_score",
                        "name",
                        "prompt",
                        "batch_size",
                        "nope",
                        "",
                    ]
                ),
                OPTION_VALUES,
            )
            | st.sampled_from(["noise", "=", ",", "model"]),
            max_size=4,
        ),
    ),
    st.text(max_size=30),
)


@FUZZ
@given(text=SPECS)
@example(text="oracle:noise=" + "9" * 5000)
@example(text="pointwise:model=m,samples=" + "9" * 5000)
def test_judge_specs(text):
    spec = expect_clean(parse_judge_spec, text)
    if not isinstance(spec, MMAlignError):
        assert isinstance(spec, JudgeSpec) and spec.kind in JUDGE_KINDS and spec.name
