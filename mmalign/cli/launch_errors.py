"""A rank's error, handed to the launcher that started it (torchrun, `accelerate launch`), so it is told once.

Every rank of a multi-process launch usually hits the same mistake (a missing data file, a model name while
offline); eight ranks each printing it, followed by the launcher's report of eight failures, bury the
message in ~180 lines. torch's launcher gives every rank an error file (TORCHELASTIC_ERROR_FILE, what
torch's `@record` writes) and reads the failures from it: the report of torchrun and `accelerate launch`
shows each failed rank's message, and `scripts/accelerate_launch.py` prints only the first failure's. So
under such a launcher a rank writes its user error there instead of printing it.
"""

from __future__ import annotations

import json
import os
import time


def tell_launcher(message: str, callstack: str | None = None) -> bool:
    """Write `message` (and the traceback, for errors that are not the user's) to this rank's error file.

    Returns True when it was written: the launcher reports it, so the caller need not print it. Outside a
    launcher nothing is written and the answer is False.
    """
    path = os.environ.get("TORCHELASTIC_ERROR_FILE")
    if not path:
        return False
    # The layout torch's ErrorHandler.record_exception writes; without "py_callstack" the report shows the
    # message instead of a traceback.
    extra = {"timestamp": str(int(time.time())), **({"py_callstack": callstack} if callstack else {})}
    try:
        with open(path, "w") as fh:
            json.dump({"message": {"message": message, "extraInfo": extra}}, fh)
    except OSError:
        return False  # no report will carry it: print it here
    return True
