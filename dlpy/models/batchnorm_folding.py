"""Inference-only speed-up: BatchNormalization folded into the convolution before it.

At inference a BatchNormalization layer is a fixed per-channel affine map,
``y = gamma * (x - mean) / sqrt(variance + epsilon) + beta``. After a convolution (which is linear
in its kernel) the two collapse into one convolution with a rescaled kernel and a bias:

    kernel' = kernel * s,   bias' = (bias - mean) * s + beta,   with s = gamma / sqrt(variance + epsilon)

That saves two full passes over every activation map per BatchNormalization (MobileNet has 27).
:class:`FoldedConvolution` computes ``kernel'`` and ``bias'`` from the live variables on every call,
so a model that keeps training is never seen through stale weights. ``dlpy.models.introspection.inference_model``
and ``dlpy.models.introspection.feature_model(..., fold_batch_norm=True)`` apply it; every inference-only path of
dlpy uses them (Grad-CAM, occlusion, feature extraction, filter ascent, DeepDream, style transfer,
patches, neighbors). Taught in chapter 10 (the Grad-CAM benchmark).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import layers

FOLDABLE = (layers.Conv2D, layers.DepthwiseConv2D, layers.SeparableConv2D)


def foldable_pairs(graph: keras.Model) -> dict[str, tuple[keras.layers.Layer, keras.layers.Layer]]:
    """``{convolution name: (convolution, batch_norm)}`` for every BatchNormalization of ``graph``
    (a Functional model) that can be folded: its only input is a channels-last, ungrouped Conv2D,
    DepthwiseConv2D or SeparableConv2D without activation, whose output feeds nothing else in this
    graph, each layer called once in it. Taught in chapter 10."""
    nodes = [node for depth in graph._nodes_by_depth.values() for node in depth]  # noqa: SLF001
    calls: dict[int, int] = {}
    consumers: dict[int, int] = {id(tensor): 1 for tensor in graph.outputs}
    for node in nodes:
        calls[id(node.operation)] = calls.get(id(node.operation), 0) + 1
        for tensor in node.input_tensors:
            consumers[id(tensor)] = consumers.get(id(tensor), 0) + 1
    pairs = {}
    for node in nodes:
        bn = node.operation
        if not isinstance(bn, layers.BatchNormalization) or calls[id(bn)] != 1 or len(node.input_tensors) != 1:
            continue
        tensor = node.input_tensors[0]
        conv = tensor._keras_history.operation  # noqa: SLF001
        if (isinstance(conv, FOLDABLE) and calls.get(id(conv)) == 1 and consumers[id(tensor)] == 1
                and bn.axis in (-1, len(tensor.shape) - 1) and conv.data_format == "channels_last"
                and conv.activation is keras.activations.linear and getattr(conv, "groups", 1) == 1):
            pairs[conv.name] = (conv, bn)
    return pairs


class FoldedConvolution(layers.Layer):
    """``bn(conv(x))`` at inference, computed as one convolution (see the module's docstring).

    It shares the variables of ``conv`` and ``bn``; it never updates BatchNormalization statistics,
    so use it for inference only. Taught in chapter 10."""

    def __init__(self, conv, bn, **kwargs):
        super().__init__(name=f"{conv.name}_folded", **kwargs)
        self.conv, self.bn = conv, bn

    def _scale_and_shift(self):
        bn = self.bn
        scale = tf.math.rsqrt(tf.convert_to_tensor(bn.moving_variance) + bn.epsilon)
        if bn.scale:
            scale = scale * bn.gamma
        shift = -tf.convert_to_tensor(bn.moving_mean)
        if self.conv.use_bias:
            shift = shift + self.conv.bias
        shift = shift * scale
        if bn.center:
            shift = shift + bn.beta
        return scale, shift

    def call(self, inputs, *args, **kwargs):
        conv = self.conv
        scale, shift = self._scale_and_shift()
        strides, padding, dilation = conv.strides, conv.padding, conv.dilation_rate
        if isinstance(conv, layers.DepthwiseConv2D):
            kernel = conv.kernel * tf.reshape(scale, conv.kernel.shape[2:])  # (h, w, in, multiplier)
            outputs = keras.ops.depthwise_conv(inputs, kernel, strides, padding, "channels_last", dilation)
        elif isinstance(conv, layers.SeparableConv2D):
            pointwise = conv.pointwise_kernel * scale  # (1, 1, in * multiplier, out)
            outputs = keras.ops.separable_conv(inputs, conv.depthwise_kernel, pointwise, strides, padding,
                                               "channels_last", dilation)
        else:
            kernel = conv.kernel * scale  # (h, w, in, out)
            outputs = keras.ops.conv(inputs, kernel, strides, padding, "channels_last", dilation)
        return tf.nn.bias_add(outputs, shift)

    def compute_output_shape(self, input_shape):
        return self.conv.compute_output_shape(input_shape)


def passthrough(inputs, *args, **kwargs):
    """What a folded BatchNormalization becomes: its input, unchanged."""
    return inputs
