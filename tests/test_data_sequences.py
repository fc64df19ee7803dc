"""The sequence chapters' data through the registry: the Jena climate series and the GloVe vectors,
on the real offline copies (prefixes of the book's files), and the errors when neither is there."""

import numpy as np
import pytest

from dlpy.data.glove import load_glove
from dlpy.data.jena import TEMPERATURE, load_jena
from dlpy.data.registry import DataNotAvailableError


def test_jena_offline_prefix_is_read_and_says_what_it_is():
    data = load_jena()
    if data.source == "full":
        pytest.skip("the full 2009-2016 file is cached: the prefix is not used")
    assert data.values.shape == (25_632, 14) and data.values.dtype == np.float32
    assert data.columns[:2] == ["p (mbar)", TEMPERATURE] and len(data.columns) == 14
    assert str(data.times[0]) == "2009-01-01T00:10" and str(data.times[-1]) == "2009-06-28T00:00"
    assert np.all(np.diff(data.times) == np.timedelta64(10, "m"))  # every step 10 minutes, no gaps
    assert data.column(TEMPERATURE)[0] == pytest.approx(-8.02)
    assert data.describe().startswith("the offline prefix (not the book's data): 25,632 rows, 2009-01-01T00:10")
    with pytest.raises(ValueError, match="No column 'T'; the columns are: p \\(mbar\\), T \\(degC\\)"):
        data.column("T")
    first = data.head(1_000)
    assert first.values.shape == (1_000, 14) and str(first.times[-1]) == str(data.times[999])
    assert data.head(None) is data
    with pytest.raises(ValueError, match="rows must be None or an integer of at least 2"):
        data.head(1)


def test_glove_offline_prefix_gives_vectors_coverage_and_an_embedding_matrix():
    glove = load_glove(100)
    if glove.source == "full":
        pytest.skip("the full GloVe zip is cached")
    assert len(glove.words) == 2_717 and glove.vectors.shape == (2_717, 100)
    assert glove.words[0] == "the" and glove.vectors[0, :3] == pytest.approx([-0.038194, -0.24487, 0.72812])
    vocabulary = ["", "[UNK]", "the", "movie", "awful"]
    assert glove.coverage(vocabulary) == pytest.approx(2 / 3)  # 'awful' is not among the 2,717 words
    matrix = glove.embedding_matrix(vocabulary)
    assert matrix.shape == (5, 100)
    np.testing.assert_array_equal(matrix[2], glove.vectors[glove.index["the"]])
    assert not matrix[[0, 1, 4]].any()


def test_without_any_copy_the_errors_name_both_files(keras_home):
    with pytest.raises(DataNotAvailableError, match=r"jena_climate_2009_2016.csv.zip(.|\n)*"
                                                    r"jena_climate_2009_prefix.csv is missing too"):
        load_jena()
    with pytest.raises(DataNotAvailableError, match=r"glove.6B.zip(.|\n)*holds 100 dimensions only"):
        load_glove(50)
    with pytest.raises(ValueError, match="GloVe 6B comes in 50, 100, 200, 300 dimensions; got dim=64"):
        load_glove(64)
