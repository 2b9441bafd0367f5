"""Blocking work off the caller's thread, its results streamed back: the one bridge.

The engine's slow parts block: llama.cpp decodes on the model thread (backend.py), and
each tool call runs in a thread of its own. `LoopStream` carries what such work produces
(text, a tool's output, a question for the user) onto the asyncio loop in order, then
its result; `relay` does the same for a caller that is itself a plain thread.

Nothing here knows about models or tools: the agent and the backend say what runs where.
"""

from __future__ import annotations

import asyncio
import functools
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Awaitable, Callable, Generator, Generic, TypeVar

T = TypeVar("T")
E = TypeVar("E")
R = TypeVar("R")

# Starts a job on some thread: MODEL_THREAD.submit, or `new_thread(name)`.
Start = Callable[[Callable[[], None]], object]


def new_thread(name: str) -> Start:
    """A Start that runs each job on a new daemon thread called `name` (a job still running
    never holds up interpreter exit)."""

    def start(job: Callable[[], None]) -> None:
        threading.Thread(target=job, name=name, daemon=True).start()

    return start


@dataclass
class _Returned(Generic[R]):
    value: R


@dataclass
class _Raised:
    error: BaseException


class _Ended:
    """The producer in `relay` is done."""


class LoopStream(Generic[E, R]):
    """Blocking work run off the asyncio loop, with what it posts streamed back to the loop.

    Made on the loop. The work (on the thread `start` gives it) calls `post` for each item;
    `run` yields them on the loop in the order they were posted, and once the work has
    returned, `result()` is its return value (or raises what it raised). Posting after the
    loop has closed does nothing: nobody is waiting any more.
    """

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[E | _Returned[R] | _Raised] = asyncio.Queue()
        self._end: _Returned[R] | _Raised | None = None

    # --- from the work's thread ----------------------------------------------------
    def post(self, item: E) -> None:
        """Hand `item` to the loop (any thread)."""
        self.call_soon(functools.partial(self._queue.put_nowait, item))

    def call_soon(self, fn: Callable[[], object]) -> None:
        """Run fn() on the loop soon (any thread), after everything posted before."""
        try:
            self._loop.call_soon_threadsafe(fn)
        except RuntimeError:  # the loop closed
            pass

    def call_later(self, delay: float, fn: Callable[[], object]) -> None:
        """Run fn() on the loop in `delay` seconds (any thread)."""
        self.call_soon(functools.partial(self._loop.call_later, delay, fn))

    def wait_for(self, make: Callable[[], Awaitable[T]]) -> T:
        """From the work's thread: run `make()` on the loop and block until it is done.
        Its items posted meanwhile (e.g. a question with a future in it) still arrive in order."""

        async def run() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    # --- on the loop ---------------------------------------------------------------
    def put(self, item: E) -> None:
        """On the loop: hand `item` over now (other threads use `post`)."""
        self._queue.put_nowait(item)

    async def run(self, work: Callable[[], R], start: Start) -> AsyncIterator[E]:
        """Start `work` with `start` and yield what it posts until it returns."""

        def job() -> None:
            end: _Returned[R] | _Raised
            try:
                end = _Returned(work())
            except BaseException as exc:  # noqa: BLE001 - handed to result()
                end = _Raised(exc)
            self.call_soon(functools.partial(self._queue.put_nowait, end))

        start(job)
        while True:
            item = await self._queue.get()
            if isinstance(item, (_Returned, _Raised)):
                self._end = item
                return
            yield item

    def finish(self, value: R) -> None:
        """On the loop: end `run` now with `value` as the result, without waiting for the work
        (which goes on in its thread; what it posts or returns later is not read)."""
        self._queue.put_nowait(_Returned(value))

    def result(self) -> R:
        """What the work returned; raises what it raised. Only after `run` has ended."""
        if self._end is None:
            raise RuntimeError("the work has not finished")
        if isinstance(self._end, _Raised):
            raise self._end.error
        return self._end.value


