"""The Jena climate timeseries: 14 weather quantities every 10 minutes at the Max Planck Institute
for Biogeochemistry, Jena (the book's forecasting data, 2nd edition ch. 10).

:func:`load_jena` reads the book's file, ``jena_climate_2009_2016.csv.zip`` (2009-2016, 420,451
rows), when it is in the Keras cache or can be downloaded; offline it falls back on the real prefix
of that file the course ships (25,632 rows, January to June 2009) and says so. Never take the
prefix's numbers for the book's: half a year is not eight. Taught in chapter 13.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dlpy.data.registry import DataNotAvailableError, extract, fetch, get_entry, status

FULL, PREFIX = "jena_climate", "jena_climate_prefix"
TEMPERATURE = "T (degC)"


@dataclass
class JenaData:
    """The series: ``values`` (rows, 14) float32, ``columns`` their names (``"T (degC)"``...),
    ``times`` (rows,) ``datetime64[m]``, and which file they came from (``source``: ``"full"`` or
    ``"prefix"``, ``path``). Taught in chapter 13."""

    values: np.ndarray
    columns: list[str]
    times: np.ndarray
    source: str
    path: Path

    def column(self, name: str) -> np.ndarray:
        """One quantity by name, e.g. ``data.column("T (degC)")``."""
        if name not in self.columns:
            raise ValueError(f"No column {name!r}; the columns are: {', '.join(self.columns)}")
        return self.values[:, self.columns.index(name)]

    def head(self, rows: int | None) -> JenaData:
        """The first ``rows`` readings (``None``: all of them), e.g. to keep a smoke test short."""
        if rows is None:
            return self
        if isinstance(rows, bool) or not isinstance(rows, int) or rows < 2:
            raise ValueError(f"rows must be None or an integer of at least 2, got {rows!r}.")
        return JenaData(self.values[:rows], self.columns, self.times[:rows], self.source, self.path)

    def describe(self) -> str:
        """One line: which file, how many rows, from when to when."""
        which = "the full 2009-2016 file" if self.source == "full" else "the offline prefix (not the book's data)"
        step = int((self.times[1] - self.times[0]) / np.timedelta64(1, "m"))
        return f"{which}: {len(self.values):,} rows, {self.times[0]} to {self.times[-1]}, one every {step} minutes"


def jena_csv() -> tuple[Path, str]:
    """``(path of the CSV, "full" or "prefix")``: the full file where it is cached or can be
    downloaded, else the offline prefix; an error naming both when neither is there."""
    if status(get_entry(FULL)) == "present" or status(get_entry(PREFIX)) != "present":
        try:
            folder = extract(FULL)
            return next(folder.rglob("*.csv")), "full"
        except DataNotAvailableError as full_missing:
            if status(get_entry(PREFIX)) != "present":
                raise DataNotAvailableError(f"{full_missing}\n(The offline prefix {get_entry(PREFIX).fname} is "
                                            "missing too: `dlpy data --link DIR` links an offline copy.)") from None
    return fetch(PREFIX), "prefix"


def load_jena() -> JenaData:
    """The Jena climate series (see the module's docstring for which file). Taught in chapter 13."""
    path, source = jena_csv()
    with open(path, newline="") as f:
        rows = csv.reader(f)
        header = next(rows)
        stamps, values = [], []
        for row in rows:
            stamps.append(row[0])
            values.append(row[1:])
    times = np.array([f"{s[6:10]}-{s[3:5]}-{s[0:2]}T{s[11:16]}" for s in stamps], dtype="datetime64[m]")
    return JenaData(np.array(values, dtype="float32"), header[1:], times, source, path)  # stamps: dd.mm.yyyy HH:MM
