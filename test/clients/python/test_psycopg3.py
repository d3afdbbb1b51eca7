#!/usr/bin/python3
"""psycopg 3 client checks for pgraft.

Runs with psycopg 3's default settings (prepare_threshold 5, autocommit off,
text results) against the server named by PGHOST/PGPORT (user and database
"postgres"), plus binary-format variants. Every check prints "ok - name" or
"not ok - name: reason"; the last line is "N passed, N failed" and the exit
status is 1 if any check failed. The same expectations pass against
PostgreSQL 15, so each one is PostgreSQL's behaviour.

Run with Debian's interpreter: /usr/bin/python3 test_psycopg3.py
"""

import datetime
import decimal
import os
import sys
import traceback
import uuid

import psycopg
from psycopg import pq
from psycopg.types.json import Json, Jsonb

HOST = os.environ.get("PGHOST", "127.0.0.1")
PORT = os.environ.get("PGPORT", "5432")
# A follower of the same cluster, for the COPY-on-a-follower check; that
# check is skipped when PGFOLLOWER_PORT is unset (PostgreSQL alone).
FOLLOWER_HOST = os.environ.get("PGFOLLOWER_HOST", HOST)
FOLLOWER_PORT = os.environ.get("PGFOLLOWER_PORT", "")

UTC = datetime.timezone.utc
ALL_BYTES = bytes(range(256))
TEXT_UNICODE = "h\u00e9llo \"w\u00f6rld\" it's \u2603 \U0001d11e \\ back\\slash"
UUID = uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11")
JSON_DOC = {"a": 1, "b": [True, None, "x"], "c": {"d": "\u00e9"}}
JSONB_DOC = {"k": "v", "n": {"m": 2.5}, "l": [1, 2, 3]}
TS = datetime.datetime(2024, 2, 29, 13, 45, 56, 123456)
TSTZ = datetime.datetime(2024, 2, 29, 13, 45, 56, 123456, tzinfo=UTC)

# One row per case: (int2, int4, int8, text, varchar, bool, real, double,
# numeric, bytea, date, ts, tstz, uuid, json, jsonb). Floats are chosen to be
# exactly representable (real) or to need every digit (double).
TYPE_ROWS = [
    (-32768, -2147483648, -9223372036854775808, TEXT_UNICODE, "varchar \u00fc",
     True, 0.5, 0.1, decimal.Decimal("12345.6789"), ALL_BYTES,
     datetime.date(2024, 2, 29), TS, TSTZ, UUID, JSON_DOC, JSONB_DOC),
    (32767, 2147483647, 9223372036854775807, "", "", False, -1234.5, 1e300,
     decimal.Decimal("-0.000001"), b"", datetime.date(1999, 12, 31),
     datetime.datetime(1999, 12, 31, 23, 59, 59),
     datetime.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
     uuid.UUID(int=0), [], {}),
    (0, 0, 0, "zero", "z", True, 16777216.0, -2.5e-300, decimal.Decimal("0"),
     b"\x00", datetime.date(2000, 1, 1), datetime.datetime(2000, 1, 1),
     datetime.datetime(2000, 1, 1, tzinfo=UTC),
     uuid.UUID(int=(1 << 128) - 1), {"x": None}, [1, "two"]),
    (1, 1, 1, "denormal", "d", False, -0.375, 5e-324,
     decimal.Decimal("98765432109.0123"), b"\xff",
     datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1, 0, 0, 0, 999999),
     datetime.datetime(2024, 1, 1, 0, 0, 0, 999999, tzinfo=UTC), UUID, 1, "s"),
    (None,) * 16,
]

COLUMN_NAMES = ["c_int2", "c_int4", "c_int8", "c_text", "c_varchar", "c_bool",
                "c_real", "c_double", "c_numeric", "c_bytea", "c_date", "c_ts",
                "c_tstz", "c_uuid", "c_json", "c_jsonb"]
COLUMNS = ", ".join(COLUMN_NAMES)


