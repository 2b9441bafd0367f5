"""engine/bridge.py: blocking work off the loop, its items back in order, then its result."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from thau_tui.engine.bridge import LoopStream, TextBatches, new_thread, relay


async def test_items_arrive_on_the_loop_in_order_then_the_result():
    stream: LoopStream[int, str] = LoopStream()
    loop_thread = threading.current_thread()
    seen_on: list[threading.Thread] = []

    def work() -> str:
        seen_on.append(threading.current_thread())
        for i in range(500):
            stream.post(i)
        return "done"

    got = [item async for item in stream.run(work, new_thread("test-work"))]
    assert got == list(range(500))
    assert stream.result() == "done"
    assert seen_on[0] is not loop_thread and seen_on[0].name == "test-work"


async def test_what_the_work_raises_comes_out_of_result_after_its_items():
    stream: LoopStream[str, None] = LoopStream()

    def work() -> None:
        stream.post("before")
        raise ValueError("broken")

    assert [item async for item in stream.run(work, new_thread("test-work"))] == ["before"]
    with pytest.raises(ValueError, match="broken"):
        stream.result()


async def test_result_before_the_end_is_an_error():
    stream: LoopStream[str, int] = LoopStream()
    with pytest.raises(RuntimeError, match="not finished"):
        stream.result()


async def test_the_work_can_wait_for_the_loop_and_its_items_keep_their_order():
    stream: LoopStream[str, str] = LoopStream()
    answers: asyncio.Queue[str] = asyncio.Queue()

    def work() -> str:
        stream.post("asking")

        async def ask() -> str:
            stream.put("question")  # on the loop: after "asking", which was posted first
            return await answers.get()

        return stream.wait_for(ask)

    got = []
    async for item in stream.run(work, new_thread("test-work")):
        got.append(item)
        if item == "question":
            answers.put_nowait("42")
    assert got == ["asking", "question"]
    assert stream.result() == "42"


async def test_text_batches_gather_while_the_loop_is_busy_and_all_arrive_before_the_end():
    stream: LoopStream[str, int] = LoopStream()
    text = TextBatches(stream, lambda t: t, interval=60.0)  # one batch a minute: only the first and the flush
    release = threading.Event()

    def work() -> int:
        text.add("first ")
        release.wait(5)
        for word in ("a ", "b ", "c"):
            text.add(word)
        text.flush()
        return 3

    batches = []
    async for batch in stream.run(work, new_thread("test-work")):
        batches.append(batch)
        release.set()
    assert "".join(batches) == "first a b c"
    assert batches == ["first ", "a b c"]  # the rest came as one batch, with the flush
    assert stream.result() == 3


def test_relay_passes_items_and_raises_what_the_producer_raised():
    def produce():
        yield 1
        yield 2
        raise KeyError("gone")

    got = []
    with pytest.raises(KeyError, match="gone"):
        for item in relay(produce, new_thread("test-producer")):
            got.append(item)
    assert got == [1, 2]


def test_closing_a_relay_early_stops_the_producer_and_waits_for_it():
    finished = threading.Event()
    made = []

    def produce():
        try:
            for i in range(100_000):  # 50 s of items unless the close stops it
                made.append(i)
                yield i
                time.sleep(0.0005)
        finally:
            finished.set()

    items = relay(produce, new_thread("test-producer"))
    assert next(items) == 0
    items.close()
    assert finished.is_set()  # close() returned only once the producer had ended
    assert len(made) < 100_000
