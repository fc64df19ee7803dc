"""The classroom edition of the course: exercises, student editions and autograding (issue 17).

Every chapter notebook is the *solution edition*: it ends with an Exercises section, and its
teaching copy (the cell tagged ``teaching-copy``) is exercise 1. ``dlpy assign`` turns chapters into
otter-grader assignments: a student notebook with the solutions taken out and ``grader.check("q1")``
cells, and an autograder; ``dlpy grade`` grades a folder of student notebooks into one CSV and one
feedback file per student. The checks themselves live in ``dlpy.classroom.checks.chapter_NN``, one
module per chapter, written as plain functions that raise ``AssertionError`` with a message for the
student; they become otter's exception-based tests.

Parts:
- ``checks``: the ``check`` decorator, ``Check`` and ``chapter_checks`` (a chapter's checks and its
  deliberately wrong answers, used by the tests).
- ``assign``: the otter master notebook of a chapter, and ``assign`` (``dlpy assign``).
- ``grade``: ``grade`` (``dlpy grade``).

otter-grader is an optional extra: ``pip install -e ".[classroom]"``.
"""

from dlpy import lazy_submodules

__getattr__ = lazy_submodules(__name__)
