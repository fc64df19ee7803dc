"""IMDB and Reuters loaders (chapters 01, 02, 04): multi-hot encoding against NumPy references,
decoding round trips, subsets, bad input and the missing-file error."""

import json
import re
from collections import Counter

import numpy as np
import pytest

from dlpy.data import REGISTRY, DataNotAvailableError, imdb, keras_home, reuters
from dlpy.data.multi_hot import balanced_subset, multi_hot, word_index_vocabulary

# A hand-made corpus whose word counts have no ties near the cut, so the vocabulary order is certain.
CORPUS_TRAIN = [
    "the movie was great great great",
    "the plot was bad, the acting BAD!",
    "the the great film",
    "bad ending",
]
CORPUS_TEST = ["great acting", "an unknown word and the plot"]


def reference_multi_hot(train, test, num_words):
    """Independent NumPy reference: lowercase, drop punctuation, split on spaces; keep the
    num_words - 1 most frequent training words after [UNK] at column 0."""
    tokenize = lambda text: re.sub(r"[^\w\s]", "", text.lower()).split()  # noqa: E731
    counts = Counter(w for text in train for w in tokenize(text))
    vocabulary = ["[UNK]"] + [w for w, _ in counts.most_common(num_words - 1)]
    column = {w: j for j, w in enumerate(vocabulary)}

    def encode(texts):
        out = np.zeros((len(texts), len(vocabulary)), dtype=np.uint8)
        for i, text in enumerate(texts):
            for w in tokenize(text):
                out[i, column.get(w, 0)] = 1
        return out

    return encode(train), encode(test), vocabulary


def test_multi_hot_matches_a_loop():
    rng = np.random.default_rng(0)
    sequences = [list(rng.integers(0, 50, size=rng.integers(0, 30))) for _ in range(40)] + [[]]
    expected = np.zeros((len(sequences), 50), dtype=np.uint8)
    for i, seq in enumerate(sequences):
        for j in seq:
            expected[i, j] = 1
    got = multi_hot(sequences, 50)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)


def test_multi_hot_rejects_indices_outside_the_vocabulary():
    with pytest.raises(ValueError, match="num_words=5"):
        multi_hot([[1, 2, 7]], 5)


def test_vectorize_texts_matches_numpy_reference():
    for num_words in (4, 5):  # counts: the 5, great 4, bad 3, was 2, then ties at 1
        x_train, (x_test,), vocabulary = imdb.vectorize_texts(CORPUS_TRAIN, [CORPUS_TEST], num_words)
        ref_train, ref_test, ref_vocabulary = reference_multi_hot(CORPUS_TRAIN, CORPUS_TEST, num_words)
        assert vocabulary == ref_vocabulary
        np.testing.assert_array_equal(x_train, ref_train)
        np.testing.assert_array_equal(x_test, ref_test)
        assert x_train.dtype == np.uint8


def test_vocabulary_comes_from_training_texts_only():
    data = imdb.reviews_from_texts(CORPUS_TRAIN, [1, 0, 1, 0], CORPUS_TEST, [1, 0], num_words=100)
    assert "unknown" not in data.vocabulary and "an" not in data.vocabulary
    assert data.x_test[1, 0] == 1  # its unseen words all land in [UNK]


def test_review_decoding_round_trip():
    data = imdb.reviews_from_texts(CORPUS_TRAIN, [1, 0, 1, 0], CORPUS_TEST, [1, 0], num_words=100)
    # every training word is in the vocabulary: decoding gives the standardized text back
    assert data.decode(1) == "the plot was bad the acting bad"
    assert data.decode(1, "test") == "[UNK] [UNK] [UNK] [UNK] the plot"
    assert data.decode(0, max_words=3) == "the movie was"
    # the decoded tokens are exactly the words the multi-hot row holds
    for split, x in (("train", data.x_train), ("test", data.x_test)):
        for i in range(len(x)):
            assert sorted(set(data.token_indices(i, split))) == list(np.flatnonzero(x[i]))
    assert data.words(data.x_train[2]) == sorted(set("the great film".split()), key=data.vocabulary.index)
    with pytest.raises(ValueError, match="'train' or 'test'"):
        data.decode(0, split="validation")


def test_word_index_vocabulary_uses_offset_3(tmp_path):
    path = tmp_path / "word_index.json"
    path.write_text(json.dumps({"the": 1, "movie": 2, "great": 3, "rare": 50}))
    vocabulary = word_index_vocabulary(path, 7)
    # ranks start at 1, so index 3 is never used and "the" (rank 1) is index 4
    assert vocabulary == ["[PAD]", "[START]", "[UNK]", "", "the", "movie", "great"]


def fake_keras_imdb(monkeypatch, tmp_path):
    """keras.datasets.imdb with a tiny hand-made corpus (imdb.npz is not available offline)."""
    import keras

    index = tmp_path / "imdb_word_index.json"
    index.write_text(json.dumps({"the": 1, "film": 2, "good": 3, "bad": 4}))
    train = [[1, 4, 5, 6], [1, 4, 7, 2], [1, 7, 7], [1, 2, 5], [1, 4, 6, 5], [1, 7]]
    test = [[1, 4, 6], [1, 4, 7]]
    arrays = ((np.array(train, dtype=object), np.array([1, 0, 0, 1, 1, 0])),
              (np.array(test, dtype=object), np.array([1, 0])))
    monkeypatch.setattr(imdb, "fetch", lambda name: index)
    monkeypatch.setattr(imdb, "show_to_keras", lambda name: None)  # no imdb.npz offline: the arrays are faked
    monkeypatch.setattr(keras.datasets.imdb, "load_data", lambda num_words=None: arrays)
    return train, test


