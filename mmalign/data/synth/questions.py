"""Questions about a scene with their true and wrong answers."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .scenes import COLOURS, SHAPES, Scene


@dataclass(frozen=True)
class Question:
    text: str
    answer: str
    wrong: str  # a plausible wrong answer, used as the rejected response
    kind: str  # "colour" | "shape" | "exists" | "object"


KINDS = ("colour", "shape", "exists")
ALL_KINDS = KINDS + ("object",)


def answer_text(kind: str, word: str) -> str:
    """How the world writes an answer word: "Red.", "A circle.", "Yes."."""
    return f"A {word}." if kind == "shape" else f"{word.capitalize()}."


def ask(scene: Scene, rng: random.Random, kinds: tuple[str, ...] = KINDS) -> Question:
    """One question about the scene, its kind drawn uniformly from `kinds` ("object" = POPE-style
    object existence without a colour)."""
    kind = rng.choice(kinds)
    if kind == "colour":
        wrong = rng.choice([c for c in sorted(COLOURS) if c != scene.colour])
        return Question(f"What colour is the {scene.shape}?", answer_text(kind, scene.colour),
                        answer_text(kind, wrong), kind)
    if kind == "shape":
        wrong = rng.choice([s for s in SHAPES if s != scene.shape])
        return Question("What shape is in the image?", answer_text(kind, scene.shape), answer_text(kind, wrong), kind)
    if kind == "object":  # POPE-style object existence, half true
        if rng.random() < 0.5:
            return Question(f"Is there a {scene.shape} in the image?", "Yes.", "No.", kind)
        other_shape = rng.choice([s for s in SHAPES if s != scene.shape])
        return Question(f"Is there a {other_shape} in the image?", "No.", "Yes.", kind)
    # Existence: half the time ask about the true object, half about a different colour of it.
    if rng.random() < 0.5:
        return Question(f"Is there a {scene.colour} {scene.shape} in the image?", "Yes.", "No.", kind)
    other = rng.choice([c for c in sorted(COLOURS) if c != scene.colour])
    return Question(f"Is there a {other} {scene.shape} in the image?", "No.", "Yes.", kind)


def vocabulary() -> list[str]:
    """Every word the synthetic world's questions and answers use."""
    words = set(COLOURS) | set(SHAPES)
    words |= {"what", "colour", "is", "the", "shape", "in", "image", "a", "an", "there", "yes", "no",
              "which", "of", "images", "first", "second", "third", "fourth", "does", "not", "exist",
              "picture", "and", "left", "right", "top", "bottom", "centre", "center", "video", "frame",
              "moving", "moves", "up", "down", "towards", "from", "to", "happens", "before", "after",
              "describe", "this", "how", "many", "are", "it", "you", "see", "one", "two", "three",
              "four", "five", "six", "seven", "eight", "nine", "grid", "cell", "inset", "small",
              "large", "object", "objects", "question", "answer", "please", "color", "describe",
              "number", "comes"}
    return sorted(words)
