"""`accelerate launch ARGS...`, with a failed multi-process launch answered by its first error, once.

torch's launcher ends a failed launch with its ChildFailedError report: the launcher's own traceback and a
block per failed rank, about 180 lines on 8 GPUs, with the real error far above. Here the report is
replaced by the first failing rank's message, read from the error file that rank wrote (mmalign's CLI
writes its errors there: mmalign/cli/launch_errors.py). scripts/launch.sh runs this.

    python scripts/accelerate_launch.py --config_file configs/accelerate/ddp.yaml --num_processes 8 \\
        -m mmalign.cli.main train CONFIG [key=value ...]
"""

from __future__ import annotations

import subprocess
import sys

NO_MESSAGE = "To enable traceback"  # what torch puts in a failure whose rank wrote no error file


def failure_text(exc) -> str:
    """The first failure of a ChildFailedError as a few lines: which rank, its exit, its message."""
    rank, failure = exc.get_first_failure()
    message = failure.message
    if isinstance(message, dict):
        callstack = message.get("extraInfo", {}).get("py_callstack")
        message = message.get("message", "")
        if callstack:
            message += "\n  (its traceback is above, in the rank's output)"
    if not message or message.startswith(NO_MESSAGE):
        message = "it recorded no error; its output is above"
    return (f"launch failed: rank {rank} failed first (exit code {failure.exitcode}):\n  "
            + message.replace("\n", "\n  ").rstrip())


def main(argv: list[str]) -> int:
    from accelerate.commands.launch import launch_command, launch_command_parser
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError

    args = launch_command_parser().parse_args(argv)
    try:
        launch_command(args)
    except ChildFailedError as exc:
        print(failure_text(exc), file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:  # a single process: its own error is already printed above
        return exc.returncode or 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
