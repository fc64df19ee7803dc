"""Finding layers and reading their outputs in any Keras 3 model: Functional, Sequential, and
models nested inside models (a pretrained base inside a classifier).

A layer is addressed by its name, or by a dotted path through nested models:
``"mobilenet_0.75_224.conv_pw_13_relu"``. Taught in chapters 08-11.
"""

from __future__ import annotations

import keras
import numpy as np

from dlpy.models.batchnorm_folding import FoldedConvolution, foldable_pairs, passthrough


def _is_model(layer) -> bool:
    return isinstance(layer, keras.Model)


def layer_paths(model: keras.Model, nested: bool = True) -> list[str]:
    """Every layer's address, in order; layers of nested models as ``outer.inner``."""
    paths = []
    for layer in model.layers:
        paths.append(layer.name)
        if nested and _is_model(layer):
            paths += [f"{layer.name}.{p}" for p in layer_paths(layer)]
    return paths


def _unknown_layer(model: keras.Model, path: str) -> ValueError:
    names = layer_paths(model)
    shown = ", ".join(names) if len(names) <= 60 else ", ".join(names[:30] + ["..."] + names[-25:])
    return ValueError(f"No layer {path!r} in model {model.name!r}. Its layers are: {shown}")


def resolve_path(model: keras.Model, path: str) -> list[keras.layers.Layer]:
    """The chain of layers from ``model`` down to ``path``: ``[nested_model, ..., layer]``.

    A plain name that is not a top-level layer is also searched in nested models, if it is unique."""
    if not isinstance(path, str) or not path:
        raise TypeError(f"A layer address is a non-empty string, got {path!r}")
    chain, current, rest = [], model, path
    while rest:
        # Layer names may contain dots themselves ("mobilenet_0.75_224"): take the longest name
        # of the current model that the rest of the path starts with.
        names = sorted((layer.name for layer in getattr(current, "layers", [])), key=len, reverse=True)
        name = next((n for n in names if rest == n or rest.startswith(n + ".")), None)
        if name is None:
            break
        layer = current.get_layer(name)
        chain.append(layer)
        current, rest = layer, rest[len(name) + 1:]
    if not rest:
        return chain
    if "." not in path:  # a bare name buried in a nested model
        matches = [p for p in layer_paths(model) if p.split(".")[-1] == path]
        if len(matches) == 1:
            return resolve_path(model, matches[0])
        if len(matches) > 1:
            raise ValueError(f"Layer name {path!r} is ambiguous in {model.name!r}; use one of: {matches}")
    raise _unknown_layer(model, path)


def find_layer(model: keras.Model, path: str) -> keras.layers.Layer:
    """The layer at ``path`` (name or dotted path); an unknown name lists the available layers."""
    return resolve_path(model, path)[-1]


def _graph(model: keras.Model):
    """The Functional graph of a model (a built Sequential's inner one), or ``None`` (subclassed)."""
    graph = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    return graph if hasattr(graph, "_run_through_graph") else None


def _extractor(model: keras.Model, paths: list[str], fold_batch_norm: bool = False) -> keras.Model:
    """A model with ``model``'s inputs whose outputs are ``[model output, *outputs at paths]``; with
    ``fold_batch_norm``, BatchNormalization is folded into the convolution before it (inference only)."""
    by_child: dict[str, list[str]] = {}
    direct: list[str] = []
    for path in paths:
        chain = resolve_path(model, path)
        if len(chain) == 1:
            direct.append(chain[0].name)
        else:
            by_child.setdefault(chain[0].name, []).append(".".join(layer.name for layer in chain[1:]))
    graph = _graph(model)
    if graph is None:
        raise ValueError(f"Model {model.name!r} is not built yet (or is a subclassed model without a graph): "
                         "call it on data or build() it first.")
    nested = set(by_child)
    if fold_batch_norm:
        nested |= {layer.name for layer in graph.layers if _is_model(layer) and _graph(layer) is not None}
    nested_extractors = {name: _extractor(model.get_layer(name), by_child.get(name, []), fold_batch_norm)
                         for name in nested}
    pairs = foldable_pairs(graph) if fold_batch_norm else {}
    replacements = {}
    for name, (conv, bn) in pairs.items():
        if name not in direct:  # a convolution's own output, asked for, stays unfolded
            replacements[name] = FoldedConvolution(conv, bn)
            replacements[bn.name] = passthrough
    found: dict[str, object] = {}

    def operation_fn(operation):
        if operation.name in nested_extractors:
            extractor = nested_extractors[operation.name]
            sub_paths = by_child.get(operation.name, [])

            def call(*args, **kwargs):
                outputs = extractor(*args, **kwargs)
                outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
                for sub_path, tensor in zip(sub_paths, outputs[1:]):
                    found[f"{operation.name}.{sub_path}"] = tensor
                if operation.name in direct:  # the nested model's own output was asked for too
                    found[operation.name] = outputs[0]
                return outputs[0]
            return call
        replacement = replacements.get(operation.name, operation)
        if operation.name in direct:
            def call(*args, **kwargs):
                out = replacement(*args, **kwargs)
                found[operation.name] = out
                return out
            return call
        return replacement

    inputs = [keras.Input(batch_shape=x.shape, dtype=x.dtype) for x in graph.inputs]
    inputs = inputs if len(inputs) > 1 else inputs[0]
    output = graph._run_through_graph(inputs, operation_fn=operation_fn)  # noqa: SLF001
    full = [".".join(layer.name for layer in resolve_path(model, p)) for p in paths]
    missing = [p for p, f in zip(paths, full) if f not in found]
    if missing:
        raise ValueError(f"Layers {missing} of {model.name!r} are not on the path from its inputs to its outputs.")
    return keras.Model(inputs, [output, *[found[p] for p in full]], name=f"{model.name}_features")


