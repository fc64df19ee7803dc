"""pytest runs the unit tests and every notebook (nbval) in the `smoke` profile unless told otherwise."""

import os

os.environ["DLPY_PROFILE"] = os.environ.get("DLPY_TEST_PROFILE", "smoke")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["DLPY_HEADLESS"] = "1"  # the notebooks' kernels inherit it: cfg.verbose == 2
