"""Pure, seeded transforms of images, prompts and clips: sequence, grid collage, pic-in-pic, corruptions,
video clip perturbations.

Nothing here loads a model or touches the disk. See docs/augment.md.
"""

from .collage import CELL, GRID_LAYOUTS, MARGIN, canvas_size, cell_boxes, grid_collage, grid_layout, label_box
from .noise import NOISE_STD, add_noise, corrupt, paper_block
from .pic_in_pic import PIP_SCALE, inset_box, pic_in_pic
from .prompts import IMAGE_TOKEN, PIP_PHRASES, lower_first, strip_placeholders
from .region import Box, Region, box_to_grid_cells, box_to_grid_mask, grid_coverage
from .result import Augmented
from .sequence import sequence
from .video import PERTURBATIONS, SPATIAL, TEMPORAL, Perturbation, perturb

__all__ = [
    "CELL", "GRID_LAYOUTS", "PERTURBATIONS", "SPATIAL", "TEMPORAL", "Perturbation", "perturb", "IMAGE_TOKEN", "MARGIN", "NOISE_STD", "PIP_PHRASES", "PIP_SCALE",
    "Augmented", "Box", "Region",
    "add_noise", "box_to_grid_cells", "box_to_grid_mask", "canvas_size", "cell_boxes", "corrupt",
    "grid_collage", "grid_coverage", "grid_layout", "inset_box", "label_box", "lower_first", "paper_block",
    "pic_in_pic", "sequence", "strip_placeholders",
]
