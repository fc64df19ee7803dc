"""What a model costs: parameters and multiply-adds, layer by layer. A multiply-add (MAC) is one
``a * b + c``; a convolution makes ``kernel_h * kernel_w * input_channels`` of them per output value,
a depthwise separable one ``kernel_h * kernel_w`` per input channel plus ``input_channels`` per output
value. Taught in chapter 15 (convnet architecture: Conv2D versus SeparableConv2D).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras


@dataclass
class LayerCost:
    """One layer's ``name``, ``kind`` (class name), ``output_shape`` (without the batch), trainable
    and non-trainable ``parameters`` (all of them) and ``multiply_adds`` for one sample."""

    name: str
    kind: str
    output_shape: tuple
    parameters: int
    multiply_adds: int


def _spatial(shape) -> int:
    return math.prod(int(d) for d in shape[1:-1])


def layer_multiply_adds(layer, input_shape, output_shape) -> int:
    """Multiply-adds of one sample through ``layer`` (shapes with the batch axis): convolutions,
    depthwise and separable convolutions and dense layers; 0 for the rest (additions, pooling,
    normalization and activations are counted by no one). Taught in chapter 15."""
    if isinstance(layer, keras.layers.SeparableConv2D):
        kernel = math.prod(layer.kernel_size)
        channels = int(input_shape[-1])
        depthwise = _spatial(output_shape) * channels * layer.depth_multiplier * kernel
        return depthwise + _spatial(output_shape) * int(output_shape[-1]) * channels * layer.depth_multiplier
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        return _spatial(output_shape) * int(output_shape[-1]) * math.prod(layer.kernel_size)
    if isinstance(layer, keras.layers.Conv2D):
        per_output = math.prod(layer.kernel_size) * int(input_shape[-1]) // layer.groups
        return _spatial(output_shape) * int(output_shape[-1]) * per_output
    if isinstance(layer, keras.layers.Dense):
        return math.prod(int(d) for d in input_shape[1:-1]) * int(input_shape[-1]) * layer.units
    return 0


def model_costs(model: keras.Model) -> list[LayerCost]:
    """A :class:`LayerCost` per layer of a built functional or Sequential ``model``, nested models
    opened (their layers named ``outer.inner``). A layer or sub-model used twice (shared) is listed
    once, with the cost of one call. Taught in chapter 15."""
    if not model.built:
        raise ValueError(f"Model {model.name!r} is not built: give it an Input (or call it once) first.")
    rows = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            rows += [LayerCost(f"{layer.name}.{row.name}", row.kind, row.output_shape, row.parameters,
                               row.multiply_adds) for row in model_costs(layer)]
            continue
        inputs, output = layer.input, layer.output
        first_input = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        rows.append(LayerCost(layer.name, type(layer).__name__, tuple(output.shape[1:]), layer.count_params(),
                              layer_multiply_adds(layer, first_input.shape, output.shape)))
    return rows


def format_costs(rows: list[LayerCost]) -> str:
    """The rows as a table with totals. Taught in chapter 15."""
    lines = [f"{'layer':28s} {'kind':20s} {'output':>16s} {'parameters':>11s} {'multiply-adds':>14s}"]
    for row in rows:
        lines.append(f"{row.name[:28]:28s} {row.kind[:20]:20s} {str(row.output_shape):>16s} {row.parameters:>11,} "
                     f"{row.multiply_adds:>14,}")
    lines.append(f"{'total':28s} {'':20s} {'':>16s} {sum(r.parameters for r in rows):>11,} "
                 f"{sum(r.multiply_adds for r in rows):>14,}")
    return "\n".join(lines)