def test_keras_route_multi_hots_and_decodes_with_offset_3(monkeypatch, tmp_path):
    train, test = fake_keras_imdb(monkeypatch, tmp_path)
    data = imdb.load_imdb(num_words=8, source="keras")
    assert data.x_train.shape == (6, 8) and data.x_train.dtype == np.uint8
    assert sorted(map(tuple, data.texts_train)) == sorted(map(tuple, train))
    np.testing.assert_array_equal(data.x_train, multi_hot(data.texts_train, 8))
    i = [tuple(s) for s in data.texts_train].index((1, 4, 7, 2))
    assert data.decode(i) == "[START] the bad [UNK]"
    assert sorted(data.decode(j, "test") for j in range(2)) == ["[START] the bad", "[START] the good"]


def test_keras_route_subset_is_balanced_and_seeded(monkeypatch, tmp_path):
    fake_keras_imdb(monkeypatch, tmp_path)
    a = imdb.load_imdb(num_words=8, source="keras", train_size=4, seed=3)
    b = imdb.load_imdb(num_words=8, source="keras", train_size=4, seed=3)
    assert a.x_train.shape == (4, 8) and a.y_train.sum() == 2
    np.testing.assert_array_equal(a.x_train, b.x_train)


def test_balanced_subset():
    labels = np.array([0] * 30 + [1] * 10 + [2] * 20)
    chosen = balanced_subset(labels, 9, seed=0)
    assert len(set(chosen)) == 9
    assert np.bincount(labels[chosen]).tolist() == [3, 3, 3]
    assert sorted(balanced_subset(labels, None, seed=0)) == list(range(60))
    with pytest.raises(ValueError, match="only 10"):
        balanced_subset(labels, 45, seed=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"source": "tfds"}, "'reviews', 'keras'"),
    ({"num_words": 2}, "num_words"),
    ({"train_size": 30_000}, "train_size"),
])
def test_bad_arguments_name_the_choices(kwargs, message):
    with pytest.raises(ValueError, match=message):
        imdb.load_imdb(**kwargs)


@pytest.mark.parametrize("loader, fname", [
    (lambda: imdb.load_imdb(), "aclImdb.tar.gz"),
    (lambda: imdb.load_imdb(source="keras"), "imdb.npz"),
    (lambda: reuters.load_reuters(), "reuters.npz"),
])
def test_missing_file_names_the_file_and_url(monkeypatch, tmp_path, loader, fname):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(DataNotAvailableError) as error:
        loader()
    entry = next(e for e in REGISTRY.values() if e.fname == fname)
    assert fname in str(error.value) and entry.origin in str(error.value)
    assert str(tmp_path) in str(error.value)


needs_reuters = pytest.mark.skipif(not (keras_home() / "datasets" / "reuters.npz").exists(),
                                   reason="reuters.npz is not in the Keras cache")
needs_aclimdb = pytest.mark.skipif(not (keras_home() / "datasets" / "aclImdb.tar.gz").exists(),
                                   reason="aclImdb.tar.gz is not in the Keras cache")


@needs_reuters
def test_reuters_real_data():
    data = reuters.load_reuters(num_words=10_000)
    assert data.x_train.shape == (8982, 10_000) and data.x_test.shape == (2246, 10_000)
    assert len(data.class_names) == 46 and set(np.unique(data.y_train)) == set(range(46))
    assert data.decode(0).startswith("[START] [UNK] [UNK] said as a result of its december acquisition of space co")
    np.testing.assert_array_equal(data.x_train[:50], multi_hot(data.texts_train[:50], 10_000))
    small = reuters.load_reuters(train_size=100)
    assert small.x_train.shape == (100, 10_000)


@needs_aclimdb
def test_imdb_reviews_subset_real_data(monkeypatch, tmp_path):
    data = imdb.load_imdb(train_size=30, test_size=11, cache=False)
    assert data.x_train.shape[0] == 30 and data.x_test.shape[0] == 11
    assert data.y_train.sum() == 15 and data.y_test.sum() in (5, 6)
    assert data.vocabulary[0] == "[UNK]" and data.x_train.dtype == np.uint8
    assert all("<br />" not in t for t in data.texts_train)
    for i in range(5):
        assert sorted(set(data.token_indices(i))) == list(np.flatnonzero(data.x_train[i]))
    again = imdb.load_imdb(train_size=30, test_size=11, cache=False)
    assert again.texts_train == data.texts_train  # seeded: the same reviews in the same order


def test_cache_storage_round_trip(tmp_path):
    rng = np.random.default_rng(5)
    x_train = (rng.random((7, 40)) < 0.2).astype(np.uint8)
    x_test = (rng.random((3, 40)) < 0.2).astype(np.uint8)
    x_test[1] = 0  # an empty review
    texts_train = [f"review {i} ünïcode" for i in range(7)]
    texts_test = ["a", "", "c"]
    path = tmp_path / "cache.npz"
    imdb._save_cache(path, x_train, np.ones(7, "float32"), x_test, np.zeros(3, "float32"),
                     [f"w{j}" for j in range(40)], texts_train, texts_test)
    with np.load(path) as stored:
        np.testing.assert_array_equal(imdb._dense_from_columns(stored, "x_train", 40), x_train)
        np.testing.assert_array_equal(imdb._dense_from_columns(stored, "x_test", 40), x_test)
        assert imdb._unpack_texts(stored["train_blob"], stored["train_offsets"]) == texts_train
        assert imdb._unpack_texts(stored["test_blob"], stored["test_offsets"]) == texts_test
