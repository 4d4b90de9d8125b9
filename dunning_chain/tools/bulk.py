"""Rows written in bulk (the planner writes tens of thousands at once).

``copy_rows``: PostgreSQL's COPY, which takes far less time than INSERTs of as many rows (as
in odoo.orm.models, which COPYs too).

``BulkWriter``: batches written while the caller prepares the next ones. Writing a planned
message costs PostgreSQL about 50 µs, nearly all of it checking its foreign keys (nine per
message, one index lookup and row lock each, which Odoo's schema asks for; a COPY without
them takes 2 % of that time), and working out the message costs Python about as much: on a
machine with two cores the two can run at once. The writer's statements run one after another
in a thread of its own, on the transaction's own connection (nothing is committed apart:
what the caller rolls back, the writer's rows go with it).
"""
import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg2.extensions

from odoo.tools import SQL


def copy_rows(cr, table, columns, rows):
    """COPY ``rows`` (sequences of plain column values, in the order of ``columns``) into
    ``table``: ``None`` is NULL, ``True``/``False`` are booleans (the caller turns the ORM's
    ``False`` into ``None`` for the other columns), the rest is written as ``str()`` of it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        # CSV: an empty unquoted field is NULL
        writer.writerow(row)
    buffer.seek(0)
    # psycopg2's COPY does not go through the asynchronous wait callback
    callback = psycopg2.extensions.get_wait_callback()
    psycopg2.extensions.set_wait_callback(None)
    try:
        cr.copy_expert(f'COPY "{table}" ({", ".join(columns)}) FROM STDIN WITH (FORMAT csv)',
                       buffer)
    finally:
        psycopg2.extensions.set_wait_callback(callback)


def rows_as_json(columns, rows):
    """The rows as one JSON text for ``json_populate_recordset``: an object per row, keyed by
    column (``None`` is NULL; dates and datetimes as their ISO text, which PostgreSQL reads
    back to the same value)."""
    return json.dumps([dict(zip(columns, row)) for row in rows], default=str,
                      ensure_ascii=False, separators=(",", ":"))


class BulkWriter:
    """Statements written in the background of a batch loop, on the transaction's connection::

        with BulkWriter(cr) as writer:
            for batch in batches:
                ...                                    # Python works out the batch
                writer.insert(table, columns, rows, after=check)
        # here every row is written and each ``after`` has run (in the caller's thread)

    Why it is safe: psycopg2 holds the connection's lock for the whole of a statement (and
    releases Python's lock meanwhile), so the caller's own queries, the ORM's included, wait
    for the statement under way and run between two of the writer's, in the same transaction.
    A COPY is the exception (psycopg2 sends its data outside that lock): the writer sends
    plain statements only, its rows as one JSON parameter, and the caller must not COPY
    inside the block. Whatever reads the rows written waits for the end of the block (or
    ``wait()``): the caller does not read them back meanwhile, and ``after`` callbacks (access
    checks, cache invalidation) run once they are written. The caller's queries meanwhile see
    the rows written so far, or not yet: what it reads must not depend on them.

    The first error of a statement is raised at the end of the block, in the caller's thread,
    before any error the caller met meanwhile (its queries fail once PostgreSQL has aborted the
    transaction); no statement runs after it. ``background=False`` (and under gevent, where
    psycopg2 waits through a callback of the event loop) runs each statement at once.
    """

    def __init__(self, cr, background=True):
        self._cr = cr
        self._background = background and psycopg2.extensions.get_wait_callback() is None
        self._executor = None
        self._cursor = None
        self._futures = []
        self._after = []
        self._error = None

    def insert(self, table, columns, rows, after=None, conflict=None):
        """INSERT ``rows`` (sequences of column values in the order of ``columns``, as
        ``copy_rows`` takes them) into ``table``; ``conflict``: an SQL ``ON CONFLICT`` clause."""
        rows = list(rows)
        if not rows:
            if after:
                self._after.append(after)
            return
        if not self._background and conflict is None:
            # nothing runs beside the caller: COPY, the fastest way in
            copy_rows(self._cr, table, columns, rows)
            if after:
                self._after.append(after)
            return
        names = SQL(", ").join(SQL.identifier(column) for column in columns)
        self.execute(SQL(
            "INSERT INTO %(table)s (%(names)s) SELECT %(names)s "
            "FROM json_populate_recordset(NULL::%(table)s, %(rows)s) %(conflict)s",
            table=SQL.identifier(table), names=names, rows=rows_as_json(columns, rows),
            conflict=conflict or SQL()), after=after)

    def execute(self, query, after=None):
        """Run ``query`` (an ``SQL``) after the ones before it; ``after()`` once it is done."""
        if after:
            self._after.append(after)
        if not self._background:
            self._cr.execute(query)
            return
        if self._executor is None:
            self._cursor = self._cr.connection.cursor()
            self._executor = ThreadPoolExecutor(max_workers=1,
                                                thread_name_prefix="dunning-bulk-writer")
        self._futures.append(self._executor.submit(self._run, query.code, query.params))

    def _run(self, code, params):
        # in the writer's thread: after an error the transaction is aborted, nothing more runs
        if self._error is None:
            try:
                self._cursor.execute(code, params)
            except Exception as exc:  # noqa: BLE001 -- raised in the caller's thread by wait()
                self._error = exc

    def _drain(self):
        futures, self._futures = self._futures, []
        for future in futures:
            future.result()

    def wait(self):
        """Until every statement given so far is written; raises the first error of one, runs
        the ``after`` callbacks."""
        self._drain()
        if self._error is not None:
            raise self._error
        after, self._after = self._after, []
        for callback in after:
            callback()

    def close(self):
        try:
            self._drain()
        finally:
            if self._executor is not None:
                self._executor.shutdown()
                self._cursor.close()
                self._executor = self._cursor = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        if self._error is not None and self._error is not exc:
            if exc is None:
                raise self._error
            raise self._error from exc
        if exc_type is None:
            self.wait()
        return False


@contextmanager
def writing(cr, writer=None):
    """The caller's ``writer``, or one that writes at once (COPY where it can), its ``after``
    callbacks run at the end of the block: a method that takes an optional writer writes its
    rows the same way with it or without."""
    if writer is not None:
        yield writer
        return
    with BulkWriter(cr, background=False) as now:
        yield now