class Runner:
    """Counts and prints check results in the shared output format."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def check(self, name, fn):
        try:
            fn()
        except Exception as e:  # every failure is reported, never raised
            self.failed += 1
            reason = f"{type(e).__name__}: {e}".replace("\n", " | ")
            print(f"not ok - {name}: {reason}", flush=True)
            if os.environ.get("CLIENT_TEST_VERBOSE"):
                traceback.print_exc()
        else:
            self.passed += 1
            print(f"ok - {name}", flush=True)


def eq(got, want, what):
    if got != want or type(got) is not type(want):
        raise AssertionError(f"{what}: got {got!r}, want {want!r}")


def connect(autocommit=True, host=None, port=None):
    return psycopg.connect(host=host or HOST, port=port or PORT,
                           user="postgres", dbname="postgres",
                           connect_timeout=10, autocommit=autocommit)


def expect_sqlstate(cur, sql, params, want):
    try:
        cur.execute(sql, params)
    except psycopg.Error as e:
        eq(e.sqlstate, want, f"SQLSTATE of {sql!r} ({e})")
        return
    raise AssertionError(f"{sql!r} succeeded, want SQLSTATE {want}")


def check_version():
    with connect() as conn:
        v = conn.execute("SELECT version()").fetchone()[0]
        if not v.startswith("PostgreSQL 15"):
            raise AssertionError(f"version() = {v!r}")
        sv = conn.execute("SHOW server_version").fetchone()[0]
        if not sv.startswith("15."):
            raise AssertionError(f"server_version = {sv!r}")
        eq(conn.info.server_version // 10000, 15, "info.server_version major")
        eq(conn.info.parameter_status("client_encoding"), "UTF8",
           "client_encoding")


def setup_tables():
    with connect() as conn:
        for t in ("py3_child", "py3_parent", "py3_types", "py3_types_bin",
                  "py3_ret", "py3_tx", "py3_big", "py3_pipe", "py3_prep",
                  "py3_default", "py3_copy", "py3_copy_vals", "py3_copy_csv",
                  "py3_copy_bin", "py3_copy_bad", "py3_copy_follower"):
            conn.execute(f"DROP TABLE IF EXISTS {t}")
        for t in ("py3_types", "py3_types_bin"):
            conn.execute(f"""CREATE TABLE {t} (
                id bigserial PRIMARY KEY, c_int2 int2, c_int4 int4,
                c_int8 int8, c_text text, c_varchar varchar(40),
                c_bool boolean, c_real real, c_double double precision,
                c_numeric numeric, c_bytea bytea, c_date date,
                c_ts timestamp, c_tstz timestamptz, c_uuid uuid,
                c_json json, c_jsonb jsonb)""")
        conn.execute("CREATE TABLE py3_ret (id serial PRIMARY KEY, "
                     "name text, qty int4)")
        conn.execute("CREATE TABLE py3_parent (id int4 PRIMARY KEY)")
        conn.execute("""CREATE TABLE py3_child (id serial PRIMARY KEY,
            parent_id int4 REFERENCES py3_parent(id),
            name text NOT NULL UNIQUE, qty int4 CHECK (qty > 0))""")
        conn.execute("CREATE TABLE py3_tx (id int4 PRIMARY KEY, v text)")
        conn.execute("CREATE TABLE py3_big (id int4 PRIMARY KEY, v int8)")
        conn.execute("CREATE TABLE py3_pipe (id serial PRIMARY KEY, n int4)")
        conn.execute("CREATE TABLE py3_prep (id serial PRIMARY KEY, n int4)")
        conn.execute("CREATE TABLE py3_default (id bigserial PRIMARY KEY, "
                     "v text)")


def adapt_row(row):
    out = list(row)
    if out[14] is not None:
        out[14] = Json(out[14])
    if out[15] is not None:
        out[15] = Jsonb(out[15])
    return out


def insert_type_rows(conn, table, placeholder):
    ph = ", ".join([placeholder] * 16)
    ids = []
    for row in TYPE_ROWS:
        cur = conn.execute(f"INSERT INTO {table} ({COLUMNS}) VALUES ({ph}) "
                           "RETURNING id", adapt_row(row))
        ids.append(cur.fetchone()[0])
    eq(ids, [1, 2, 3, 4, 5], "bigserial ids")


def compare_type_rows(conn, table, binary):
    cur = conn.cursor(binary=binary)
    cur.execute(f"SELECT id, {COLUMNS} FROM {table} ORDER BY id")
    rows = cur.fetchall()
    eq(len(rows), len(TYPE_ROWS), "row count")
    for want, got in zip(TYPE_ROWS, rows):
        for i, name in enumerate(COLUMN_NAMES):
            eq(got[i + 1], want[i], f"row {got[0]} {name}")


def check_types_text():
    with connect() as conn:
        insert_type_rows(conn, "py3_types", "%s")
        compare_type_rows(conn, "py3_types", binary=False)


def check_types_binary_results():
    with connect() as conn:
        compare_type_rows(conn, "py3_types", binary=True)


def check_types_binary_params():
    with connect() as conn:
        insert_type_rows(conn, "py3_types_bin", "%b")
        compare_type_rows(conn, "py3_types_bin", binary=False)
        compare_type_rows(conn, "py3_types_bin", binary=True)


def check_returning_and_counts():
    with connect() as conn:
        cur = conn.cursor()
        cur.execute("INSERT INTO py3_ret (name, qty) VALUES (%s, %s) "
                    "RETURNING id, name, qty", ("first", 7))
        eq(cur.fetchone(), (1, "first", 7), "RETURNING row")
        eq(cur.statusmessage, "INSERT 0 1", "insert tag")
        cur.execute("INSERT INTO py3_ret (name, qty) VALUES (%s, %s), "
                    "(%s, %s), (%s, %s) RETURNING id",
                    ("a", 1, "b", 2, "c", 3))
        eq(cur.rowcount, 3, "insert rowcount")
        eq(cur.fetchall(), [(2,), (3,), (4,)], "RETURNING ids")
        eq(cur.statusmessage, "INSERT 0 3", "insert tag")
        cur.execute("UPDATE py3_ret SET qty = qty + 10 WHERE qty < %s", (5,))
        eq(cur.rowcount, 3, "update rowcount")
        eq(cur.statusmessage, "UPDATE 3", "update tag")
        cur.execute("SELECT id, qty FROM py3_ret ORDER BY id")
        eq(cur.rowcount, 4, "select rowcount")
        eq(cur.statusmessage, "SELECT 4", "select tag")
        eq(cur.fetchall(), [(1, 7), (2, 11), (3, 12), (4, 13)], "rows")
        cur.execute("DELETE FROM py3_ret WHERE qty > %s", (11,))
        eq(cur.rowcount, 2, "delete rowcount")
        eq(cur.statusmessage, "DELETE 2", "delete tag")
        cur.execute("UPDATE py3_ret SET qty = 0 WHERE id = -1")
        eq(cur.rowcount, 0, "update of nothing")


def check_sqlstates():
    with connect() as conn:
        cur = conn.cursor()
        cur.execute("INSERT INTO py3_parent (id) VALUES (1)")
        cur.execute("INSERT INTO py3_child (parent_id, name, qty) "
                    "VALUES (1, 'one', 1)")
        ins = ("INSERT INTO py3_child (parent_id, name, qty) "
               "VALUES (%s, %s, %s)")
        cases = [
            (ins, (1, "one", 2), "23505"),
            (ins, (1, None, 2), "23502"),
            (ins, (99, "orphan", 2), "23503"),
            (ins, (1, "neg", -1), "23514"),
            ("SELECT * FROM py3_no_such_table", None, "42P01"),
            ("CREATE TABLE py3_parent (id int4)", None, "42P07"),
            ("SELECT no_such_column FROM py3_parent", None, "42703"),
            ("SELEC 1", None, "42601"),
            ("SELECT 'abc'::int", None, "22P02"),
            ("INSERT INTO py3_parent (id) VALUES (%s)", (2147483648,),
             "22003"),
        ]
        for sql, params, want in cases:
            expect_sqlstate(cur, sql, params, want)
        cur.execute("SELECT count(*) FROM py3_child")
        eq(cur.fetchone()[0], 1, "child rows after failed inserts")


def check_failed_transaction():
    with connect(autocommit=False) as conn:
        cur = conn.cursor()
        cur.execute("INSERT INTO py3_tx (id, v) VALUES (100, 'lost')")
        expect_sqlstate(cur, "SELECT * FROM py3_no_such_table", None, "42P01")
        eq(conn.info.transaction_status, pq.TransactionStatus.INERROR,
           "transaction status after error")
        expect_sqlstate(cur, "SELECT 1", None, "25P02")
        conn.rollback()
        eq(cur.execute("SELECT 1").fetchone(), (1,), "SELECT after rollback")
        cur.execute("SELECT count(*) FROM py3_tx WHERE id = 100")
        eq(cur.fetchone()[0], 0, "rolled-back row")
        conn.commit()


def check_transactions():
    with connect(autocommit=False) as a, connect() as b:
        a.execute("INSERT INTO py3_tx (id, v) VALUES (1, 'one')")
        got = b.execute("SELECT count(*) FROM py3_tx WHERE id = 1").fetchone()
        eq(got[0], 0, "uncommitted row seen by other connection")
        a.commit()
        got = b.execute("SELECT v FROM py3_tx WHERE id = 1").fetchone()
        eq(got, ("one",), "committed row seen by other connection")
        a.execute("INSERT INTO py3_tx (id, v) VALUES (2, 'two')")
        a.rollback()
        got = b.execute("SELECT count(*) FROM py3_tx WHERE id = 2").fetchone()
        eq(got[0], 0, "rolled-back row")
        a.execute("INSERT INTO py3_tx (id, v) VALUES (3, 'kept')")
        a.execute("SAVEPOINT sp1")
        a.execute("INSERT INTO py3_tx (id, v) VALUES (4, 'dropped')")
        a.execute("ROLLBACK TO SAVEPOINT sp1")
        a.execute("INSERT INTO py3_tx (id, v) VALUES (5, 'after')")
        a.execute("RELEASE SAVEPOINT sp1")
        a.commit()
        got = b.execute("SELECT id FROM py3_tx WHERE id >= 3 ORDER BY id")
        eq(got.fetchall(), [(3,), (5,)], "rows after savepoint rollback")
        # The driver's own savepoint API: an inner transaction() block that
        # raises rolls back to its savepoint and keeps the outer work.
        with a.transaction():
            a.execute("INSERT INTO py3_tx (id, v) VALUES (6, 'outer')")
            try:
                with a.transaction():
                    a.execute("INSERT INTO py3_tx (id, v) VALUES (7, 'x')")
                    a.execute("INSERT INTO py3_tx (id, v) VALUES (6, 'dup')")
            except psycopg.errors.UniqueViolation:
                pass
        got = b.execute("SELECT id FROM py3_tx WHERE id >= 6 ORDER BY id")
        eq(got.fetchall(), [(6,)], "rows after nested transaction() failure")


def check_prepared_threshold():
    with connect() as conn:
        eq(conn.prepare_threshold, 5, "default prepare_threshold")
        cur = conn.cursor()
        for i in range(10):
            cur.execute("SELECT %s::int4 * 2, %s::text, %s::int8",
                        (i, f"v{i}", -i))
            eq(cur.fetchone(), (i * 2, f"v{i}", -i), f"iteration {i}")
        for i in range(10):
            cur.execute("INSERT INTO py3_prep (n) VALUES (%s) RETURNING n",
                        (1000 + i,))
            eq(cur.fetchone(), (1000 + i,), f"insert iteration {i}")
        cur.execute("DELETE FROM py3_prep WHERE n >= 1000")
        eq(cur.rowcount, 10, "deleted rows")


def check_prepare_true():
    with connect() as conn:
        cur = conn.cursor()
        for i in range(10):
            cur.execute("SELECT %s::int4 + 1, %s::text", (i, f"p{i}"),
                        prepare=True)
            eq(cur.fetchone(), (i + 1, f"p{i}"), f"iteration {i}")
        cur = conn.cursor(binary=True)
        for i in range(3):
            cur.execute("SELECT %s::int8 * 3, %s::numeric",
                        (i, decimal.Decimal("1.5")), prepare=True)
            eq(cur.fetchone(), (i * 3, decimal.Decimal("1.5")),
               f"binary iteration {i}")


def check_pipeline():
    if not psycopg.Pipeline.is_supported():
        raise AssertionError("libpq has no pipeline mode")
    with connect() as conn:
        with conn.pipeline():
            c1, c2, c3 = conn.cursor(), conn.cursor(), conn.cursor()
            for i in range(5):
                conn.execute("INSERT INTO py3_pipe (n) VALUES (%s)", (i,))
            c1.execute("SELECT count(*), sum(n) FROM py3_pipe")
            c2.execute("INSERT INTO py3_pipe (n) VALUES (%s) RETURNING id",
                       (100,))
            c3.execute("SELECT %s::text", ("last",))
        eq(c1.fetchone(), (5, 10), "count/sum inside pipeline")
        eq(c2.fetchone(), (6,), "RETURNING inside pipeline")
        eq(c3.fetchone(), ("last",), "last result")
        # Statements up to a Sync form one implicit transaction: an error
        # fails that statement, skips the rest and rolls back the earlier
        # insert of the same group; the connection stays usable.
        try:
            with conn.pipeline():
                conn.execute("INSERT INTO py3_pipe (n) VALUES (%s)", (200,))
                conn.execute("SELECT * FROM py3_no_such_table")
                conn.execute("INSERT INTO py3_pipe (n) VALUES (%s)", (201,))
        except psycopg.errors.UndefinedTable:
            pass
        else:
            raise AssertionError("pipeline with bad statement did not fail")
        got = conn.execute("SELECT n FROM py3_pipe WHERE n >= 100 ORDER BY n")
        eq(got.fetchall(), [(100,)], "rows after failed pipeline")
        cur = conn.cursor()
        cur.executemany("INSERT INTO py3_pipe (n) VALUES (%s)",
                        [(1000 + i,) for i in range(20)])
        got = conn.execute("SELECT count(*) FROM py3_pipe WHERE n >= 1000")
        eq(got.fetchone(), (20,), "executemany rows")


def check_big_result():
    with connect(autocommit=False) as conn:
        cur = conn.cursor()
        cur.executemany("INSERT INTO py3_big (id, v) VALUES (%s, %s)",
                        [(i, i * 1000003) for i in range(10000)])
        conn.commit()
        cur.execute("SELECT id, v FROM py3_big ORDER BY id")
        rows = cur.fetchall()
        eq(len(rows), 10000, "row count")
        want_sum = sum(i * 1000003 for i in range(10000))
        eq(sum(r[1] for r in rows), want_sum, "sum")
        eq([r[0] for r in rows], list(range(10000)), "ids in order")
        cur.execute("SELECT count(*), sum(v) FROM py3_big")
        eq(cur.fetchone(), (10000, decimal.Decimal(want_sum)),
           "server count/sum")
        # A server-side (named) cursor fetches in batches.
        with conn.cursor(name="py3_big_cursor") as nc:
            nc.itersize = 777
            nc.execute("SELECT id FROM py3_big ORDER BY id")
            eq([r[0] for r in nc], list(range(10000)), "named cursor rows")
        conn.commit()


def check_copy():
    with connect() as conn:
        conn.execute("CREATE TABLE py3_copy (id int4 PRIMARY KEY, s text,"
                     " n numeric(10,2), b bytea)")
        cur = conn.cursor()
        with cur.copy("COPY py3_copy FROM STDIN") as copy:
            for i in range(1, 1001):
                copy.write_row((i, f"v\t{i}", decimal.Decimal("1.50") if i % 2 else None,
                                b"\x00\xff"))
        eq(cur.rowcount, 1000, "text copy rowcount")
        with cur.copy("COPY py3_copy (id, s) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["int4", "text"])
            copy.write_row((2000, "binary"))
        with cur.copy("COPY (SELECT id, s, n, b FROM py3_copy WHERE id <= 2 OR id = 2000"
                      " ORDER BY id) TO STDOUT") as copy:
            got = list(copy.rows())
        eq(got, [("1", "v\t1", "1.50", "\\x00ff"), ("2", "v\t2", None, "\\x00ff"),
                 ("2000", "binary", None, None)], "copy out rows")
        try:
            with cur.copy("COPY py3_copy (id, s) FROM STDIN") as copy:
                copy.write_row((3000, "new"))
                copy.write_row((1, "dup"))
            raise AssertionError("duplicate key accepted")
        except psycopg.Error as e:
            eq(e.sqlstate, "23505", "duplicate SQLSTATE")
        eq(conn.execute("SELECT count(*) FROM py3_copy").fetchone()[0], 1001,
           "rows after a failed COPY")


# Values that COPY's text and csv formats must escape or quote: the
# delimiters, line breaks, backslashes, quotes, COPY's end marker, the
# strings that look like NULL, an empty string, and characters beyond ASCII.
COPY_TEXTS = [
    "plain", "tab\there", "new\nline", "cr\rreturn", "back\\slash",
    "\\N", "\\.", "\\", "quote \" and ' apostrophe", "comma, semi; pipe|",
    "", "NULL", "\\x00ff", "h\u00e9llo w\u00f6rld \u2603 \U0001d11e \u4e2d\u6587",
    "trailing space ", " leading", "\v\f\b",
]


def copy_value_rows():
    rows = []
    for i, s in enumerate(COPY_TEXTS, start=1):
        n = None if i % 4 == 0 else decimal.Decimal(i) / 4
        b = None if i % 5 == 0 else s.encode("utf-8")
        rows.append((i, s, None if i % 3 == 0 else s[::-1], n, b, i % 2 == 0))
    rows.append((len(rows) + 1, None, None, None, None, None))
    return rows


def check_copy_text_values():
    want = copy_value_rows()
    with connect() as conn:
        conn.execute("CREATE TABLE py3_copy_vals (id int4 PRIMARY KEY, s text,"
                     " r text, n numeric(10,2), b bytea, f boolean)")
        cur = conn.cursor()
        with cur.copy("COPY py3_copy_vals FROM STDIN") as copy:
            for row in want:
                copy.write_row(row)
        eq(cur.rowcount, len(want), "text copy rowcount")
        got = conn.execute("SELECT id, s, r, n, b, f FROM py3_copy_vals"
                           " ORDER BY id").fetchall()
        eq([tuple(bytes(v) if isinstance(v, memoryview) else v for v in r)
            for r in got], want, "rows read back by SELECT")
        # COPY TO in text: psycopg parses the escapes back.
        with cur.copy("COPY py3_copy_vals (id, s, r) TO STDOUT") as copy:
            copy.set_types(["int4", "text", "text"])
            out = sorted(copy.rows())
        eq(out, [(r[0], r[1], r[2]) for r in want], "text COPY TO rows")
        # The raw text of one row: PostgreSQL's escapes exactly.
        with cur.copy("COPY (SELECT s, r, n FROM py3_copy_vals WHERE id IN"
                      " (2, 6, 14) ORDER BY id) TO STDOUT") as copy:
            raw = b"".join(bytes(b) for b in copy)
        eq(raw.decode("utf-8"),
           "tab\\there\tereh\\tbat\t0.50\n"
           "\\\\N\t\\N\t1.50\n"
           "h\u00e9llo w\u00f6rld \u2603 \U0001d11e \u4e2d\u6587\t"
           "\u6587\u4e2d \U0001d11e \u2603 dlr\u00f6w oll\u00e9h\t3.50\n",
           "raw text COPY TO")


# csv input written by hand: quoted fields holding the delimiter, quotes,
# line breaks and unicode; an unquoted empty field is NULL, a quoted one is
# an empty string.
CSV_IN = (
    'id,s,n\n'
    '1,plain,1.5\n'
    '2,"comma, inside",\n'
    '3,"quote "" inside",2\n'
    '4,"line\nbreak",3\n'
    '5,"",4\n'
    '6,,5\n'
    '7,"\\back\\slash\ttab",6\n'
    '8,h\u00e9llo \u2603 \U0001d11e,7\n'
    '9,"\\.",8\n'
)
CSV_ROWS = [
    (1, "plain", decimal.Decimal("1.50")),
    (2, "comma, inside", None),
    (3, 'quote " inside', decimal.Decimal("2.00")),
    (4, "line\nbreak", decimal.Decimal("3.00")),
    (5, "", decimal.Decimal("4.00")),
    (6, None, decimal.Decimal("5.00")),
    (7, "\\back\\slash\ttab", decimal.Decimal("6.00")),
    (8, "h\u00e9llo \u2603 \U0001d11e", decimal.Decimal("7.00")),
    (9, "\\.", decimal.Decimal("8.00")),
]
CSV_OUT = (
    'id,s,n\n'
    '1,plain,1.50\n'
    '2,"comma, inside",\n'
    '3,"quote "" inside",2.00\n'
    '4,"line\nbreak",3.00\n'
    '5,"",4.00\n'
    '6,,5.00\n'
    '7,\\back\\slash\ttab,6.00\n'
    '8,h\u00e9llo \u2603 \U0001d11e,7.00\n'
    '9,\\.,8.00\n'  # PostgreSQL quotes \. only as a row's single column
)


def check_copy_csv():
    with connect() as conn:
        conn.execute("CREATE TABLE py3_copy_csv (id int4 PRIMARY KEY, s text,"
                     " n numeric(10,2))")
        cur = conn.cursor()
        with cur.copy("COPY py3_copy_csv FROM STDIN WITH (FORMAT csv, HEADER)") as copy:
            copy.write(CSV_IN.encode("utf-8"))
        eq(cur.rowcount, len(CSV_ROWS), "csv copy rowcount")
        got = conn.execute("SELECT id, s, n FROM py3_copy_csv ORDER BY id").fetchall()
        eq(got, CSV_ROWS, "csv rows read back")
        with cur.copy("COPY (SELECT * FROM py3_copy_csv ORDER BY id) TO STDOUT"
                      " WITH (FORMAT csv, HEADER)") as copy:
            raw = b"".join(bytes(b) for b in copy)
        eq(raw.decode("utf-8"), CSV_OUT, "csv COPY TO text")
        # Another NULL string and delimiter, and FORCE_QUOTE on the way out.
        conn.execute("DELETE FROM py3_copy_csv")
        with cur.copy("COPY py3_copy_csv FROM STDIN WITH (FORMAT csv,"
                      " DELIMITER ';', NULL 'NIL')") as copy:
            copy.write("1;NIL;2\n2;\"NIL\";3\n3;;4\n".encode())
        got = conn.execute("SELECT id, s FROM py3_copy_csv ORDER BY id").fetchall()
        eq(got, [(1, None), (2, "NIL"), (3, "")], "csv NULL 'NIL' and DELIMITER ';'")
        with cur.copy("COPY py3_copy_csv (id, s) TO STDOUT WITH (FORMAT csv,"
                      " FORCE_QUOTE (s))") as copy:
            raw = b"".join(bytes(b) for b in copy)
        eq(sorted(raw.decode().splitlines()), ['1,', '2,"NIL"', '3,""'],
           "csv FORCE_QUOTE out")


BIN_TYPES = ["int4", "int8", "text", "numeric", "bytea", "bool",
             "timestamptz", "date", "float8", "uuid", "jsonb"]
BIN_ROWS = [
    (1, -9223372036854775808, TEXT_UNICODE, decimal.Decimal("12345.6789"),
     ALL_BYTES, True, TSTZ, datetime.date(2024, 2, 29), 0.1, UUID,
     {"k": ["v", 1, None]}),
    (2, 9223372036854775807, "tab\tnew\nline\\", decimal.Decimal("-0.5"),
     b"", False, datetime.datetime(1970, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
     datetime.date(1999, 12, 31), -2.5e-300, uuid.UUID(int=0), []),
    (3,) + (None,) * 10,
]


def check_copy_binary():
    with connect() as conn:
        conn.execute("CREATE TABLE py3_copy_bin (i int4 PRIMARY KEY, l int8,"
                     " s text, n numeric, b bytea, f bool, ts timestamptz,"
                     " d date, x float8, u uuid, j jsonb)")
        cur = conn.cursor()
        with cur.copy("COPY py3_copy_bin FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(BIN_TYPES)
            for row in BIN_ROWS:
                copy.write_row(row[:10] + (None if row[10] is None else Jsonb(row[10]),))
        eq(cur.rowcount, len(BIN_ROWS), "binary copy rowcount")
        # The columns are named: pgraft describes SELECT * over an int4
        # PRIMARY KEY column as int8 (a rowid alias), which binary COPY
        # then sends in 8 bytes.
        with cur.copy("COPY (SELECT i, l, s, n, b, f, ts, d, x, u, j FROM py3_copy_bin"
                      " ORDER BY i) TO STDOUT (FORMAT BINARY)") as copy:
            copy.set_types(BIN_TYPES)
            got = list(copy.rows())
        eq(got, BIN_ROWS, "binary COPY TO rows")
        cur2 = conn.cursor(binary=True)
        cur2.execute("SELECT i, l, s, n, b, f, ts, d, x, u, j FROM py3_copy_bin ORDER BY i")
        eq(cur2.fetchall(), BIN_ROWS, "binary copied rows read by SELECT")
        # A binary COPY whose row has the wrong number of fields.
        try:
            with cur.copy("COPY py3_copy_bin (i, s) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(["int4", "text", "text"])
                copy.write_row((10, "a", "b"))
            raise AssertionError("a row with three fields for two columns was accepted")
        except psycopg.Error as e:
            eq(e.sqlstate, "22P04", "field count SQLSTATE")
        eq(conn.execute("SELECT count(*) FROM py3_copy_bin").fetchone()[0], 3,
           "rows after the failed binary COPY")


def check_copy_bad_row():
    with connect() as conn:
        conn.execute("CREATE TABLE py3_copy_bad (id int4 PRIMARY KEY, s text)")
        cur = conn.cursor()
        for data, state, context in [
            ("".join(f"{i}\tv{i}\n" for i in range(1, 700)) + "x\tbad\n"
             + "".join(f"{i}\tv{i}\n" for i in range(701, 1001)),
             "22P02", 'COPY py3_copy_bad, line 700, column id: "x"'),
            ("1\ta\n2\n", "22P04", 'COPY py3_copy_bad, line 2: "2"'),
            ("1\ta\n2\tb\textra\n", "22P04",
             'COPY py3_copy_bad, line 2: "2\tb\textra"'),
            ("1\ta\n2\tb\n1\tc\n", "23505", None),
        ]:
            try:
                with cur.copy("COPY py3_copy_bad FROM STDIN") as copy:
                    copy.write(data.encode())
                raise AssertionError(f"bad COPY data accepted ({state})")
            except psycopg.Error as e:
                eq(e.sqlstate, state, "SQLSTATE")
                if context is not None:
                    eq(e.diag.context, context, f"CONTEXT of {state}")
            eq(conn.execute("SELECT count(*) FROM py3_copy_bad").fetchone()[0], 0,
               f"rows after the failed COPY ({state})")
        # A COPY the client abandons (an exception inside the block):
        # psycopg sends CopyFail and raises the server's 57014.
        try:
            with cur.copy("COPY py3_copy_bad FROM STDIN") as copy:
                copy.write_row((1, "a"))
                raise KeyError("client gave up")
        except psycopg.errors.QueryCanceled as e:
            eq(e.sqlstate, "57014", "CopyFail SQLSTATE")
            if "client gave up" not in str(e):
                raise AssertionError(f"CopyFail message lost: {e}")
        eq(conn.execute("SELECT count(*) FROM py3_copy_bad").fetchone()[0], 0,
           "rows after CopyFail")
        # In a block, a failed COPY aborts the block (25P02) and the rows of
        # a COPY before it in the block go too.
    with connect(autocommit=False) as conn:
        cur = conn.cursor()
        with cur.copy("COPY py3_copy_bad FROM STDIN") as copy:
            copy.write_row((1, "kept until the block fails"))
        try:
            with cur.copy("COPY py3_copy_bad FROM STDIN") as copy:
                copy.write_row(("nope", "x"))
            raise AssertionError("bad integer accepted")
        except psycopg.Error as e:
            eq(e.sqlstate, "22P02", "SQLSTATE in a block")
        expect_sqlstate(cur, "SELECT 1", None, "25P02")
        conn.rollback()
        eq(conn.execute("SELECT count(*) FROM py3_copy_bad").fetchone()[0], 0,
           "rows after the rolled-back block")
        conn.rollback()
        # COPY FROM in a read-only transaction: 25006, as PostgreSQL.
        conn.read_only = True
        try:
            with cur.copy("COPY py3_copy_bad FROM STDIN") as copy:
                copy.write_row((1, "a"))
            raise AssertionError("COPY FROM in a read-only transaction accepted")
        except psycopg.Error as e:
            eq(e.sqlstate, "25006", "read-only SQLSTATE")
        conn.rollback()


def check_copy_follower():
    """COPY through a follower: COPY FROM is forwarded to the leader (all
    rows or none), COPY TO reads the follower's own database
    (docs/design.md, "COPY")."""
    with connect(host=FOLLOWER_HOST, port=FOLLOWER_PORT) as f, connect() as leader:
        f.execute("CREATE TABLE py3_copy_follower (id int4 PRIMARY KEY, s text)")
        cur = f.cursor()
        with cur.copy("COPY py3_copy_follower FROM STDIN") as copy:
            for i in range(1, 1201):
                copy.write_row((i, f"f\t{i} \u2603"))
        eq(cur.rowcount, 1200, "follower COPY rowcount")
        # Read your writes on the follower, then on the leader.
        eq(f.execute("SELECT count(*) FROM py3_copy_follower").fetchone()[0], 1200,
           "rows on the follower")
        eq(leader.execute("SELECT count(*), max(s) FROM py3_copy_follower"
                          " WHERE id > 0").fetchone(),
           (1200, "f\t999 \u2603"), "rows on the leader")
        with cur.copy("COPY (SELECT id, s FROM py3_copy_follower WHERE id <= 2"
                      " ORDER BY id) TO STDOUT") as copy:
            copy.set_types(["int4", "text"])
            eq(list(copy.rows()), [(1, "f\t1 \u2603"), (2, "f\t2 \u2603")],
               "COPY TO on the follower")
        try:
            with cur.copy("COPY py3_copy_follower FROM STDIN") as copy:
                copy.write_row((5000, "new"))
                copy.write_row((7, "dup"))
            raise AssertionError("duplicate key accepted through the follower")
        except psycopg.Error as e:
            eq(e.sqlstate, "23505", "duplicate SQLSTATE through the follower")
        eq(f.execute("SELECT count(*) FROM py3_copy_follower").fetchone()[0], 1200,
           "rows after a failed COPY through the follower")


def check_default_transaction_mode():
    with connect(autocommit=False) as conn, connect() as other:
        eq(conn.info.transaction_status, pq.TransactionStatus.IDLE,
           "status before")
        got = conn.execute("SELECT count(*) FROM py3_default").fetchone()
        eq(got[0], 0, "empty table")
        eq(conn.info.transaction_status, pq.TransactionStatus.INTRANS,
           "status inside")
        got = conn.execute("INSERT INTO py3_default (v) VALUES (%s) "
                           "RETURNING id", ("in-tx",)).fetchone()
        eq(got[0], 1, "generated id")
        got = conn.execute("SELECT v FROM py3_default").fetchall()
        eq(got, [("in-tx",)], "own write visible")
        got = other.execute("SELECT count(*) FROM py3_default").fetchone()
        eq(got[0], 0, "not visible before commit")
        conn.commit()
        eq(conn.info.transaction_status, pq.TransactionStatus.IDLE,
           "status after commit")
        got = other.execute("SELECT v FROM py3_default").fetchall()
        eq(got, [("in-tx",)], "visible after commit")


def main():
    r = Runner()
    r.check("connect and version", check_version)
    r.check("create tables", setup_tables)
    r.check("types round trip (text)", check_types_text)
    r.check("types read back in binary", check_types_binary_results)
    r.check("types sent as binary parameters", check_types_binary_params)
    r.check("RETURNING and row counts", check_returning_and_counts)
    r.check("SQLSTATEs", check_sqlstates)
    r.check("25P02 after error in transaction, rollback recovers",
            check_failed_transaction)
    r.check("commit, rollback, savepoint", check_transactions)
    r.check("prepare_threshold: same query 10 times", check_prepared_threshold)
    r.check("prepare=True", check_prepare_true)
    r.check("pipeline", check_pipeline)
    r.check("10000-row result", check_big_result)
    r.check("default non-autocommit mode", check_default_transaction_mode)
    r.check("copy: text and binary in, rows out, errors", check_copy)
    r.check("copy: text escapes, NULLs, unicode, in and out", check_copy_text_values)
    r.check("copy: csv quotes, line breaks, NULL and DELIMITER options", check_copy_csv)
    r.check("copy: binary format in and out, field count error", check_copy_binary)
    r.check("copy: bad rows fail with SQLSTATE and CONTEXT, no rows arrive",
            check_copy_bad_row)
    if FOLLOWER_PORT:
        r.check("copy: through a follower", check_copy_follower)
    else:
        print("ok - copy: through a follower # SKIP PGFOLLOWER_PORT unset", flush=True)
    print(f"{r.passed} passed, {r.failed} failed", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
