#!/usr/bin/python3
"""psycopg2 client checks for pgraft.

Runs with psycopg2's default settings against the server named by PGHOST/PGPORT
(user and database "postgres"). Every check prints "ok - name" or
"not ok - name: reason"; the last line is "N passed, N failed" and the exit
status is 1 if any check failed. The same expectations pass against
PostgreSQL 15, so each one is PostgreSQL's behaviour.

Run with Debian's interpreter: /usr/bin/python3 test_psycopg2.py
"""

import datetime
import decimal
import io
import os
import sys
import traceback

import psycopg2
import psycopg2.extras

HOST = os.environ.get("PGHOST", "127.0.0.1")
PORT = os.environ.get("PGPORT", "5432")
# A follower of the same cluster, for the COPY-on-a-follower check; that
# check is skipped when PGFOLLOWER_PORT is unset (PostgreSQL alone).
FOLLOWER_HOST = os.environ.get("PGFOLLOWER_HOST", HOST)
FOLLOWER_PORT = os.environ.get("PGFOLLOWER_PORT", "")

UTC = datetime.timezone.utc
ALL_BYTES = bytes(range(256))
TEXT_UNICODE = "h\u00e9llo \"w\u00f6rld\" it's \u2603 \U0001d11e \\ back\\slash"
UUID = "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
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
     "00000000-0000-0000-0000-000000000000", [], {}),
    (0, 0, 0, "zero", "z", True, 16777216.0, -2.5e-300, decimal.Decimal("0"),
     b"\x00", datetime.date(2000, 1, 1), datetime.datetime(2000, 1, 1),
     datetime.datetime(2000, 1, 1, tzinfo=UTC),
     "ffffffff-ffff-ffff-ffff-ffffffffffff", {"x": None}, [1, "two"]),
    (1, 1, 1, "denormal", "d", False, -0.375, 5e-324,
     decimal.Decimal("98765432109.0123"), b"\xff",
     datetime.date(2024, 1, 1), datetime.datetime(2024, 1, 1, 0, 0, 0, 999999),
     datetime.datetime(2024, 1, 1, 0, 0, 0, 999999, tzinfo=UTC), UUID, 1, "s"),
    (None,) * 16,
]

COLUMNS = ("c_int2, c_int4, c_int8, c_text, c_varchar, c_bool, c_real, "
           "c_double, c_numeric, c_bytea, c_date, c_ts, c_tstz, c_uuid, "
           "c_json, c_jsonb")


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
    conn = psycopg2.connect(host=host or HOST, port=port or PORT,
                            user="postgres", dbname="postgres",
                            connect_timeout=10)
    conn.autocommit = autocommit
    return conn


def expect_sqlstate(cur, sql, params, want):
    try:
        cur.execute(sql, params)
    except psycopg2.Error as e:
        eq(e.pgcode, want, f"SQLSTATE of {sql!r} ({e.pgerror!r})")
        return
    raise AssertionError(f"{sql!r} succeeded, want SQLSTATE {want}")


