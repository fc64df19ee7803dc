"""The Nietzsche corpus of chapter 17: *Beyond Good and Evil* as one lowercase string.

Taught in chapter 17.
"""

from __future__ import annotations

from dlpy.data.registry import fetch


def load_nietzsche(lowercase: bool = True) -> str:
    """The whole text of ``nietzsche.txt`` from the Keras cache (``dlpy.data.fetch("nietzsche")``).

    With ``lowercase=True`` (the book's choice) the corpus has 600,893 characters and 57 distinct
    ones. Taught in chapter 17.
    """
    path = fetch("nietzsche")
    text = path.read_text(encoding="utf-8")
    return text.lower() if lowercase else text