class _Paced(Generic[E, R]):
    """What the work's thread hands the loop at most every `interval` seconds: the first at
    once, then what gathered meanwhile (`_keep` adds an item, `_take` makes what goes)."""

    def __init__(self, stream: LoopStream[E, R], interval: float) -> None:
        self._stream, self._interval = stream, interval
        self._lock = threading.Lock()
        # when items were last handed over (time.monotonic); never yet: the first goes at once
        # even where the monotonic clock is young (it counts from boot)
        self._last = float("-inf")

    def _keep(self, item: Any) -> bool:
        """Add `item` to what waits (under the lock); whether nothing waited before."""
        raise NotImplementedError

    def _take(self) -> E | None:
        """What waits, as one item for the loop, and forget it (under the lock)."""
        raise NotImplementedError

    def add(self, item: Any) -> None:
        """The work's thread: one more item."""
        with self._lock:
            wake = self._keep(item)
        if wake:
            wait = self._last + self._interval - time.monotonic()
            if wait <= 0:
                self._stream.call_soon(self._drain)
            else:
                self._stream.call_later(wait, self._drain)

    def flush(self) -> None:
        """The work's thread, before the work returns: what waits reaches the loop before the end."""
        self._stream.call_soon(self._drain)

    def _drain(self) -> None:
        self._last = time.monotonic()
        with self._lock:
            item = self._take()
        if item is not None:
            self._stream.put(item)


class TextBatches(_Paced[E, R]):
    """Text from the work's thread handed to the loop in batches, each as `make(text)`: the
    loop then wakes once per batch, not once per token."""

    def __init__(self, stream: LoopStream[E, R], make: Callable[[str], E], interval: float) -> None:
        super().__init__(stream, interval)
        self._make = make
        self._pending: list[str] = []

    def _keep(self, item: Any) -> bool:
        self._pending.append(item)
        return len(self._pending) == 1

    def _take(self) -> E | None:
        text = "".join(self._pending)
        self._pending.clear()
        return self._make(text) if text else None


class Latest(_Paced[E, R]):
    """Items of which only the newest matters (a tool's progress). A hostile MCP server's
    flood of 3,000 progress notices woke the loop once each, drew each on the card, and Esc
    waited 51 s behind them (attacker review)."""

    def __init__(self, stream: LoopStream[E, R], interval: float) -> None:
        super().__init__(stream, interval)
        self._pending: E | None = None

    def _keep(self, item: Any) -> bool:
        wake, self._pending = self._pending is None, item
        return wake

    def _take(self) -> E | None:
        item, self._pending = self._pending, None
        return item


def relay(produce: Callable[[], Generator[T, None, None]], start: Start) -> Generator[T, None, None]:
    """Iterate here, on this thread, a generator that runs on another (the one `start` gives).

    Items pass through a queue as they come; an exception there is raised here. Closing
    this iterator early stops the producer at its next item and waits for it to finish,
    so whatever the producer fills in (stats) is final when close() returns."""
    items: queue.SimpleQueue[T | _Raised | _Ended] = queue.SimpleQueue()
    stop = threading.Event()

    def job() -> None:
        try:
            producer = produce()
            try:
                for item in producer:
                    items.put(item)
                    if stop.is_set():
                        break
            finally:
                producer.close()  # its own cleanup (a `finally` in it) runs before the end is told
        except BaseException as exc:  # noqa: BLE001 - raised on the consuming thread
            items.put(_Raised(exc))
        finally:
            items.put(_Ended())

    start(job)
    finished = False
    try:
        while not isinstance(item := items.get(), _Ended):
            if isinstance(item, _Raised):
                raise item.error
            yield item
        finished = True
    finally:
        if not finished:  # closed early: stop the producer and wait
            stop.set()
            while not isinstance(items.get(), _Ended):
                pass