def check_version():
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT version()")
        v = cur.fetchone()[0]
        if not v.startswith("PostgreSQL 15"):
            raise AssertionError(f"version() = {v!r}")
        cur.execute("SHOW server_version")
        sv = cur.fetchone()[0]
        if not sv.startswith("15."):
            raise AssertionError(f"server_version = {sv!r}")
        eq(conn.server_version // 10000, 15, "conn.server_version major")
    conn.close()


def setup_tables():
    conn = connect()
    cur = conn.cursor()
    for t in ("py2_child", "py2_parent", "py2_types", "py2_ret", "py2_tx",
              "py2_big", "py2_many", "py2_default", "py2_copy", "py2_copy_from",
              "py2_copy_csv", "py2_copy_bad", "py2_copy_follower"):
        cur.execute(f"DROP TABLE IF EXISTS {t}")
    cur.execute("""CREATE TABLE py2_types (
        id bigserial PRIMARY KEY, c_int2 int2, c_int4 int4, c_int8 int8,
        c_text text, c_varchar varchar(40), c_bool boolean, c_real real,
        c_double double precision, c_numeric numeric, c_bytea bytea,
        c_date date, c_ts timestamp, c_tstz timestamptz, c_uuid uuid,
        c_json json, c_jsonb jsonb)""")
    cur.execute("CREATE TABLE py2_ret (id serial PRIMARY KEY, name text, "
                "qty int4)")
    cur.execute("CREATE TABLE py2_parent (id int4 PRIMARY KEY)")
    cur.execute("""CREATE TABLE py2_child (id serial PRIMARY KEY,
        parent_id int4 REFERENCES py2_parent(id), name text NOT NULL UNIQUE,
        qty int4 CHECK (qty > 0))""")
    cur.execute("CREATE TABLE py2_tx (id int4 PRIMARY KEY, v text)")
    cur.execute("CREATE TABLE py2_big (id int4 PRIMARY KEY, v int8)")
    cur.execute("CREATE TABLE py2_many (id serial PRIMARY KEY, n int4, "
                "s text)")
    cur.execute("CREATE TABLE py2_default (id bigserial PRIMARY KEY, v text)")
    conn.close()


def adapt_row(row):
    out = list(row)
    for i in (14, 15):
        if out[i] is not None:
            out[i] = psycopg2.extras.Json(out[i])
    return out


def check_types():
    conn = connect()
    cur = conn.cursor()
    ph = ", ".join(["%s"] * 16)
    ids = []
    for row in TYPE_ROWS:
        cur.execute(f"INSERT INTO py2_types ({COLUMNS}) VALUES ({ph}) "
                    "RETURNING id", adapt_row(row))
        ids.append(cur.fetchone()[0])
    eq(ids, [1, 2, 3, 4, 5], "bigserial ids")
    cur.execute(f"SELECT id, {COLUMNS} FROM py2_types ORDER BY id")
    rows = cur.fetchall()
    eq(len(rows), len(TYPE_ROWS), "row count")
    names = [c.strip() for c in COLUMNS.split(",")]
    for want, got in zip(TYPE_ROWS, rows):
        for i, name in enumerate(names):
            g, w = got[i + 1], want[i]
            if name == "c_bytea" and g is not None:
                g = bytes(g)
            eq(g, w, f"row {got[0]} {name}")
    conn.close()


def check_returning_and_counts():
    conn = connect()
    cur = conn.cursor()
    cur.execute("INSERT INTO py2_ret (name, qty) VALUES (%s, %s) "
                "RETURNING id, name, qty", ("first", 7))
    eq(cur.fetchone(), (1, "first", 7), "RETURNING row")
    eq(cur.statusmessage, "INSERT 0 1", "insert tag")
    cur.execute("INSERT INTO py2_ret (name, qty) VALUES (%s, %s), (%s, %s), "
                "(%s, %s)", ("a", 1, "b", 2, "c", 3))
    eq(cur.rowcount, 3, "insert rowcount")
    eq(cur.statusmessage, "INSERT 0 3", "insert tag")
    cur.execute("UPDATE py2_ret SET qty = qty + 10 WHERE qty < %s", (5,))
    eq(cur.rowcount, 3, "update rowcount")
    eq(cur.statusmessage, "UPDATE 3", "update tag")
    cur.execute("SELECT id, qty FROM py2_ret ORDER BY id")
    eq(cur.rowcount, 4, "select rowcount")
    eq(cur.statusmessage, "SELECT 4", "select tag")
    eq(cur.fetchall(), [(1, 7), (2, 11), (3, 12), (4, 13)], "rows")
    cur.execute("DELETE FROM py2_ret WHERE qty > %s", (11,))
    eq(cur.rowcount, 2, "delete rowcount")
    eq(cur.statusmessage, "DELETE 2", "delete tag")
    cur.execute("UPDATE py2_ret SET qty = 0 WHERE id = -1")
    eq(cur.rowcount, 0, "update of nothing")
    conn.close()


def check_sqlstates():
    conn = connect()
    cur = conn.cursor()
    cur.execute("INSERT INTO py2_parent (id) VALUES (1)")
    cur.execute("INSERT INTO py2_child (parent_id, name, qty) "
                "VALUES (1, 'one', 1)")
    cases = [
        ("INSERT INTO py2_child (parent_id, name, qty) VALUES (%s, %s, %s)",
         (1, "one", 2), "23505"),
        ("INSERT INTO py2_child (parent_id, name, qty) VALUES (%s, %s, %s)",
         (1, None, 2), "23502"),
        ("INSERT INTO py2_child (parent_id, name, qty) VALUES (%s, %s, %s)",
         (99, "orphan", 2), "23503"),
        ("INSERT INTO py2_child (parent_id, name, qty) VALUES (%s, %s, %s)",
         (1, "neg", -1), "23514"),
        ("SELECT * FROM py2_no_such_table", None, "42P01"),
        ("CREATE TABLE py2_parent (id int4)", None, "42P07"),
        ("SELECT no_such_column FROM py2_parent", None, "42703"),
        ("SELEC 1", None, "42601"),
        ("SELECT 'abc'::int", None, "22P02"),
        ("INSERT INTO py2_parent (id) VALUES (%s)", (2147483648,), "22003"),
    ]
    for sql, params, want in cases:
        expect_sqlstate(cur, sql, params, want)
    cur.execute("SELECT count(*) FROM py2_child")
    eq(cur.fetchone()[0], 1, "child rows after failed inserts")
    conn.close()


def check_failed_transaction():
    conn = connect(autocommit=False)
    cur = conn.cursor()
    cur.execute("INSERT INTO py2_tx (id, v) VALUES (100, 'lost')")
    expect_sqlstate(cur, "SELECT * FROM py2_no_such_table", None, "42P01")
    expect_sqlstate(cur, "SELECT 1", None, "25P02")
    conn.rollback()
    cur.execute("SELECT 1")
    eq(cur.fetchone(), (1,), "SELECT after rollback")
    cur.execute("SELECT count(*) FROM py2_tx WHERE id = 100")
    eq(cur.fetchone()[0], 0, "rolled-back row")
    conn.commit()
    conn.close()


def check_transactions():
    a, b = connect(autocommit=False), connect()
    ca, cb = a.cursor(), b.cursor()
    ca.execute("INSERT INTO py2_tx (id, v) VALUES (1, 'one')")
    cb.execute("SELECT count(*) FROM py2_tx WHERE id = 1")
    eq(cb.fetchone()[0], 0, "uncommitted row seen by other connection")
    a.commit()
    cb.execute("SELECT v FROM py2_tx WHERE id = 1")
    eq(cb.fetchone(), ("one",), "committed row seen by other connection")
    ca.execute("INSERT INTO py2_tx (id, v) VALUES (2, 'two')")
    a.rollback()
    cb.execute("SELECT count(*) FROM py2_tx WHERE id = 2")
    eq(cb.fetchone()[0], 0, "rolled-back row")
    ca.execute("INSERT INTO py2_tx (id, v) VALUES (3, 'kept')")
    ca.execute("SAVEPOINT sp1")
    ca.execute("INSERT INTO py2_tx (id, v) VALUES (4, 'dropped')")
    ca.execute("ROLLBACK TO SAVEPOINT sp1")
    ca.execute("INSERT INTO py2_tx (id, v) VALUES (5, 'after')")
    ca.execute("RELEASE SAVEPOINT sp1")
    a.commit()
    cb.execute("SELECT id FROM py2_tx WHERE id >= 3 ORDER BY id")
    eq(cb.fetchall(), [(3,), (5,)], "rows after savepoint rollback")
    a.close()
    b.close()


def check_repeated_params():
    conn = connect()
    cur = conn.cursor()
    for i in range(10):
        cur.execute("SELECT %s::int4 * 2, %s::text", (i, f"v{i}"))
        eq(cur.fetchone(), (i * 2, f"v{i}"), f"iteration {i}")
    conn.close()


def check_executemany():
    conn = connect()
    cur = conn.cursor()
    cur.executemany("INSERT INTO py2_many (n, s) VALUES (%s, %s)",
                    [(i, f"s{i}") for i in range(50)])
    psycopg2.extras.execute_values(
        cur, "INSERT INTO py2_many (n, s) VALUES %s",
        [(i, f"s{i}") for i in range(50, 120)], page_size=30)
    psycopg2.extras.execute_batch(
        cur, "INSERT INTO py2_many (n, s) VALUES (%s, %s)",
        [(i, f"s{i}") for i in range(120, 150)], page_size=7)
    cur.execute("SELECT count(*), sum(n), min(id), max(id) FROM py2_many")
    eq(cur.fetchone(), (150, sum(range(150)), 1, 150), "count/sum/ids")
    cur.execute("SELECT n, s FROM py2_many ORDER BY id")
    eq(cur.fetchall(), [(i, f"s{i}") for i in range(150)], "rows in order")
    conn.close()


def check_big_result():
    conn = connect(autocommit=False)
    cur = conn.cursor()
    psycopg2.extras.execute_values(
        cur, "INSERT INTO py2_big (id, v) VALUES %s",
        [(i, i * 1000003) for i in range(10000)], page_size=1000)
    conn.commit()
    cur.execute("SELECT id, v FROM py2_big ORDER BY id")
    rows = cur.fetchall()
    eq(len(rows), 10000, "row count")
    eq(sum(r[1] for r in rows), sum(i * 1000003 for i in range(10000)), "sum")
    eq([r[0] for r in rows], list(range(10000)), "ids in order")
    cur.execute("SELECT count(*), sum(v) FROM py2_big")
    eq(cur.fetchone(), (10000, decimal.Decimal(sum(i * 1000003
                                                   for i in range(10000)))),
       "server count/sum")
    conn.commit()
    conn.close()


def check_default_transaction_mode():
    conn = connect(autocommit=False)
    cur = conn.cursor()
    eq(conn.get_transaction_status(),
       psycopg2.extensions.TRANSACTION_STATUS_IDLE, "status before")
    cur.execute("SELECT count(*) FROM py2_default")
    eq(cur.fetchone()[0], 0, "empty table")
    eq(conn.get_transaction_status(),
       psycopg2.extensions.TRANSACTION_STATUS_INTRANS, "status inside")
    cur.execute("INSERT INTO py2_default (v) VALUES (%s) RETURNING id",
                ("in-tx",))
    eq(cur.fetchone()[0], 1, "generated id")
    cur.execute("SELECT v FROM py2_default")
    eq(cur.fetchall(), [("in-tx",)], "own write visible")
    other = connect()
    oc = other.cursor()
    oc.execute("SELECT count(*) FROM py2_default")
    eq(oc.fetchone()[0], 0, "not visible before commit")
    conn.commit()
    eq(conn.get_transaction_status(),
       psycopg2.extensions.TRANSACTION_STATUS_IDLE, "status after commit")
    oc.execute("SELECT v FROM py2_default")
    eq(oc.fetchall(), [("in-tx",)], "visible after commit")
    other.close()
    conn.close()


def check_copy():
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE py2_copy (id int4 PRIMARY KEY, s text, n int4)")
    data = "".join(f"{i},\"a, {i}\",{'' if i % 3 == 0 else i}\n"
                   for i in range(1, 501))
    cur.copy_expert("COPY py2_copy FROM STDIN WITH (FORMAT csv)",
                    io.StringIO(data))
    eq(cur.rowcount, 500, "copy_expert rowcount")
    out = io.StringIO()
    cur.copy_expert("COPY (SELECT id, s, n FROM py2_copy WHERE id <= 3"
                    " ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)", out)
    eq(out.getvalue(), 'id,s,n\n1,"a, 1",1\n2,"a, 2",2\n3,"a, 3",\n',
       "copy_expert out")
    try:
        cur.copy_expert("COPY py2_copy FROM STDIN", io.StringIO("x\ty\t1\n"))
        raise AssertionError("bad integer accepted")
    except psycopg2.Error as e:
        eq(e.pgcode, "22P02", "bad input SQLSTATE")
    cur.execute("SELECT count(*) FROM py2_copy")
    eq(cur.fetchone()[0], 500, "rows after a failed COPY")
    conn.close()


def copy_escape(v):
    """COPY's text format for one value (psycopg2's copy_from sends the
    file as it is: the caller escapes)."""
    if v is None:
        return "\\N"
    return (v.replace("\\", "\\\\").replace("\t", "\\t")
            .replace("\n", "\\n").replace("\r", "\\r"))


COPY_TEXTS = [
    "plain", "tab\there", "new\nline", "cr\rreturn", "back\\slash", "\\N",
    "\\.", "quote \" and ' apostrophe", "", "NULL",
    "h\u00e9llo w\u00f6rld \u2603 \U0001d11e \u4e2d\u6587", None,
]


def check_copy_from_to():
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE py2_copy_from (id int4 PRIMARY KEY, s text, n int8)")
    want = [(i, s, None if i % 3 == 0 else -i * 10**12)
            for i, s in enumerate(COPY_TEXTS, start=1)]
    data = "".join(f"{i}\t{copy_escape(s)}\t{copy_escape(None if n is None else str(n))}\n"
                   for i, s, n in want)
    cur.copy_from(io.StringIO(data), "py2_copy_from")
    eq(cur.rowcount, len(want), "copy_from rowcount")
    cur.execute("SELECT id, s, n FROM py2_copy_from ORDER BY id")
    eq(cur.fetchall(), want, "copy_from rows read back")
    out = io.StringIO()
    cur.copy_to(out, "py2_copy_from")
    eq(sorted(out.getvalue().splitlines()), sorted(data.splitlines()),
       "copy_to text is what copy_from sent")
    # Another separator, NULL string and column list.
    cur.execute("DELETE FROM py2_copy_from")
    cur.copy_from(io.StringIO("1|x\\|y\n2|<null>\n3|\n"), "py2_copy_from",
                  sep="|", null="<null>", columns=("id", "s"))
    cur.execute("SELECT id, s, n FROM py2_copy_from ORDER BY id")
    eq(cur.fetchall(), [(1, "x|y", None), (2, None, None), (3, "", None)],
       "copy_from sep, null and columns")
    out = io.StringIO()
    cur.copy_to(out, "py2_copy_from", sep="|", null="<null>", columns=("s", "id"))
    eq(sorted(out.getvalue().splitlines()), ["<null>|2", "x\\|y|1", "|3"],
       "copy_to sep, null and columns")
    conn.close()


def check_copy_csv_values():
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE py2_copy_csv (id int4 PRIMARY KEY, s text, t timestamptz)")
    data = ('1,"a ""quoted"" word",2024-02-29 13:45:56.123456+00\n'
            '2,"multi\nline\r\nvalue",\n'
            '3,"",1999-12-31 23:59:59+00\n'
            '4,,2000-01-01 00:00:00+00\n'
            '5,\u00e9t\u00e9 \u2603 \U0001d11e,\n'
            '6,"back\\slash\ttab",\n')
    cur.copy_expert("COPY py2_copy_csv FROM STDIN WITH (FORMAT csv)", io.StringIO(data))
    eq(cur.rowcount, 6, "csv rowcount")
    cur.execute("SELECT id, s FROM py2_copy_csv ORDER BY id")
    eq(cur.fetchall(), [(1, 'a "quoted" word'), (2, "multi\nline\r\nvalue"), (3, ""),
                        (4, None), (5, "\u00e9t\u00e9 \u2603 \U0001d11e"),
                        (6, "back\\slash\ttab")], "csv rows read back")
    cur.execute("SET TimeZone = 'UTC'")
    out = io.StringIO()
    cur.copy_expert("COPY py2_copy_csv TO STDOUT WITH (FORMAT csv, HEADER,"
                    " FORCE_QUOTE (t))", out)
    eq(out.getvalue(),
       'id,s,t\n'
       '1,"a ""quoted"" word","2024-02-29 13:45:56.123456+00"\n'
       '2,"multi\nline\r\nvalue",\n'
       '3,"","1999-12-31 23:59:59+00"\n'
       '4,,"2000-01-01 00:00:00+00"\n'
       '5,\u00e9t\u00e9 \u2603 \U0001d11e,\n'
       '6,back\\slash\ttab,\n', "csv COPY TO")
    conn.close()


def check_copy_bad_rows():
    conn = connect()
    cur = conn.cursor()
    cur.execute("CREATE TABLE py2_copy_bad (id int4 PRIMARY KEY, s text NOT NULL)")
    good = "".join(f"{i}\tv{i}\n" for i in range(1, 2001))
    for data, state in [
        (good + "2001\t\\N\n", "23502"),
        (good + "3000\tx\n1\tdup\n", "23505"),
        (good.replace("1500\tv1500\n", "oops\tx\n"), "22P02"),
        (good + "99999999999\tbig\n", "22003"),
        (good + "4000\tx\n\\.\n", None),  # end marker: the rest is ignored
    ]:
        cur.execute("TRUNCATE py2_copy_bad")
        try:
            cur.copy_expert("COPY py2_copy_bad FROM STDIN", io.StringIO(data))
            if state is not None:
                raise AssertionError(f"bad COPY data accepted ({state})")
        except psycopg2.Error as e:
            eq(e.pgcode, state, f"SQLSTATE ({e.pgerror!r})")
        cur.execute("SELECT count(*) FROM py2_copy_bad")
        eq(cur.fetchone()[0], 0 if state else 2001, f"rows after the COPY ({state})")
    conn.close()
    # In a block (psycopg2's default): the failed COPY aborts the block.
    conn = connect(autocommit=False)
    cur = conn.cursor()
    cur.execute("INSERT INTO py2_copy_bad VALUES (-1, 'in the block')")
    try:
        cur.copy_expert("COPY py2_copy_bad FROM STDIN", io.StringIO("-2\tx\n-3\n"))
        raise AssertionError("a row with a missing column accepted")
    except psycopg2.Error as e:
        eq(e.pgcode, "22P04", "missing column SQLSTATE")
    expect_sqlstate(cur, "SELECT 1", None, "25P02")
    conn.rollback()
    cur.execute("SELECT count(*) FROM py2_copy_bad WHERE id < 0")
    eq(cur.fetchone()[0], 0, "rows after the rolled-back block")
    conn.close()


def check_copy_follower():
    """COPY FROM through a follower is forwarded to the leader; COPY TO
    reads the follower's own database (docs/design.md, "COPY")."""
    f = connect(host=FOLLOWER_HOST, port=FOLLOWER_PORT)
    cur = f.cursor()
    cur.execute("CREATE TABLE py2_copy_follower (id int4 PRIMARY KEY, s text)")
    data = "".join(f'{i},"f, {i} \u2603"\n' for i in range(1, 801))
    cur.copy_expert("COPY py2_copy_follower FROM STDIN (FORMAT csv)", io.StringIO(data))
    eq(cur.rowcount, 800, "follower copy rowcount")
    out = io.StringIO()
    cur.copy_expert("COPY py2_copy_follower TO STDOUT (FORMAT csv)", out)
    eq(sorted(out.getvalue().splitlines()), sorted(data.splitlines()),
       "COPY TO on the follower")
    try:
        cur.copy_expert("COPY py2_copy_follower FROM STDIN (FORMAT csv)",
                        io.StringIO("900,x\n901\n"))
        raise AssertionError("a short row accepted through the follower")
    except psycopg2.Error as e:
        eq(e.pgcode, "22P04", "missing column SQLSTATE through the follower")
    leader = connect()
    lc = leader.cursor()
    lc.execute("SELECT count(*) FROM py2_copy_follower")
    eq(lc.fetchone()[0], 800, "rows on the leader")
    leader.close()
    f.close()


def main():
    r = Runner()
    r.check("connect and version", check_version)
    r.check("create tables", setup_tables)
    r.check("types round trip", check_types)
    r.check("RETURNING and row counts", check_returning_and_counts)
    r.check("SQLSTATEs", check_sqlstates)
    r.check("25P02 after error in transaction, rollback recovers",
            check_failed_transaction)
    r.check("commit, rollback, savepoint", check_transactions)
    r.check("same parameterized query 10 times", check_repeated_params)
    r.check("executemany, execute_values, execute_batch", check_executemany)
    r.check("10000-row result", check_big_result)
    r.check("default non-autocommit mode", check_default_transaction_mode)
    r.check("copy_expert in and out, errors", check_copy)
    r.check("copy_from and copy_to: escapes, NULLs, unicode, options",
            check_copy_from_to)
    r.check("copy_expert csv: quotes, line breaks, FORCE_QUOTE", check_copy_csv_values)
    r.check("copy: bad rows fail with SQLSTATE, no rows arrive", check_copy_bad_rows)
    if FOLLOWER_PORT:
        r.check("copy: through a follower", check_copy_follower)
    else:
        print("ok - copy: through a follower # SKIP PGFOLLOWER_PORT unset", flush=True)
    print(f"{r.passed} passed, {r.failed} failed", flush=True)
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
