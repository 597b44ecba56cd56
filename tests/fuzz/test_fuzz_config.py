"""Fuzzing training configs (YAML) and `key=value` overrides through `load_train_config`, what
`mmalign train CONFIG key=value ...` and `mmalign reward-ensemble` run: a TrainConfig, or a ConfigError
naming the key, or the file (and line) when the file itself cannot be read. A config that loads then has
its objective and its dataset transforms built as the trainer builds them: a result or an error naming
the loss or transform and the key, never a TypeError."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from fuzz_inputs import FUZZ, JSON_VALUES, NASTY_TEXT, expect_clean, near_miss, write
from hypothesis import example, given
from hypothesis import strategies as st

from mmalign.config import from_dict, parse_override, read_yaml, to_dict
from mmalign.errors import ConfigError
from mmalign.train.config import TrainConfig, load_train_config
from mmalign.train.refusals import build_loss
from mmalign.train.transform_data import transform_file

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
TEMPLATES = [
    yaml.safe_load(p.read_text(encoding="utf-8"))
    for p in sorted(CONFIGS.glob("**/*.yaml"))
    if "accelerate" not in p.parts and "recipes" not in p.parts  # recipes: test_fuzz_recipe_rubrics.py
]
TEMPLATES = [t for t in TEMPLATES if isinstance(t, dict)]
# Records every transform can run on (scores, factuality labels, reward-model scores, a rejected list).
RECORDS = b"".join(
    json.dumps({"id": f"r{i}", "prompt": "Which colour?", "chosen": "Red.", "rejected": "Blue.",
                "rejected_list": ["Green."], "factuality": {"chosen": i % 2, "rejected": 0},
                "scores": {"chosen": 4 - i, "rejected": 1, "rejected_list": [0.5],
                           "reward_models": [[1.0, 0.5 * i], [0.2, 0.1]]}}).encode() + b"\n"
    for i in range(3))

# Text that YAML reads as something other than the value meant, or not at all.
YAML_SNIPPETS = st.sampled_from(
    [
        "1e-6",
        "1.0e-6",
        "-1",
        "0",
        "true",
        "yes",
        "off",
        "null",
        "~",
        "",
        "'",
        '"',
        "[1, 2",
        "{a: 1",
        "[]",
        "{}",
        "- a\n- b",
        "9" * 5000,
        "1" + "0" * 400,
        "1.0e400",
        ".nan",
        "-.inf",
        "2001-02-30",
        "2001-02-03",
        "!!python/object/apply:os.system [echo]",
        "!!binary zz",
        "!!int x",
        "!!float ''",
        "&a [*a, *a]",
        "*nope",
        "a: b: c",
        "\t- tab",
        "\x00",
        "\x1b[31m",
        "é🙂",
        "%YAML 1.1",
        "---",
        "...",
        "? [a, b]\n: 1",
        "<<: *x",
        "[" * 3000,
        "{a: " * 300,
        "|\n  text",
        ">\n  folded",
        "0x1F",
        "0o17",
        "1_000",
        "+.5",
        "1:30",
    ]
)
KEYS = st.sampled_from(
    [
        "model",
        "data",
        "root",
        "loss",
        "loss.name",
        "loss.beta",
        "loss.name.x",
        "lora",
        "lora.r",
        "lora.enabled",
        "lora.target_modules",
        "lora.nope",
        "learning_rate",
        "max_steps",
        "num_epochs",
        "per_device_batch_size",
        "transforms",
        "pair_sampler",
        "pair_sampler.k",
        "on_bad_record",
        "precision",
        "seed",
        "extra_data",
        "model.name",
        "unknown_key",
        "",
        ".",
        "..",
        "lora..r",
        " lora.r ",
        "loss.",
        "=",
        "a=b",
    ]
)


@st.composite
def yaml_text(draw) -> bytes:
    config = draw(st.sampled_from(TEMPLATES).flatmap(lambda t: near_miss(t, max_edits=3)))
    text = yaml.safe_dump(config, allow_unicode=draw(st.booleans()), sort_keys=False)
    kind = draw(st.sampled_from(["keep"] * 4 + ["snippet", "snippet", "cut", "bytes", "bom", "empty"]))
    if kind == "snippet":  # a value, or a line, replaced by YAML that means something else
        lines = text.splitlines() or [""]
        at = draw(st.integers(0, len(lines) - 1))
        key = lines[at].split(":", 1)[0] if ":" in lines[at] else "x"
        lines[at] = f"{key}: {draw(YAML_SNIPPETS)}" if draw(st.booleans()) else draw(YAML_SNIPPETS)
        text = "\n".join(lines)
    data = text.encode("utf-8", "surrogatepass")
    if kind == "cut" and data:
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "bytes":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=4)) + data[at:]
    elif kind == "bom":
        data = b"\xef\xbb\xbf" + data
    elif kind == "empty":
        data = draw(
            st.sampled_from([b"", b"\n", b"# only a comment\n", b"null", b"[]", b"- a", b"42", b"'x'"])
        )
    return data


OVERRIDES = st.lists(
    st.one_of(
        st.builds(lambda k, v: f"{k}={v}", KEYS, st.one_of(YAML_SNIPPETS, NASTY_TEXT, JSON_VALUES.map(str))),
        st.sampled_from(
            ["lora.r", "novalue", "=", "==", "loss=ipo", "loss.beta=", "data=synthetic", "lora=true"]
        ),
    ),
    max_size=3,
)


@FUZZ
@given(content=yaml_text(), overrides=OVERRIDES)
@example(content=b"learning_rate: " + b"1" + b"0" * 400 + b"\n", overrides=[])
@example(content=b"seed: " + b"9" * 5000 + b"\n", overrides=[])
@example(content=b"max_steps: 5\n", overrides=["max_steps=" + "9" * 5000])
@example(content=b"1: 2\nnope: 3\n", overrides=[])
@example(content=b"model: \xff\n", overrides=[])
@example(content=b"seed: 2001-02-30\n", overrides=[])
@example(content=b"seed: 1\n", overrides=["seed=2001-02-30"])
@example(content=b"x: " + b"[" * 3000 + b"\n", overrides=[])
@example(content=b"seed: 1\n", overrides=["lora.r=" + "[" * 3000])
@example(
    content=b"seed: !!int x\nlearning_rate: !!float ''\n", overrides=["seed=!!bool x", "lora.r=!!timestamp x"]
)
# Objectives and transforms with names or values of the wrong type (once TypeErrors at train time).
@example(content=b"loss: {name: ipo, label_smoothing: x}\n", overrides=[])
@example(content=b"loss: {name: sigmoid, beta: x}\n", overrides=[])
@example(content=b"loss: null\n", overrides=[])
@example(content=b"loss: {1: 2, name: ipo}\n", overrides=[])
@example(content=b"loss: {name: []}\n", overrides=[])
@example(content=b"loss: {name: combo, terms: [5, {name: sft, weight: x}]}\n", overrides=[])
@example(content=b"seed: 1\n", overrides=["loss.name=[]", "loss.beta=x"])
@example(content=b"transforms: [5]\n", overrides=[])
@example(content=b"transforms: [{name: []}]\n", overrides=[])
@example(content=b"transforms: [{name: fdpo_flip, 1: 2}]\n", overrides=[])
@example(content=b"transforms: [{name: preference_strength, flip_fraction: x}]\n", overrides=[])
@example(content=b"transforms: [{name: reward_augment, template: null}]\n", overrides=[])
@example(content=b"transforms: fdpo_flip\n", overrides=[])
def test_load_train_config(content, overrides, tmp_path_factory):
    path = write(tmp_path_factory.getbasetemp() / "config.yaml", content)
    # The file itself: its errors name it (and the line where there is one).
    file_error = expect_clean(read_yaml, path, names=path)
    if isinstance(file_error, ConfigError):
        assert str(file_error).startswith(f"{path}"), str(file_error)
    cfg = expect_clean(load_train_config, path, overrides)
    if isinstance(cfg, ConfigError):  # else an error naming the key (from the file or an override)
        assert not isinstance(file_error, ConfigError) or str(cfg) == str(file_error)
        return
    assert not isinstance(file_error, ConfigError)
    assert isinstance(cfg, TrainConfig)
    again = expect_clean(from_dict, TrainConfig, to_dict(cfg))  # what config.yaml of the run reads back as
    assert repr(again) == repr(cfg)
    # What the trainer builds from the config next, before any model: the objective and the data transforms.
    expect_clean(build_loss, cfg)
    records = write(tmp_path_factory.getbasetemp() / "records.jsonl", RECORDS)
    expect_clean(transform_file, records, cfg.transforms, tmp_path_factory.getbasetemp() / "transformed.jsonl")


@FUZZ
@given(item=st.one_of(st.text(max_size=30), st.builds(lambda k, v: f"{k}={v}", KEYS, YAML_SNIPPETS)))
@example(item="seed=!!float ''")
def test_parse_override(item):
    result = expect_clean(parse_override, item)
    if not isinstance(result, ConfigError):
        path, _ = result
        assert isinstance(path, list) and all(isinstance(p, str) for p in path)