def inference_model(model: keras.Model) -> keras.Model:
    """``model``'s forward pass with every foldable BatchNormalization folded into the convolution
    before it (:mod:`dlpy.models.batchnorm_folding`), in nested models too: the same outputs to float rounding,
    faster. It shares ``model``'s variables; use it for inference only. Taught in chapter 10."""
    extractor = _extractor(model, [], fold_batch_norm=True)
    inputs = extractor.inputs if len(extractor.inputs) > 1 else extractor.inputs[0]
    return keras.Model(inputs, extractor.outputs[0], name=f"{model.name}_inference")


def feature_model(model: keras.Model, layers: str | list[str], include_output: bool = False,
                  fold_batch_norm: bool = False) -> keras.Model:
    """A model from ``model``'s inputs to the outputs of ``layers`` (names or dotted paths through
    nested models), plus the model's own output last when ``include_output`` is true.

    ``feature_model(classifier, "mobilenet_0.75_224.conv_pw_13_relu", include_output=True)`` gives
    ``[activations, predictions]`` in one forward pass: what Grad-CAM needs.

    ``fold_batch_norm=True`` folds BatchNormalization into the convolution before it, as
    :func:`inference_model` does: faster, for inference only (it shares ``model``'s variables).
    """
    single = isinstance(layers, str)
    paths = [layers] if single else list(layers)
    if not paths:
        raise ValueError("Name at least one layer.")
    extractor = _extractor(model, paths, fold_batch_norm)
    outputs = list(extractor.outputs[1:])
    if include_output:
        outputs.append(extractor.outputs[0])
    inputs = extractor.inputs if len(extractor.inputs) > 1 else extractor.inputs[0]
    return keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs, name=f"{model.name}_features")


# --- class scores (chapters 09-11) ---------------------------------------------------------------

def class_score_source(model: keras.Model):
    """Where the class scores (pre-softmax logits) come from: ``(path, transform)`` such that
    ``transform(output of layer path)`` gives the logits, or ``None`` when the model's output
    already is a score (no softmax or sigmoid at the end).

    Grad-CAM and class visualization use logits: a probability saturates and its gradient vanishes.
    Taught in chapter 10.
    """
    last = model.layers[-1]
    activation = getattr(getattr(last, "activation", None), "__name__", "")
    if activation not in ("softmax", "sigmoid"):
        return None
    if isinstance(model, keras.Sequential):
        previous = model.layers[-2].name if len(model.layers) > 1 else None
    else:
        # The first call of the last layer is the one that built this model (feature models call it again).
        nodes = getattr(last, "_inbound_nodes", [])
        inputs = nodes[0].input_tensors if nodes else []
        previous = inputs[0]._keras_history.operation.name if len(inputs) == 1 else None  # noqa: SLF001
    if previous is None or previous not in {layer.name for layer in model.layers}:
        return None
    if isinstance(last, keras.layers.Activation):
        return previous, lambda h: h
    if isinstance(last, keras.layers.Dense):
        def dense_logits(h):
            z = keras.ops.matmul(h, last.kernel)
            return z + last.bias if last.use_bias else z
        return previous, dense_logits
    return None


def check_class_indices(indices, count: int, num_classes: int, *, name: str = "classes",
                        owner: str = "the model", what: str = "class", per: str = "image") -> np.ndarray:
    """``indices`` as an int32 array ``(count, k)``: one index for every item, one per item
    ``(count,)``, or ``k`` per item ``(count, k)``; each in ``[0, num_classes)``. A clear error names
    the value and the valid range otherwise.

    Args:
        indices: an integer, or an integer array of shape ``(count,)`` or ``(count, k)``.
        count: the number of items (images, steps, ...).
        num_classes: the number of valid indices.
        name: what the indices are called in error messages.
        owner: what has the classes, in error messages (e.g. ``"Model 'xception'"``).
        what: the word for one index in error messages, singular (``"class"``, ``"unit"``).
        per: the word for one item in error messages, singular (``"image"``, ``"step"``).

    Example::

        check_class_indices(386, count=2, num_classes=1000)  # array([[386], [386]], dtype=int32)

    Taught in chapter 10."""
    chosen = np.asarray(indices)
    if chosen.size == 0 or not np.issubdtype(chosen.dtype, np.integer):
        raise TypeError(f"{name} are integer indices; got {indices!r}.")
    if chosen.ndim == 0:
        chosen = np.full((count, 1), int(chosen))
    elif chosen.ndim == 1 and chosen.shape[0] == count:
        chosen = chosen[:, None]
    elif chosen.ndim != 2 or chosen.shape[0] != count:
        raise ValueError(f"Give one {what} per {per} ({count},), one for all, or an array ({count}, k) as {name}; "
                         f"got shape {chosen.shape}.")
    bad = chosen[(chosen < 0) | (chosen >= num_classes)]
    if bad.size:
        plural = what + ("es" if what.endswith("s") else "s")
        raise ValueError(f"{name} {int(bad[0])} is out of range: {owner} has {num_classes} {plural} "
                         f"(0 to {num_classes - 1}).")
    return chosen.astype("int32")
