"""The generative autoencoder's encoder beside its decoder (kmeans-and-generative-ae Q2(a)).

Each encoder stage is paired with the decoder stage that inverts it. `stage_rows` groups the
model summary's leaves into the stages the seed names, `show_pairs` prints them side by side
and `save_sketch` draws the tensor block sketch: tensors as boxes, stages as arrows, and
brackets underneath joining each encoder stage to the decoder stage that undoes it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import torch

from nnlab.core.figures import DPI, new_figure
from nnlab.core.models.autoencoders import IMAGE_SHAPE
from nnlab.core.models.conv_autoencoders import GenerativeAE, Stage
from nnlab.core.models.summary import summarize
from nnlab.runs.recorder import Recorder

SKETCH_FILE = "blocks.png"
ENCODER_COLOUR, LATENT_COLOUR, DECODER_COLOUR = "#cfe0f3", "#f8d9a8", "#d3ecd0"


@dataclass
class StageRow:
    """One stage as it ran: its label, the tensor it outputs (no batch dimension), its parameters."""

    label: str
    output: tuple[int, ...]
    params: int


def _group(rows: list, stages: list[Stage]) -> list[StageRow]:
    grouped, start = [], 0
    for stage in stages:
        part = rows[start:start + stage.leaves]
        grouped.append(StageRow(stage.label, part[-1].output, sum(r.params for r in part)))
        start += stage.leaves
    return grouped


def stage_rows(model: GenerativeAE, device: torch.device | str = "cpu") -> tuple[list[StageRow], list[StageRow]]:
    """The encoder's and the decoder's stages, each with the shape it outputs, in the order they run."""
    rows = summarize(model, IMAGE_SHAPE, device)
    encoder = [r for r in rows if r.name.startswith("encoder.")]
    decoder = [r for r in rows if r.name.startswith("decoder.")]
    return _group(encoder, model.encoder_stages), _group(decoder, model.decoder_stages)


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def show_pairs(model: GenerativeAE, recorder: Recorder) -> list[dict]:
    """Print each encoder stage beside the decoder stage that inverts it; the pairs as dicts."""
    encoder, decoder = stage_rows(model)
    enc_in = [IMAGE_SHAPE] + [row.output for row in encoder[:-1]]
    dec_in = [encoder[-1].output] + [row.output for row in decoder[:-1]]
    pairs, rows = [], []
    for letter, (i, j) in zip("ABCDEFGHIJ", model.pairs):
        enc, dec = encoder[i], decoder[j]
        rows.append([f"{letter}  {enc.label}", f"{_shape(enc_in[i])}→{_shape(enc.output)}",
                     f"{j + 1}. {dec.label}", f"{_shape(dec_in[j])}→{_shape(dec.output)}"])
        pairs.append({"pair": letter, "encoder": enc.label, "encoder_output": list(enc.output),
                      "decoder": dec.label, "decoder_step": j + 1, "decoder_output": list(dec.output)})
    recorder.table("encoder stages (top down) beside the decoder stage that inverts each (bottom up)",
                   ["pair: encoder stage", "shape", "decoder step that inverts it", "shape"], rows,
                   caption="the decoder runs from the last row up (step 1: z in, step 6: the image out)")
    return pairs


# ---- the block sketch ------------------------------------------------------------------------

def _two_lines(text: str) -> str:
    """Split a label at the space nearest its middle, so arrows stay narrow."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if len(text) < 12 or not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


def save_sketch(path: Path, model: GenerativeAE) -> Path:
    """Tensors as boxes left to right (encoder, z, decoder), stages as labelled arrows, and a bracket
    under each encoder stage joining it to the decoder stage that inverts it."""
    encoder, decoder = stage_rows(model)
    tensors = [IMAGE_SHAPE] + [r.output for r in encoder] + [r.output for r in decoder]
    ops = [r.label for r in encoder] + [r.label for r in decoder]
    n_enc, step = len(encoder), 1.6
    fig = new_figure((step * len(tensors) + 0.6, 7.4))
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.9))
    biggest = math.log(max(math.prod(t) for t in tensors))
    xs = [i * step for i in range(len(tensors))]
    for i, (x, shape) in enumerate(zip(xs, tensors)):
        height = 0.5 + 1.7 * math.log(math.prod(shape)) / biggest  # log size: 720 and 12,500 both fit
        colour = ENCODER_COLOUR if i < n_enc else LATENT_COLOUR if i == n_enc else DECODER_COLOUR
        ax.add_patch(_box(x - 0.45, -height / 2, 0.9, height, colour))
        ax.text(x, 0, "z\n" + _shape(shape) if i == n_enc else _shape(shape), ha="center", va="center", fontsize=9)
    for k, label in enumerate(ops):
        ax.annotate("", xy=(xs[k + 1] - 0.47, 0), xytext=(xs[k] + 0.47, 0),
                    arrowprops={"arrowstyle": "-|>", "color": "#333333", "lw": 1.2})
        ax.text((xs[k] + xs[k + 1]) / 2, 1.35, _two_lines(label), ha="center", va="bottom", fontsize=8,
                color="#1f4e79" if k < n_enc else "#2d6a2d")
    centre = xs[n_enc]
    for depth, (letter, (i, j)) in enumerate(sorted(zip("ABCDEFGHIJ", model.pairs), key=lambda p: -p[1][0])):
        left, right = (xs[i] + xs[i + 1]) / 2, (xs[n_enc + j] + xs[n_enc + j + 1]) / 2
        y = -1.35 - 0.42 * (depth + 1)
        ax.plot([left, left, right, right], [-0.2, y, y, -0.2], color="#8a5a00", lw=1.1)
        ax.text(centre, y, f"{letter}: {encoder[i].label}  ⟷  {decoder[j].label}", ha="center", va="center",
                fontsize=8, bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "#8a5a00", "lw": 0.8})
    ax.text(xs[0] - 0.5, 2.25, "encoder", fontsize=11, weight="bold", color="#1f4e79")
    ax.text(xs[n_enc] + 0.6, 2.25, "decoder", fontsize=11, weight="bold", color="#2d6a2d")
    ax.set_xlim(xs[0] - 0.6, xs[-1] + 0.6)
    ax.set_ylim(-1.6 - 0.42 * (len(model.pairs) + 1), 2.6)
    ax.axis("off")
    fig.suptitle(f"generative autoencoder ({model.encoder_kind} encoder): each bracket joins an encoder stage "
                 "to the decoder stage that inverts it", fontsize=11)
    fig.savefig(path, dpi=DPI)
    return path


def _box(x: float, y: float, width: float, height: float, colour: str):
    from matplotlib.patches import FancyBboxPatch

    return FancyBboxPatch((x, y), width, height, boxstyle="round,pad=0.02", fc=colour, ec="#555555", lw=0.9)
