"""The synthetic world: shapes-and-colours images with known truth, used by tests, benchmarks and the demo."""

from .questions import Question, ask, vocabulary
from .scenes import COLOURS, SHAPES, Scene, draw_scene, sample_scene
from .text import write_text_pairs
from .video import (
                    DIRECTIONS,
                    VideoScene,
                    encode_mp4,
                    render_video,
                    sample_video_scene,
                    write_video,
                    write_video_dataset,
)
from .world import write_llava_instructions, write_preference_pairs

__all__ = [
    "COLOURS", "SHAPES", "Question", "Scene", "ask", "draw_scene", "sample_scene", "vocabulary",
    "write_llava_instructions", "DIRECTIONS", "VideoScene", "encode_mp4", "render_video",
    "sample_video_scene", "write_video", "write_video_dataset", "write_preference_pairs", "write_text_pairs",
]
