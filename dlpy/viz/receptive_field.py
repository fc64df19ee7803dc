"""Receptive fields: which input pixels a unit of a convolutional layer can see.

Composed layer by layer through the model's graph (Functional, Sequential or nested models):
each spatial axis carries four numbers, the axis length ``n``, the ``jump`` (input pixels between
neighboring units), the field ``size`` and the ``start`` (input coordinate of the first pixel
in the field of unit 0; negative where the field reaches into padding). A convolution or pooling
with kernel ``k``, dilation ``d``, stride ``s`` and left padding ``p`` maps them to
``size + (d*(k-1))*jump``, ``jump*s`` and ``start - p*jump``. Alongside, each unit keeps the
bounds of the input pixels it really sees (taps that land on zero padding, at the border or in a
deeper layer, see nothing): the box to crop for maximally activating patches. Taught in chapter 11.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import keras
import numpy as np

from dlpy.models.introspection import resolve_path


@dataclass(frozen=True)
class _Axis:
    n: int  # length of this axis in the layer's output
    jump: int  # input pixels between neighboring units
    size: int  # receptive-field size in input pixels
    start: int  # input coordinate of the first pixel of unit 0's field
    lo: tuple = ()  # per unit: first input pixel it really sees (padding excluded; EMPTY if none)
    hi: tuple = ()  # per unit: one past the last input pixel it really sees


EMPTY = (10**9, -(10**9))  # (lo, hi) of a unit that sees no input pixel (a padding unit)


def _input_axis(n: int) -> _Axis:
    return _Axis(n, 1, 1, 0, tuple(range(n)), tuple(range(1, n + 1)))


def _gather(axis: _Axis, taps: np.ndarray) -> tuple[tuple, tuple]:
    """Per output unit, the bounds of the input pixels seen through the taps (rows of ``taps``,
    indices into ``axis``'s units; out-of-range taps are padding and see nothing)."""
    lo = np.append(np.asarray(axis.lo, dtype=np.int64), EMPTY[0])
    hi = np.append(np.asarray(axis.hi, dtype=np.int64), EMPTY[1])
    taps = np.where((taps >= 0) & (taps < axis.n), taps, axis.n)  # index n is the "padding" unit
    return tuple(int(v) for v in lo[taps].min(axis=1)), tuple(int(v) for v in hi[taps].max(axis=1))


@dataclass(frozen=True)
class ReceptiveField:
    """The receptive field of one spatial layer. Taught in chapter 11.

    ``size`` (height, width) is the field of one unit in input pixels, ``stride`` the input pixels
    between neighboring units, ``start`` the input coordinate of the top-left pixel of unit (0, 0)'s
    field (negative where it reaches into the padding); ``output_shape`` is the layer's (rows, cols)
    for an input of ``input_shape``.
    """

    layer: str
    size: tuple[int, int]
    stride: tuple[int, int]
    start: tuple[int, int]
    input_shape: tuple[int, int]
    output_shape: tuple[int, int]
    seen_from: tuple[tuple, tuple] = ((), ())  # per row / per column: first input pixel really seen
    seen_to: tuple[tuple, tuple] = ((), ())  # per row / per column: one past the last one

    def box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """``(top, left, bottom, right)`` of unit ``(row, col)``'s field, bottom/right exclusive,
        in input coordinates, not clipped to the image."""
        rows, cols = self.output_shape
        if not (0 <= row < rows and 0 <= col < cols):
            raise ValueError(f"Unit ({row}, {col}) is outside layer {self.layer!r}'s {rows}x{cols} output.")
        top = self.start[0] + row * self.stride[0]
        left = self.start[1] + col * self.stride[1]
        return top, left, top + self.size[0], left + self.size[1]

    def clipped_box(self, row: int, col: int) -> tuple[int, int, int, int]:
        """The bounding box of the input pixels that unit ``(row, col)`` really sees: :meth:`box`
        less the parts that reach it only through zero padding (at the border, or of a deeper layer)."""
        self.box(row, col)  # range check
        return (self.seen_from[0][row], self.seen_from[1][col], self.seen_to[0][row], self.seen_to[1][col])

    def center(self, row: int, col: int) -> tuple[float, float]:
        """Input coordinate (row, col) of the center of unit ``(row, col)``'s field."""
        top, left, bottom, right = self.box(row, col)
        return (top + bottom - 1) / 2, (left + right - 1) / 2


# Layers that act on each position separately (or are the identity at inference).
_POINTWISE = (
    "InputLayer", "Activation", "ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax", "BatchNormalization",
    "LayerNormalization", "GroupNormalization", "UnitNormalization", "Dropout", "SpatialDropout2D",
    "GaussianNoise", "GaussianDropout", "AlphaDropout", "ActivityRegularization", "Rescaling",
    "Normalization", "RandomFlip", "RandomRotation", "RandomZoom", "RandomTranslation",
    "RandomContrast", "RandomBrightness", "RandomCrop", "Identity",
)
_MERGE = ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate")
_NOT_SPATIAL = ("Flatten", "GlobalAveragePooling2D", "GlobalMaxPooling2D", "Dense", "Reshape")


def _pair(value) -> tuple[int, int]:
    return (int(value), int(value)) if isinstance(value, int) else tuple(int(v) for v in value)


def _window(axis: _Axis, kernel: int, stride: int, dilation: int, padding: str, layer) -> _Axis:
    """One axis through a sliding window (TensorFlow's 'same' puts the odd pixel of padding last)."""
    extent = dilation * (kernel - 1) + 1
    if padding == "valid":
        if axis.n < extent:
            raise ValueError(
                f"Layer {layer.name!r} needs at least {extent} pixels along an axis but gets {axis.n}: "
                "the input image is too small for this model."
            )
        n_out, pad_before = (axis.n - extent) // stride + 1, 0
    elif padding == "same":
        n_out = math.ceil(axis.n / stride)
        pad_before = max((n_out - 1) * stride + extent - axis.n, 0) // 2
    else:
        raise ValueError(f"Layer {layer.name!r} has padding {padding!r}; receptive fields support 'valid' and 'same'.")
    taps = np.arange(n_out)[:, None] * stride - pad_before + np.arange(kernel)[None, :] * dilation
    lo, hi = _gather(axis, taps)
    return _Axis(n_out, axis.jump * stride, axis.size + (extent - 1) * axis.jump,
                 axis.start - pad_before * axis.jump, lo, hi)


def _check_channels_last(layer) -> None:
    data_format = getattr(layer, "data_format", "channels_last")
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Layer {layer.name!r} uses {data_format}; receptive fields need channels_last models.")


def _through_layer(layer, states: list):
    """The receptive-field state after ``layer``, given the states of its inputs
    (a pair of :class:`_Axis`, or ``None`` once the output is no longer spatial)."""
    kind = type(layer).__name__
    if kind in _MERGE:
        spatial = [s for s in states if s is not None]
        if len(spatial) != len(states):
            return None
        first = spatial[0]
        for other in spatial[1:]:
            if any(a.jump != b.jump or a.n != b.n for a, b in zip(first, other)):
                raise ValueError(f"Layer {layer.name!r} merges inputs with different strides or sizes.")
        merged = []
        for axes in zip(*spatial):
            start = min(a.start for a in axes)
            end = max(a.start + a.size for a in axes)
            lo = tuple(min(values) for values in zip(*(a.lo for a in axes)))
            hi = tuple(max(values) for values in zip(*(a.hi for a in axes)))
            merged.append(_Axis(axes[0].n, axes[0].jump, end - start, start, lo, hi))
        return tuple(merged)
    if len(states) != 1:
        raise ValueError(f"Layer {layer.name!r} ({kind}) takes {len(states)} inputs; receptive fields "
                         "support merge layers (Add, Concatenate, ...) and single-input layers.")
    state = states[0]
    if state is None or kind in _NOT_SPATIAL:
        return None
    if kind in _POINTWISE:
        return state
    _check_channels_last(layer)
    if kind in ("Conv2D", "DepthwiseConv2D", "SeparableConv2D"):
        kernel, stride = _pair(layer.kernel_size), _pair(layer.strides)
        dilation = _pair(getattr(layer, "dilation_rate", 1))
        return tuple(_window(a, k, s, d, layer.padding, layer) for a, k, s, d in zip(state, kernel, stride, dilation))
    if kind in ("MaxPooling2D", "AveragePooling2D"):
        kernel, stride = _pair(layer.pool_size), _pair(layer.strides or layer.pool_size)
        return tuple(_window(a, k, s, 1, layer.padding, layer) for a, k, s in zip(state, kernel, stride))
    if kind == "ZeroPadding2D":
        return tuple(_Axis(a.n + before + after, a.jump, a.size, a.start - before * a.jump,
                           (EMPTY[0],) * before + a.lo + (EMPTY[0],) * after,
                           (EMPTY[1],) * before + a.hi + (EMPTY[1],) * after)
                     for a, (before, after) in zip(state, layer.padding))
    if kind == "Cropping2D":
        return tuple(_Axis(a.n - before - after, a.jump, a.size, a.start + before * a.jump,
                           a.lo[before:a.n - after], a.hi[before:a.n - after])
                     for a, (before, after) in zip(state, layer.cropping))
    raise ValueError(
        f"Layer {layer.name!r} is a {kind}, which receptive_field() does not know how to follow. It handles "
        "Conv2D, DepthwiseConv2D, SeparableConv2D, MaxPooling2D, AveragePooling2D, ZeroPadding2D, "
        "Cropping2D, merge layers and per-position layers (activations, normalization, dropout)."
    )


def _graph(model: keras.Model):
    if isinstance(model, keras.Sequential):
        if not model._functional:  # noqa: SLF001 (an unbuilt Sequential has no graph)
            raise ValueError(f"Model {model.name!r} is not built yet: call it on data or build() it first.")
        return model._functional  # noqa: SLF001
    return model


def _walk(model: keras.Model, input_states: list, prefix: str, found: dict) -> list:
    """Propagate states through ``model``'s graph; record every layer's output state under its
    dotted path in ``found``; return the states of the model's outputs."""
    graph = _graph(model)
    states = {id(x): s for x, s in zip(graph.inputs, input_states)}
    for depth in sorted(graph._nodes_by_depth, reverse=True):  # noqa: SLF001
        for node in graph._nodes_by_depth[depth]:  # noqa: SLF001
            if not node.operation or node.is_input:
                continue
            if any(id(x) not in states for x in node.input_tensors):
                continue
            layer = node.operation
            inputs = [states[id(x)] for x in node.input_tensors]
            path = f"{prefix}{layer.name}"
            if isinstance(layer, keras.Model):
                outputs = _walk(layer, inputs, path + ".", found)
            else:
                outputs = [_through_layer(layer, inputs)] * len(node.outputs)
            for x, state in zip(node.outputs, outputs):
                states[id(x)] = state
            found[path] = outputs[0]
    return [states.get(id(x)) for x in graph.outputs]


def _input_size(model: keras.Model, input_shape) -> tuple[int, int]:
    if input_shape is not None:
        size = tuple(input_shape)[:2]
    else:
        shape = _graph(model).inputs[0].shape
        if len(shape) != 4:
            raise ValueError(f"Model {model.name!r} takes inputs of shape {shape}, not images (batch, H, W, C).")
        size = tuple(shape[1:3])
    if len(size) != 2 or any(s is None or int(s) <= 0 for s in size):
        raise ValueError(
            f"Model {model.name!r} accepts images of any size {size}: pass input_shape=(height, width) "
            "(with padding 'same' and strides, the field's position depends on the image size)."
        )
    return int(size[0]), int(size[1])


def receptive_fields(model: keras.Model, input_shape=None) -> dict[str, ReceptiveField]:
    """The receptive field of every spatial layer of ``model`` (nested models' layers under dotted
    paths), in graph order. ``input_shape=(H, W)`` is needed when the model accepts any size.
    Taught in chapter 11."""
    height, width = _input_size(model, input_shape)
    found: dict = {}
    _walk(model, [(_input_axis(height), _input_axis(width))], "", found)
    return {
        path: ReceptiveField(path, (s[0].size, s[1].size), (s[0].jump, s[1].jump), (s[0].start, s[1].start),
                             (height, width), (s[0].n, s[1].n), (s[0].lo, s[1].lo), (s[0].hi, s[1].hi))
        for path, s in found.items() if s is not None
    }


def receptive_field(model: keras.Model, layer: str, input_shape=None) -> ReceptiveField:
    """The receptive field of ``layer`` (a name or dotted path through nested models): field size,
    stride and offset in input pixels, and the box each unit sees. Taught in chapter 11.

    >>> rf = receptive_field(model, "conv_pw_5_relu")   # doctest: +SKIP
    >>> rf.size, rf.stride, rf.box(0, 0)                  # doctest: +SKIP
    """
    chain = resolve_path(model, layer)  # clear error for an unknown name
    path = ".".join(item.name for item in chain)
    fields = receptive_fields(model, input_shape)
    if path not in fields:
        shape = getattr(chain[-1], "output", None)
        shape = getattr(shape, "shape", "?")
        raise ValueError(
            f"Layer {layer!r} is not spatial (its output shape is {shape}): receptive fields exist for "
            "convolution, pooling and per-position layers before flattening or global pooling."
        )
    return fields[path]
