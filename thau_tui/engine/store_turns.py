"""Which process runs a turn in a chat: the mark Store.begin_turn and Store.claim_turn set in a
session's meta, and how another window tells whether its owner is still alive."""

from __future__ import annotations

import os
import socket
from typing import Any

# Turns run by this process, as (database path, session id): a session whose owner is this
# process but not in here was left behind by a turn that died without cleaning up.
_TURNS_HERE: set[tuple[str, str]] = set()


def _owner() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OSError:
        return False
    return True
