"""`mmalign eval` shows its progress: a bar over the questions (or items) on a terminal, and one closing line
with the count and the time in every case, so a log says what was done and how long it took."""

import io
import re
import sys

import pytest

from mmalign.cli.main import main as cli
from mmalign.eval import Question, answer_questions
from mmalign.progress import duration


class FakeTerminal(io.StringIO):
    """stderr as tqdm sees it on a terminal."""

    def isatty(self):
        return True


def questions(n):
    return [Question(id=f"q{i}", media=(), prompt=f"Is there a dog {i}?", truth={"label": "yes"}, subset="random")
            for i in range(n)]


def yes(batch):
    return ["Yes." for _ in batch]


def test_a_terminal_gets_a_bar_over_the_questions(tmp_path, monkeypatch, capsys):
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    answer_questions(questions(6), yes, tmp_path / "p.jsonl", batch_size=4, desc="answer pope")
    bar = terminal.getvalue()
    assert "answer pope" in bar and "6/6" in bar
    assert re.search(r"^answer pope: 6 question\(s\) answered in \d", capsys.readouterr().out, re.MULTILINE)


def test_a_log_gets_no_bar_but_the_closing_line(tmp_path, capsys):
    path = tmp_path / "p.jsonl"
    answer_questions(questions(2), yes, path)
    answer_questions(questions(5), yes, path)  # a resumed run says how many answers it found
    out, err = capsys.readouterr()
    assert "answer: 2 question(s) answered in" in out
    assert "answer: 3 question(s) answered in" in out and f"(2 already in {path})" in out
    assert "%|" not in err  # tqdm's bar: never drawn into a log


def test_no_progress_is_silent(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stderr", FakeTerminal())
    answer_questions(questions(3), yes, tmp_path / "p.jsonl", progress=False)
    assert sys.stderr.getvalue() == "" and capsys.readouterr().out == ""


def test_eval_with_a_model_says_what_it_loads_and_how_long_answering_took(tmp_path, tiny_llava_path, capsys):
    suite, out = tmp_path / "suite", tmp_path / "out"
    assert cli(["eval", "synth-pope", "--make-data", str(suite), "--count", "4", "--model", str(tiny_llava_path),
                "--out", str(out), "--batch-size", "2", "--max-new-tokens", "2"]) == 0
    printed = capsys.readouterr().out
    assert f"loading model {tiny_llava_path} (cpu)" in printed
    assert re.search(r"^answer synth-pope: \d+ question\(s\) answered in [\d.]+ s$", printed, re.MULTILINE)
    # Only the printed lines are new: the metrics hold no time, so reruns stay byte-identical.
    assert "seconds" not in (out / "metrics.json").read_text()


def test_a_reward_benchmark_judged_by_the_oracle_ends_with_its_time(tmp_path, capsys):
    suite = tmp_path / "suite"
    assert cli(["eval", "synth-reward", "--make-data", str(suite), "--count", "4", "--judge", "oracle",
                "--out", str(tmp_path / "out")]) == 0
    assert re.search(r"^judge \(oracle\): \d+ item\(s\) judged in [\d.]+ s$", capsys.readouterr().out, re.MULTILINE)


@pytest.mark.parametrize("seconds,text", [(0.42, "0.4 s"), (12.4, "12 s"), (247, "4 min 07 s"), (3600, "60 min 00 s")])
def test_durations_read_as_people_say_them(seconds, text):
    assert duration(seconds) == text
