"""Finding layers and reading their outputs in any Keras 3 model: Functional, Sequential, and
models nested inside models (a pretrained base inside a classifier).

A layer is addressed by its name, or by a dotted path through nested models:
``"mobilenet_0.75_224.conv_pw_13_relu"``. Taught in chapters 08-11.
"""

from __future__ import annotations

import keras


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


def _extractor(model: keras.Model, paths: list[str]) -> keras.Model:
    """A model with ``model``'s inputs whose outputs are ``[model output, *outputs at paths]``."""
    by_child: dict[str, list[str]] = {}
    direct: list[str] = []
    for path in paths:
        chain = resolve_path(model, path)
        if len(chain) == 1:
            direct.append(chain[0].name)
        else:
            by_child.setdefault(chain[0].name, []).append(".".join(layer.name for layer in chain[1:]))
    if isinstance(model, keras.Sequential) and not model._functional:  # noqa: SLF001 (unbuilt Sequential)
        raise ValueError(f"Model {model.name!r} is not built yet: call it on data or build() it first.")
    nested_extractors = {name: _extractor(model.get_layer(name), sub) for name, sub in by_child.items()}
    found: dict[str, object] = {}

    def operation_fn(operation):
        if operation.name in nested_extractors:
            extractor = nested_extractors[operation.name]

            def call(*args, **kwargs):
                outputs = extractor(*args, **kwargs)
                for sub_path, tensor in zip(by_child[operation.name], outputs[1:]):
                    found[f"{operation.name}.{sub_path}"] = tensor
                if operation.name in direct:  # the nested model's own output was asked for too
                    found[operation.name] = outputs[0]
                return outputs[0]
            return call
        if operation.name in direct:
            def call(*args, **kwargs):
                out = operation(*args, **kwargs)
                found[operation.name] = out
                return out
            return call
        return operation

    graph = model._functional if isinstance(model, keras.Sequential) else model  # noqa: SLF001
    inputs = [keras.Input(batch_shape=x.shape, dtype=x.dtype) for x in graph.inputs]
    inputs = inputs if len(inputs) > 1 else inputs[0]
    output = graph._run_through_graph(inputs, operation_fn=operation_fn)  # noqa: SLF001
    full = [".".join(layer.name for layer in resolve_path(model, p)) for p in paths]
    missing = [p for p, f in zip(paths, full) if f not in found]
    if missing:
        raise ValueError(f"Layers {missing} of {model.name!r} are not on the path from its inputs to its outputs.")
    return keras.Model(inputs, [output, *[found[p] for p in full]], name=f"{model.name}_features")


def feature_model(model: keras.Model, layers: str | list[str], include_output: bool = False) -> keras.Model:
    """A model from ``model``'s inputs to the outputs of ``layers`` (names or dotted paths through
    nested models), plus the model's own output last when ``include_output`` is true.

    ``feature_model(classifier, "mobilenet_0.75_224.conv_pw_13_relu", include_output=True)`` gives
    ``[activations, predictions]`` in one forward pass: what Grad-CAM needs.
    """
    single = isinstance(layers, str)
    paths = [layers] if single else list(layers)
    if not paths:
        raise ValueError("Name at least one layer.")
    extractor = _extractor(model, paths)
    outputs = list(extractor.outputs[1:])
    if include_output:
        outputs.append(extractor.outputs[0])
    inputs = extractor.inputs if len(extractor.inputs) > 1 else extractor.inputs[0]
    return keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs, name=f"{model.name}_features")
