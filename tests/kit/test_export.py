"""The reading ahead of an export's chunks (app.kit.export): what the database thread makes
reaches the caller in order, its failure too, and a caller that stops stops it."""

import threading
from collections.abc import Iterator

import pytest

from app.kit.export import CHUNKS_AHEAD, _read_ahead


def test_every_chunk_arrives_in_order_from_a_thread_of_its_own():
    threads = set()

    def chunks() -> Iterator[int]:
        for n in range(50):
            threads.add(threading.current_thread())
            yield n

    assert list(_read_ahead(chunks)) == list(range(50))
    assert threading.current_thread() not in threads


def test_a_failure_of_the_reading_reaches_the_caller_after_the_chunks_before_it():
    def chunks() -> Iterator[int]:
        yield 1
        raise RuntimeError("the database went away")

    taken = []
    with pytest.raises(RuntimeError, match="went away"):
        for chunk in _read_ahead(chunks):
            taken.append(chunk)
    assert taken == [1]


def test_a_caller_that_stops_early_stops_the_reading_and_its_connection_is_closed():
    made, closed = [], threading.Event()

    def chunks() -> Iterator[int]:
        try:
            for n in range(1_000):
                made.append(n)
                yield n
        finally:
            closed.set()  # where the export's connection is given back

    reading = _read_ahead(chunks)
    assert next(reading) == 0
    reading.close()  # as Starlette closes the body of a response whose client has gone
    assert closed.is_set()
    assert len(made) <= 2 + CHUNKS_AHEAD
