"""The ``dlpy`` command: run the course, check the setup, list data and results, store notebooks clean."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path


def _cmd_run(args) -> int:
    from dlpy.course import notebooks, runner
    from dlpy.course.results import build_dir, format_table, load_results
    from dlpy.course.settings import resolve_profile

    if not args.chapters and not args.all:
        print("Name chapters (`dlpy run 01 05`) or run them all (`dlpy run --all`).", file=sys.stderr)
        return 2
    try:
        selected = notebooks.chapters() if args.all else notebooks.select(args.chapters)
        profile = resolve_profile(args.profile)
    except (ValueError, FileNotFoundError) as error:
        print(error, file=sys.stderr)
        return 2
    build = Path(args.build_dir) if args.build_dir else build_dir()
    print(f"Running {len(selected)} notebook(s), profile {profile}, into {build}/")
    failures = []
    for number, path in enumerate(selected, 1):
        print(f"[{number}/{len(selected)}] {path.stem:<40}", end="", flush=True)
        result = runner.execute(path, profile, build, timeout=args.timeout, html=not args.no_html)
        print(f"{'ok' if result.ok else 'FAILED':<7}{result.seconds:7.1f} s", flush=True)
        for warning in result.warnings:
            print(f"  printed a warning: {warning}")
        if not result.ok:
            failures.append(result)
            print(f"  {path} failed at {result.error}", file=sys.stderr)
    chapters = {p.stem for p in selected}
    rows = [r for r in load_results(build / "results.json") if r["chapter"] in chapters and r["profile"] == profile]
    print()
    print(format_table(rows))
    if failures:
        print(f"\n{len(failures)} notebook(s) failed: {', '.join(f.notebook.stem for f in failures)}", file=sys.stderr)
        return 1
    return 0


def _cmd_results(args) -> int:
    from dlpy.course.results import format_table, load_results, results_path

    rows = load_results()
    if args.profile:
        rows = [r for r in rows if r["profile"] == args.profile]
    print(f"{results_path()}\n")
    print(format_table(rows))
    return 0


def _cmd_data(args) -> int:
    from dlpy.data.registry import REGISTRY, keras_home, link_cache, status

    if args.link:
        made = link_cache(Path(args.link))
        print(f"Linked {len(made)} file(s) from {args.link} into {keras_home()}")
    print(f"Keras cache: {keras_home()}\n")
    width = max(len(name) for name in REGISTRY)
    counts = {}
    for entry in REGISTRY.values():
        state = status(entry)
        counts[state] = counts.get(state, 0) + 1
        size = f"{entry.size / 1e6:8.1f} MB" if entry.size else " " * 11
        print(f"{entry.name:<{width}}  {state:<8} {size}  {entry.cache_subdir}/{entry.fname}")
    print("\n" + ", ".join(f"{n} {state}" for state, n in sorted(counts.items())))
    if counts.get("corrupt"):
        return 1
    return 0


def _cmd_doctor(args) -> int:
    import platform

    import keras
    import numpy
    import tensorflow as tf

    import dlpy
    from dlpy.course.results import build_dir
    from dlpy.course.settings import describe_device, resolve_profile
    from dlpy.data.registry import REGISTRY, keras_home, status

    print(f"dlpy        {dlpy.__version__}")
    print(f"Python      {platform.python_version()}")
    print(f"Keras       {keras.__version__} (backend: {keras.backend.backend()})")
    print(f"TensorFlow  {tf.__version__} (built with CUDA: {tf.test.is_built_with_cuda()})")
    print(f"NumPy       {numpy.__version__}")
    print(f"device      {describe_device()}")
    print(f"profile     {resolve_profile()} (DLPY_PROFILE or the device decides)")
    print(f"KERAS_HOME  {keras_home()}")
    print(f"build       {build_dir()}")
    states = {name: status(entry) for name, entry in REGISTRY.items()}
    present = [n for n, s in states.items() if s == "present"]
    print(f"data        {len(present)}/{len(states)} files cached")
    for name, state in states.items():
        if state != "present":
            print(f"  {state:<8} {name}: {REGISTRY[name].note or REGISTRY[name].description}")
    return 0


def _cmd_strip(args) -> int:
    import nbformat

    from dlpy.course import notebooks, runner

    status_code = 0
    for name in args.notebooks:
        path = Path(name)
        if args.execute:
            with tempfile.TemporaryDirectory() as tmp:
                result = runner.execute(path, "smoke", Path(tmp), html=False)
                if not result.ok:
                    print(f"{path}: execution failed, left unchanged\n  {result.error}", file=sys.stderr)
                    status_code = 1
                    continue
                notebook = nbformat.read(result.executed, as_version=4)
        else:
            notebook = nbformat.read(path, as_version=4)
        notebooks.strip(notebook)
        nbformat.write(notebook, path)
        checked = sum(notebooks.is_checked(c) for c in notebook.cells)
        print(f"{path}: stored clean ({checked} checked cell(s) keep their outputs)")
    return status_code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dlpy", description="Deep Learning with Python, runnable.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="execute chapters headless into build/ and print their results")
    run.add_argument("chapters", nargs="*", help="chapter numbers or slugs (01, 5, grad_cam)")
    run.add_argument("--all", action="store_true", help="every chapter, in order")
    run.add_argument("--profile", choices=["smoke", "quick", "full"], help="default: $DLPY_PROFILE, else by device")
    run.add_argument("--build-dir", help="default: build/ in the checkout")
    run.add_argument("--timeout", type=int, default=None, help="seconds allowed per cell")
    run.add_argument("--no-html", action="store_true", help="skip the HTML copies")
    run.set_defaults(func=_cmd_run)

    results = sub.add_parser("results", help="print the results table")
    results.add_argument("--profile", choices=["smoke", "quick", "full"])
    results.set_defaults(func=_cmd_results)

    data = sub.add_parser("data", help="list every data and weight file: present, missing or corrupt")
    data.add_argument("--link", metavar="DIR", help="first link the files of an offline copy (laid out like "
                                                     "the Keras cache) into $KERAS_HOME")
    data.set_defaults(func=_cmd_data)

    doctor = sub.add_parser("doctor", help="versions, devices, profile, cache and data")
    doctor.set_defaults(func=_cmd_doctor)

    strip = sub.add_parser("strip", help="store notebooks clean: outputs only in # NBVAL_CHECK_OUTPUT cells")
    strip.add_argument("notebooks", nargs="+")
    strip.add_argument("--execute", action="store_true", help="first execute under the smoke profile")
    strip.set_defaults(func=_cmd_strip)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
