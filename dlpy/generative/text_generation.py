"""Character-level text generation with an LSTM: vectorization, the model, and samplers.

Taught in chapter 17.

The book generates text with a Python loop: for every new character it calls ``model.predict``
on the last 60 characters (one-hot encoded) and draws the next character with NumPy. That loop
is kept here as the reference (:func:`book_generate`). :class:`TextGenerator` produces the same
text, exactly, from one compiled TensorFlow graph, batched over temperatures and seeds.

Design of the fast sampler (an exact sliding window, not a stateful LSTM). A stateful sampler
would feed each new character once into an LSTM that carries its state along the whole text.
That is fast, but it shows the model contexts longer than the 60-character windows it was
trained on, so its text differs from the book's after the first 60 characters. Instead,
:class:`TextGenerator` computes exactly what the book computes, the LSTM run from a zero state
over the last 60 characters, without re-running 60 steps per character: it keeps 60 LSTM
states in flight ("lanes"), one for each window that is still being read. Each new character
is fed once to all lanes in a single batched cell step; the lane that has now read 60
characters holds the window's final state, gives the next-character distribution and is reset
to zero to start the next window. One batched matrix product per character replaces 60 small
sequential ones, and greedy decoding gives the same characters as the book's loop, all of them.
Models that are not a plain chain ``encoding -> one RNN layer -> head`` fall back to calling
the model on the sliding window of character ids, in the same compiled loop.

Speed (``benchmarks/bench_text_sampling.py``): on a CPU the lanes win by an order of magnitude
for one to a few sequences; for many sequences at once (64 and more) their large state matrix
leaves the cache and ``strategy="sliding window"`` can be as fast or faster. On a GPU the lanes
turn 60 small kernel launches per character into one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dlpy.course.arguments import integer_at_least

WINDOW = 60  # the book's maxlen
STEP = 3  # the book's stride between training windows


# --------------------------------------------------------------------------- vocabulary and data


@dataclass(frozen=True)
class CharVocabulary:
    """The sorted set of characters of a corpus and the mapping to and from integer ids.

    Taught in chapter 17.
    """

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> CharVocabulary:
        """Every distinct character of ``text``, sorted (57 for the lowercase Nietzsche corpus)."""
        if not text:
            raise ValueError("Cannot build a vocabulary from an empty text.")
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        return {char: i for i, char in enumerate(self.chars)}

    def encode(self, text: str) -> np.ndarray:
        """Character ids of ``text`` (int32); a clear ``ValueError`` for characters not in the vocabulary."""
        if not isinstance(text, str):
            raise TypeError(f"encode() needs a str, got {type(text).__name__}")
        index = self.index
        unknown = sorted(set(text) - index.keys())
        if unknown:
            raise ValueError(
                f"The text has characters that are not in the vocabulary: {unknown!r}. "
                "Lowercase it as the training corpus was (text.lower()), or remove those characters."
            )
        return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        """The text of a sequence of character ids."""
        return "".join(self.chars[int(i)] for i in np.asarray(ids).ravel())


def make_sequences(text: str, vocabulary: CharVocabulary, window: int = WINDOW, step: int = STEP):
    """The book's training data: windows of ``window`` characters every ``step`` characters, and
    the character that follows each.

    Returns ``(x, y)``: ``x`` int32 of shape (n, window), the character ids (the model one-hot
    encodes them in its first layer, so the 0.7 GB one-hot array of the book is never built),
    and ``y`` int32 of shape (n,), the next character's id. On the full corpus n = 200,278.
    Taught in chapter 17.
    """
    if window < 1 or step < 1:
        raise ValueError(f"window and step must be >= 1, got window={window}, step={step}")
    ids = vocabulary.encode(text)
    if len(ids) <= window:
        raise ValueError(f"The text has {len(ids)} characters: it needs more than window={window}.")
    starts = np.arange(0, len(ids) - window, step)
    x = ids[starts[:, None] + np.arange(window)]
    y = ids[starts + window]
    return x, y


# --------------------------------------------------------------------------- the model


def build_char_lstm(vocabulary_size: int, window: int = WINDOW, units: int = 128,
                    learning_rate: float = 0.01):
    """The book's model: one-hot characters -> ``LSTM(128)`` -> softmax over the next character,
    trained with RMSprop(0.01) on (sparse) categorical cross-entropy.

    The input is a window of character ids; a ``CategoryEncoding`` layer one-hot encodes them.
    Taught in chapter 17.
    """
    import keras

    inputs = keras.Input(shape=(window,), dtype="int32", name="char_ids")
    x = keras.layers.CategoryEncoding(vocabulary_size, output_mode="one_hot", name="one_hot")(inputs)
    x = keras.layers.LSTM(units, name="lstm")(x)
    outputs = keras.layers.Dense(vocabulary_size, activation="softmax", name="next_char")(x)
    model = keras.Model(inputs, outputs, name="char_lstm")
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy")
    return model


# --------------------------------------------------------------------------- temperature


def _check_temperature(temperature) -> float:
    temperature = float(temperature)
    if not np.isfinite(temperature) or temperature <= 0:
        raise ValueError(
            f"temperature must be > 0, got {temperature}. For the most likely character every time "
            "use greedy decoding (greedy=True) instead of temperature 0."
        )
    return temperature


def reweight_distribution(probabilities, temperature: float) -> np.ndarray:
    """The book's reweighting: ``p ** (1 / T)`` renormalized (computed as ``exp(log p / T)``).

    T < 1 sharpens the distribution towards its most likely entry, T > 1 flattens it.
    Works on the last axis. Taught in chapter 17.
    """
    temperature = _check_temperature(temperature)
    p = np.asarray(probabilities, dtype="float64")
    with np.errstate(divide="ignore"):
        logits = np.log(p) / temperature
    logits = logits - logits.max(axis=-1, keepdims=True)
    weights = np.exp(logits)
    return weights / weights.sum(axis=-1, keepdims=True)


def entropy_bits(probabilities) -> np.ndarray:
    """Shannon entropy in bits of a distribution (last axis). Taught in chapter 17."""
    p = np.asarray(probabilities, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log2(p), 0.0)
    return terms.sum(axis=-1)


def plot_temperatures(probabilities, vocabulary: CharVocabulary, temperatures=(0.2, 0.5, 1.0, 1.2),
                      top: int = 12, title: str | None = None):
    """One bar chart per temperature: how reweighting changes one predicted next-character
    distribution (its ``top`` most likely characters at T = 1) and its entropy in bits.

    Returns the matplotlib axes. Taught in chapter 17.
    """
    import matplotlib.pyplot as plt

    p = np.asarray(probabilities, dtype="float64").ravel()
    if p.size != vocabulary.size:
        raise ValueError(f"Expected {vocabulary.size} probabilities (one per character), got {p.size}.")
    order = np.argsort(p)[::-1][:top]
    labels = [repr(vocabulary.chars[i])[1:-1].replace(" ", "␣") or "?" for i in order]
    _, axes = plt.subplots(1, len(temperatures), figsize=(3.2 * len(temperatures), 3.0), sharey=True,
                           squeeze=False)
    for ax, temperature in zip(axes[0], temperatures):
        reweighted = reweight_distribution(p, temperature)
        ax.bar(range(len(order)), reweighted[order], color="C0" if temperature == 1 else "C1")
        ax.set_xticks(range(len(order)), labels, fontsize=9)
        ax.set_title(f"T = {temperature}   H = {entropy_bits(reweighted):.2f} bits", fontsize=10)
        ax.set_ylim(0, 1)
    axes[0][0].set_ylabel("probability of the next character")
    if title:
        plt.suptitle(title)
    plt.tight_layout()
    return axes[0]


def sample_next_char(probabilities, temperature: float, rng: np.random.Generator) -> int:
    """The book's ``sample()``: reweight by temperature and draw one index with NumPy.

    Taught in chapter 17.
    """
    p = reweight_distribution(probabilities, temperature)
    return int(np.argmax(rng.multinomial(1, p / p.sum())))


def _seed_window(seed_text: str, vocabulary: CharVocabulary, window: int) -> np.ndarray:
    if not isinstance(seed_text, str):
        raise TypeError(f"seed_text must be a str, got {type(seed_text).__name__}")
    if len(seed_text) < window:
        raise ValueError(
            f"The seed text has {len(seed_text)} characters; the model reads windows of {window}. "
            f"Give at least {window} characters (e.g. a slice of the corpus)."
        )
    return vocabulary.encode(seed_text[-window:])


def _check_length(length) -> int:
    return integer_at_least("length", length, unit=" number of characters")


def book_generate(model, vocabulary: CharVocabulary, seed_text: str, length: int,
                  temperature: float | None = 1.0, greedy: bool = False, seed: int = 0) -> str:
    """The book's generation loop, kept as the reference: for each character one ``model.predict``
    on the last ``window`` characters and one NumPy draw (:func:`sample_next_char`), or the
    argmax with ``greedy=True``. Slow (one Python round trip per character).

    Args:
        model: a trained character model: windows of ids (batch, window) to next-character probabilities.
        vocabulary: the :class:`CharVocabulary` the model was trained with.
        seed_text: at least ``window`` characters of the vocabulary; the last ``window`` are used.
        length: how many characters to generate.
        temperature: the sampling temperature (> 0); ignored with ``greedy=True``.
        greedy: always take the most likely character instead of drawing one.
        seed: the seed of the NumPy draws.

    Returns the generated characters, without the seed text.

    Example::

        text = book_generate(model, vocabulary, corpus[:60], 200, temperature=0.5)

    Taught in chapter 17.
    """
    window = int(model.input_shape[1])
    length = _check_length(length)
    if not greedy:
        temperature = _check_temperature(temperature)
    ids = list(_seed_window(seed_text, vocabulary, window))
    rng = np.random.default_rng(seed)
    generated = []
    for _ in range(length):
        probabilities = model.predict(np.array([ids[-window:]], dtype="int32"), verbose=0)[0]
        if greedy:
            next_id = int(np.argmax(probabilities))
        else:
            next_id = sample_next_char(probabilities, temperature, rng)
        ids.append(next_id)
        generated.append(next_id)
    return vocabulary.decode(generated)


# --------------------------------------------------------------------------- the compiled sampler


def choose_next_ids(probabilities, inverse_temperature, step_seed, top_k, greedy):
    """The next character ids (batch,) inside a compiled loop: argmax when ``greedy``, else a draw
    from ``softmax(log p / T)`` restricted to the ``top_k`` most likely characters, seeded by
    ``step_seed`` (stateless: the same seed, the same draw). Taught in chapter 17."""
    import tensorflow as tf

    probabilities = tf.cast(probabilities, tf.float32)
    logits = tf.math.log(tf.maximum(probabilities, 1e-30)) * inverse_temperature[:, None]
    _, top = tf.math.top_k(logits, k=top_k)
    keep = tf.reduce_max(tf.one_hot(top, tf.shape(logits)[-1]), axis=1) > 0
    logits = tf.where(keep, logits, tf.fill(tf.shape(logits), -np.inf))
    draw = tf.random.stateless_categorical(logits, 1, seed=step_seed, dtype=tf.int32)[:, 0]
    return tf.where(greedy, tf.argmax(probabilities, axis=-1, output_type=tf.int32), draw)


def sliding_window_loop(model, window_ids, inverse_temperature, length, seed, top_k, greedy):
    """The book's loop, compiled: ``length`` times, predict from the last ``window`` ids, choose the
    next id, slide the window by one. Works for any model. Returns ids (batch, length).

    Args:
        model: a character model: ids (batch, window) int32 to probabilities (batch, vocabulary size).
        window_ids: the starting windows, int32 (batch, window).
        inverse_temperature: ``1 / T`` for each row, float32 (batch,).
        length: how many ids to generate.
        seed: the seed of the stateless draws (step ``i`` draws with ``[seed, i]``).
        top_k: draw among the ``top_k`` most likely characters (the vocabulary size: all of them).
        greedy: a boolean: take the argmax instead of drawing.

    Example::

        ids = sliding_window_loop(model, window_ids, tf.constant([2.0]), 100, 0, vocabulary.size, False)

    Taught in chapter 17."""
    import tensorflow as tf

    output = tf.TensorArray(tf.int32, size=length)

    def body(step, ids, output):
        probabilities = model(ids, training=False)
        next_id = choose_next_ids(probabilities, inverse_temperature, tf.stack([seed, step]), top_k, greedy)
        ids = tf.concat([ids[:, 1:], next_id[:, None]], axis=1)
        return step + 1, ids, output.write(step, next_id)

    _, _, output = tf.while_loop(lambda step, *_: step < length, body, (0, window_ids, output))
    return tf.transpose(output.stack())


class RNNLanes:
    """The exact sliding window of a chain ``encoding -> one RNN layer -> head`` as ``window``
    "lanes" of RNN states (see the module docstring): lane ``t % window`` restarts from zero at
    character ``t``, every lane reads each new character once, and the lane that has read a whole
    window predicts the next one. One batched cell step per character instead of a whole window.
    Taught in chapter 17."""

    def __init__(self, encoders, rnn, head, window: int):
        self.encoders, self.rnn, self.head, self.window = list(encoders), rnn, list(head), int(window)

    @classmethod
    def from_model(cls, model, vocabulary_size: int):
        """Lanes for ``model`` when it is such a chain and the split reproduces it on random windows;
        else ``None``."""
        import keras

        layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
        rnn_positions = [i for i, layer in enumerate(layers) if isinstance(layer, keras.layers.RNN)]
        if len(rnn_positions) != 1:
            return None
        position = rnn_positions[0]
        rnn = layers[position]
        if (rnn.return_sequences or rnn.return_state or rnn.go_backwards or rnn.stateful
                or not hasattr(rnn.cell, "get_initial_state")):
            return None
        encoders = layers[:position]
        if not all(isinstance(layer, (keras.layers.CategoryEncoding, keras.layers.Embedding)) for layer in encoders):
            return None
        lanes = cls(encoders, rnn, layers[position + 1:], model.input_shape[1])
        ids = np.random.default_rng(0).integers(0, vocabulary_size, size=(2, lanes.window)).astype("int32")
        split = lanes.head_output(lanes.rnn(lanes.encode(ids), training=False))
        return lanes if np.allclose(np.asarray(split), np.asarray(model(ids, training=False)), atol=1e-5) else None

    def encode(self, ids):
        for layer in self.encoders:
            ids = layer(ids)
        return ids

    def head_output(self, h):
        for layer in self.head:
            h = layer(h, training=False)
        return h

    def loop(self, window_ids, inverse_temperature, length, seed, top_k, greedy):
        """Ids (batch, length), the same as :func:`sliding_window_loop` on the whole model.

        Args:
            window_ids, inverse_temperature, length, seed, top_k, greedy: as in :func:`sliding_window_loop`.

        Example::

            lanes = RNNLanes.from_model(model, vocabulary.size)
            ids = lanes.loop(window_ids, tf.constant([2.0]), 100, 0, vocabulary.size, False)
        """
        import tensorflow as tf

        batch = tf.shape(window_ids)[0]
        output = tf.TensorArray(tf.int32, size=length)
        lanes = self.window
        cell = self.rnn.cell
        zeros = [tf.zeros_like(s) for s in cell.get_initial_state(batch_size=lanes * batch)]
        states = [tf.identity(z) for z in zeros]
        lane_of_row = tf.repeat(tf.range(lanes), batch)  # row r of the states belongs to lane r // batch

        def feed(time, char_ids, states):
            """Start lane ``time % lanes`` from zero, then feed ``char_ids`` (batch,) to every lane."""
            restart = (lane_of_row == time % lanes)[:, None]
            states = [tf.where(restart, z, s) for z, s in zip(zeros, states)]
            x = tf.tile(self.encode(char_ids), [lanes, 1])
            out, new_states = cell(x, states, training=False)
            new_states = list(new_states) if isinstance(new_states, (list, tuple)) else [new_states]
            return out, new_states

        # read the seed; after character t, lane t % lanes started from zero at t has read it
        def read_seed(time, out, states):
            out, states = feed(time, window_ids[:, time], states)
            return time + 1, out, states

        out, states = feed(0, window_ids[:, 0], states)
        time, out, states = tf.while_loop(lambda t, *_: t < self.window, read_seed, (1, out, states))

        def body(step, time, out, states, output):
            complete = time % lanes  # the lane started at time - window has read a whole window
            h = tf.reshape(out, [lanes, batch, -1])[complete]
            probabilities = self.head_output(h)
            next_id = choose_next_ids(probabilities, inverse_temperature, tf.stack([seed, step]), top_k, greedy)
            out, states = feed(time, next_id, states)
            return step + 1, time + 1, out, states, output.write(step, next_id)

        _, _, _, _, output = tf.while_loop(lambda step, *_: step < length, body, (0, time, out, states, output))
        return tf.transpose(output.stack())


class TextGenerator:
    """Generate text from a trained character model in one compiled TensorFlow graph.

    ``model`` maps a window of character ids, shape (batch, window) int32, to next-character
    probabilities (batch, vocabulary size), like :func:`build_char_lstm`. One call of
    :meth:`generate` draws ``length`` characters for every (temperature, sample) pair at once:
    greedy (argmax), temperature or top-k sampling, reproducible for a given ``seed``.

    For a chain ``encoding -> one RNN layer -> head`` it runs :class:`RNNLanes`: the same characters
    as the book's loop, one batched cell step per character. Other models run
    :func:`sliding_window_loop`. ``strategy`` says which was chosen (``"auto"`` picks the lanes
    when it can; ``"sliding window"`` forces the simple loop, e.g. to compare speeds).
    Taught in chapter 17.
    """

    def __init__(self, model, vocabulary: CharVocabulary, strategy: str = "auto"):
        import tensorflow as tf

        if strategy not in ("auto", "lanes", "sliding window"):
            raise ValueError(f"strategy must be 'auto', 'lanes' or 'sliding window', got {strategy!r}")
        if len(model.inputs) != 1 or len(model.input_shape) != 2 or model.input_shape[1] is None:
            raise ValueError(
                "TextGenerator needs a model whose one input is a fixed-length window of character ids, "
                f"shape (batch, window); this model's input shape is {model.input_shape}."
            )
        if model.output_shape[-1] != vocabulary.size:
            raise ValueError(
                f"The model predicts {model.output_shape[-1]} classes but the vocabulary has "
                f"{vocabulary.size} characters: use the vocabulary the model was trained with."
            )
        self.model = model
        self.vocabulary = vocabulary
        self.window = int(model.input_shape[1])
        self.lanes = None if strategy == "sliding window" else RNNLanes.from_model(model, vocabulary.size)
        if strategy == "lanes" and self.lanes is None:
            raise ValueError(
                "strategy='lanes' needs a chain: character ids -> CategoryEncoding/Embedding -> one RNN layer "
                "(LSTM, GRU or SimpleRNN; last output only) -> head layers. Use strategy='auto' for other models."
            )
        self.strategy = "lanes" if self.lanes is not None else "sliding window"
        loop = self.lanes.loop if self.lanes is not None else (lambda *args: sliding_window_loop(model, *args))
        self._compiled = tf.function(loop, input_signature=[
            tf.TensorSpec([None, self.window], tf.int32, name="window_ids"),
            tf.TensorSpec([None], tf.float32, name="inverse_temperature"),
            tf.TensorSpec([], tf.int32, name="length"),
            tf.TensorSpec([], tf.int32, name="seed"),
            tf.TensorSpec([], tf.int32, name="top_k"),
            tf.TensorSpec([], tf.bool, name="greedy"),
        ])  # one trace serves every batch size, length, seed and decoding mode

    # -- public API

    def generate_ids(self, seed_text: str, length: int, temperatures=1.0, samples_per_temperature: int = 1,
                     top_k: int | None = None, greedy: bool = False, seed: int = 0) -> np.ndarray:
        """Character ids, shape (len(temperatures) * samples_per_temperature, length): row
        ``i * samples_per_temperature + j`` is sample j at temperature i. The arguments are
        :meth:`generate`'s.

        Args:
            seed_text: at least ``window`` characters of the vocabulary; the last ``window`` are used.
            length: how many characters to generate.
            temperatures: one temperature (> 0) or several; each divides the log-probabilities.
            samples_per_temperature: how many sequences to draw at each temperature.
            top_k: draw only among the k most likely characters, 1 to the vocabulary size (``None``: all).
            greedy: always take the most likely character (temperatures are then ignored: one temperature).
            seed: the draws' seed: the same seed gives the same ids.

        Example::

            ids = TextGenerator(model, vocabulary).generate_ids(corpus[:60], 100, temperatures=(0.5, 1.0))
        """
        import tensorflow as tf

        length = _check_length(length)
        temperatures = np.atleast_1d(np.asarray(temperatures if not greedy else [1.0], dtype="float64"))
        if temperatures.ndim != 1 or temperatures.size == 0:
            raise ValueError("temperatures must be a number or a non-empty list of numbers.")
        if not greedy:
            temperatures = np.array([_check_temperature(t) for t in temperatures])
        integer_at_least("samples_per_temperature", samples_per_temperature)
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) \
                    or not 1 <= top_k <= self.vocabulary.size:
                raise ValueError(f"top_k must be an integer from 1 to {self.vocabulary.size} "
                                 f"(the vocabulary size), or None; got {top_k!r}")
            if greedy:
                raise ValueError("Choose greedy=True or top_k, not both (greedy is top_k=1 without sampling).")
        window_ids = _seed_window(seed_text, self.vocabulary, self.window)
        rows = temperatures.size * int(samples_per_temperature)
        batch_windows = np.repeat(window_ids[None, :], rows, axis=0)
        inverse_temperature = np.repeat(1.0 / temperatures, samples_per_temperature).astype("float32")
        ids = self._compiled(tf.constant(batch_windows, tf.int32), tf.constant(inverse_temperature),
                             tf.constant(length, tf.int32), tf.constant(int(seed), tf.int32),
                             tf.constant(int(top_k or self.vocabulary.size), tf.int32), tf.constant(bool(greedy)))
        return ids.numpy()

    def generate(self, seed_text: str, length: int, temperatures=1.0, samples_per_temperature: int = 1,
                 top_k: int | None = None, greedy: bool = False, seed: int = 0) -> list[str]:
        """Continue ``seed_text`` by ``length`` characters, for every temperature and sample at once.

        Args:
            seed_text: at least ``window`` characters of the vocabulary; the last ``window`` are used.
            length: how many characters to generate.
            temperatures: one temperature (> 0) or several; each divides the log-probabilities.
            samples_per_temperature: how many texts to draw at each temperature.
            top_k: sample only among the k most likely characters (``None``: all of them).
            greedy: always take the most likely character (temperatures are then ignored).
            seed: the draws' seed: the same seed gives the same texts.

        Returns one string per row, ordered temperature by temperature (``samples_per_temperature``
        each).

        Example::

            TextGenerator(model, vocabulary).generate(corpus[:60], 400, temperatures=(0.2, 0.5, 1.0))

        Taught in chapter 17.
        """
        ids = self.generate_ids(seed_text, length, temperatures, samples_per_temperature, top_k, greedy, seed)
        return [self.vocabulary.decode(row) for row in ids]


# --------------------------------------------------------------------------- samples during training


def sample_callback(generator: TextGenerator, seed_text: str, epochs, temperatures=(0.2, 0.5, 1.0, 1.2),
                    length: int = 200, seed: int = 0, printed: bool = True):
    """A Keras callback that generates text at each temperature after the given epochs (1-based).

    The samples are kept in ``callback.samples``: ``{epoch: {temperature: text}}``.

    Args:
        generator: a :class:`TextGenerator` of the model being trained.
        seed_text: at least ``window`` characters to continue.
        epochs: the epochs (1-based) after which to generate, e.g. ``(1, 20, 40)``.
        temperatures: the sampling temperatures, one text each.
        length: the characters of each text.
        seed: the seed of the draws: after epoch ``e`` they use ``seed + e - 1``.
        printed: print the samples as they are made.

    Example::

        callback = sample_callback(TextGenerator(model, vocabulary), corpus[:60], epochs=(1, 20, 40))
        model.fit(x, y, batch_size=128, epochs=40, callbacks=[callback])

    Taught in chapter 17.
    """
    import keras

    wanted = {int(e) for e in epochs}
    temperatures = [float(t) for t in temperatures]

    class SampleText(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.samples: dict[int, dict[float, str]] = {}

        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 in wanted:
                self.sample(epoch + 1)

        def sample(self, epoch: int) -> dict[float, str]:
            """Generate at every temperature now and file the texts under ``epoch`` (1-based), e.g.
            for a run that ``fit_resumable`` loaded finished, where no epoch ends."""
            texts = generator.generate(seed_text, length, temperatures, seed=seed + epoch - 1)
            self.samples[epoch] = dict(zip(temperatures, texts))
            if printed:
                print(f"\n--- epoch {epoch}, seed: {seed_text[-generator.window:]!r}")
                for temperature, text in zip(temperatures, texts):
                    print(f"  T={temperature}: {text!r}")
            return self.samples[epoch]

    return SampleText()
