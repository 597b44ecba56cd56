"""The generation path: prompts and media handed to generate, and resuming without re-asking."""

import json

import pytest
from PIL import Image

import mmalign.models
from mmalign.cli import eval as eval_cli
from mmalign.errors import MMAlignError
from mmalign.eval import Question
from mmalign.eval.generation import check_media_support, question_record


def test_question_record_placeholders(tmp_path):
    img = tmp_path / "a.png"
    Image.new("RGB", (8, 8)).save(img)
    rec = question_record(Question("q", (str(img),), "Is there a cat?"))
    assert rec["prompt"] == "<image>\nIs there a cat?" and len(rec["images"]) == 1
    two = question_record(Question("q", (str(img), str(img)), "Image1:<image>\nImage2:<image>\nIn Image2, what?"))
    assert two["prompt"].count("<image>") == 2 and len(two["images"]) == 2
    text = question_record(Question("t", (), "Is the sky green?", media_type="none"))
    assert text == {"prompt": "Is the sky green?", "images": []}
    with pytest.raises(MMAlignError, match="--video-frames"):
        question_record(Question("v", ("x.mp4",), "Does it move?", media_type="video"))
    with pytest.raises(MMAlignError, match="text-only"):
        check_media_support([Question("q", (str(img),), "?")], is_vision=False, video_frames=0)


def test_video_frames_become_images(tmp_path):
    from mmalign.data.synth.video import VideoScene, write_video

    path = write_video(tmp_path / "v.mp4", VideoScene("circle", "red", "left"), frames=8, px=32)
    rec = question_record(Question("v", (str(path),), "<video>\nDoes it move left?", media_type="video"), 3)
    assert rec["prompt"] == "<image>\n<image>\n<image>\nDoes it move left?" and len(rec["images"]) == 3


def test_interrupted_run_resumes_without_reasking(tmp_path, tiny_llava_path, monkeypatch):
    real = mmalign.models.generate
    asked: list[str] = []
    state = {"fail_after": 2}

    def counting(model, processor, records, **kw):
        if state["fail_after"] == 0:
            raise KeyboardInterrupt  # the run dies mid-way
        state["fail_after"] -= 1
        asked.extend(r["prompt"] for r in records)
        return real(model, processor, records, **kw)

    monkeypatch.setattr(mmalign.models, "generate", counting)
    data, out = tmp_path / "data", tmp_path / "out"
    argv = ["synth-pope", "--data", str(data), "--model", str(tiny_llava_path), "--out", str(out),
            "--batch-size", "4", "--max-new-tokens", "2"]
    assert eval_cli.main(["synth-pope", "--make-data", str(data), "--count", "12"]) == 0
    with pytest.raises(KeyboardInterrupt):
        eval_cli.main(argv)
    first = [json.loads(x)["id"] for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert len(first) == 8 and len(asked) == 8 and not (out / "metrics.json").exists()
    # a torn last line (killed mid-write) is dropped and that question asked again
    with open(out / "predictions.jsonl", "a") as fh:
        fh.write('{"id": "adversarial/1-y')
    state["fail_after"] = 99
    asked.clear()
    assert eval_cli.main(argv) == 0
    assert len(asked) == 4  # only the 4 unanswered questions
    ids = [json.loads(x)["id"] for x in (out / "predictions.jsonl").read_text().splitlines()]
    assert ids[:8] == first and len(ids) == len(set(ids)) == 12
    assert json.loads((out / "metrics.json").read_text())["overall"]["n"] == 12
    asked.clear()
    assert eval_cli.main(argv) == 0 and asked == []  # a finished run asks nothing


def test_video_goes_in_as_video_when_the_processor_takes_videos(tmp_path):
    from mmalign.data.synth.video import VideoScene, write_video

    path = write_video(tmp_path / "v.mp4", VideoScene("circle", "red", "left"), frames=8, px=32)
    rec = question_record(Question("v", (str(path),), "Does it move left?", media_type="video"), 4, True)
    assert rec["prompt"] == "<video>\nDoes it move left?" and rec["images"] == []
    (clip,) = rec["videos"]
    assert clip.shape[0] == 4 and clip.shape[-1] == 3


def test_eval_answers_a_video_model_through_its_video_input(tmp_path, tiny_qwen_path, monkeypatch):
    real = mmalign.models.generate
    seen: list[dict] = []

    def spy(model, processor, records, **kw):
        seen.extend(records)
        return real(model, processor, records, **kw)

    monkeypatch.setattr(mmalign.models, "generate", spy)
    data, out = tmp_path / "data", tmp_path / "out"
    assert eval_cli.main(["synth-video", "--make-data", str(data), "--count", "6", "--model", str(tiny_qwen_path),
                          "--out", str(out), "--video-frames", "4", "--max-new-tokens", "2"]) == 0
    assert seen and all(len(r["videos"]) == 1 and not r["images"] for r in seen)
    assert all(r["videos"][0].shape[0] == 4 for r in seen)
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["overall"]["n"] == len(seen)
