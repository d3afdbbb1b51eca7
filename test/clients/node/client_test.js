#!/usr/bin/env node
// node-postgres (pg) client checks for pgraft.
//
// Runs with pg's default settings against the server named by PGHOST/PGPORT
// (user and database "postgres"). Every check prints "ok - name" or
// "not ok - name: reason"; the last line is "N passed, N failed" and the exit
// status is 1 if any check failed. The same expectations pass against
// PostgreSQL 15, so each one is PostgreSQL's behaviour.
'use strict';

const assert = require('node:assert/strict');
const { Client } = require('pg');

const HOST = process.env.PGHOST || '127.0.0.1';
const PORT = Number(process.env.PGPORT || 5432);

// A hung server must not hang the run: fail the whole program instead.
const WATCHDOG_MS = 300000;

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const TEXT_UNICODE = 'h\u00e9llo "w\u00f6rld" it\'s \u2603 \u{1d11e} \\ back\\slash';
const UUID = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';
const JSON_DOC = { a: 1, b: [true, null, 'x'], c: { d: '\u00e9' } };
const JSONB_DOC = { k: 'v', n: { m: 2.5 }, l: [1, 2, 3] };

const COLUMNS = ['c_int2', 'c_int4', 'c_int8', 'c_text', 'c_varchar', 'c_bool',
  'c_real', 'c_double', 'c_numeric', 'c_bytea', 'c_date', 'c_ts', 'c_tstz',
  'c_uuid', 'c_json', 'c_jsonb'];

// Each case: the parameters sent (pg sends every value as text except
// Buffers), the values pg's default type parsers must return, and the exact
// text the server sends for the columns the default parsers lose precision on
// (int8 and numeric stay strings; dates lose microseconds).
const TYPE_CASES = [
  {
    send: [-32768, -2147483648, '-9223372036854775808', TEXT_UNICODE, 'varchar \u00fc',
      true, 0.5, 0.1, '12345.6789', ALL_BYTES, '2024-02-29',
      '2024-02-29 13:45:56.123456', '2024-02-29 13:45:56.123456+00', UUID,
      JSON.stringify(JSON_DOC), JSON.stringify(JSONB_DOC)],
    want: [-32768, -2147483648, '-9223372036854775808', TEXT_UNICODE, 'varchar \u00fc',
      true, 0.5, 0.1, '12345.6789', ALL_BYTES, new Date(2024, 1, 29),
      new Date(2024, 1, 29, 13, 45, 56, 123), new Date(Date.UTC(2024, 1, 29, 13, 45, 56, 123)),
      UUID, JSON_DOC, JSONB_DOC],
    raw: { c_date: '2024-02-29', c_ts: '2024-02-29 13:45:56.123456',
      c_tstz: Date.UTC(2024, 1, 29, 13, 45, 56) * 1000 + 123456 },
  },
  {
    send: [32767, 2147483647, '9223372036854775807', '', '', false, -1234.5, 1e300,
      '-0.000001', Buffer.alloc(0), '1999-12-31', '1999-12-31 23:59:59',
      new Date(Date.UTC(1970, 0, 1, 0, 0, 0, 1)), '00000000-0000-0000-0000-000000000000',
      '[]', '{}'],
    want: [32767, 2147483647, '9223372036854775807', '', '', false, -1234.5, 1e300,
      '-0.000001', Buffer.alloc(0), new Date(1999, 11, 31),
      new Date(1999, 11, 31, 23, 59, 59), new Date(Date.UTC(1970, 0, 1, 0, 0, 0, 1)),
      '00000000-0000-0000-0000-000000000000', [], {}],
    raw: { c_ts: '1999-12-31 23:59:59', c_tstz: 1000 },
  },
  {
    send: [0, 0, '0', 'zero', 'z', true, 16777216, -2.5e-300, '0', Buffer.from([0]),
      '2000-01-01', '2000-01-01 00:00:00', '2000-01-01 00:00:00+00',
      'ffffffff-ffff-ffff-ffff-ffffffffffff', '{"x": null}', '[1, "two"]'],
    want: [0, 0, '0', 'zero', 'z', true, 16777216, -2.5e-300, '0', Buffer.from([0]),
      new Date(2000, 0, 1), new Date(2000, 0, 1), new Date(Date.UTC(2000, 0, 1)),
      'ffffffff-ffff-ffff-ffff-ffffffffffff', { x: null }, [1, 'two']],
    raw: { c_ts: '2000-01-01 00:00:00', c_tstz: Date.UTC(2000, 0, 1) * 1000 },
  },
  {
    send: [1, 1, '1', 'denormal', 'd', false, -0.375, 5e-324,
      '98765432109.0123', Buffer.from([255]), '2024-01-01',
      '2024-01-01 00:00:00.999999', '2024-01-01 00:00:00.999999+00', UUID, '1', '"s"'],
    want: [1, 1, '1', 'denormal', 'd', false, -0.375, 5e-324,
      '98765432109.0123', Buffer.from([255]), new Date(2024, 0, 1),
      new Date(2024, 0, 1, 0, 0, 0, 999), new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 999)),
      UUID, 1, 's'],
    raw: { c_ts: '2024-01-01 00:00:00.999999',
      c_tstz: Date.UTC(2024, 0, 1) * 1000 + 999999 },
  },
  {
    send: new Array(16).fill(null),
    want: new Array(16).fill(null),
    raw: { c_date: null, c_ts: null, c_tstz: null },
  },
];

// Parses PostgreSQL's ISO timestamptz output ("YYYY-MM-DD HH:MM:SS[.ffffff]+HH[:MM]")
// into microseconds since the epoch, so the check does not depend on TimeZone.
function tstzMicros(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?([+-])(\d\d)(?::(\d\d))?$/.exec(s);
  if (!m) throw new Error(`unparsable timestamptz ${JSON.stringify(s)}`);
  const secs = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  const off = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] || 0) * 60);
  return (secs - off) * 1000000 + frac;
}

const rawTypes = { getTypeParser: () => (v) => v };

async function connect() {
  const c = new Client({ host: HOST, port: PORT, user: 'postgres', database: 'postgres',
    connectionTimeoutMillis: 10000 });
  c.on('error', () => {}); // reported through the failing query instead
  await c.connect();
  return c;
}

async function withClient(fn) {
  const c = await connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

async function expectCode(c, text, values, want) {
  let err = null;
  try {
    await c.query(text, values);
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`${text} succeeded, want SQLSTATE ${want}`);
  assert.equal(err.code, want, `SQLSTATE of ${text} (${err.message})`);
}

const checks = [];
function check(name, fn) { checks.push([name, fn]); }

check('connect and version', () => withClient(async (c) => {
  const v = (await c.query('SELECT version()')).rows[0].version;
  assert.ok(v.startsWith('PostgreSQL 15'), `version() = ${v}`);
  const sv = (await c.query('SHOW server_version')).rows[0].server_version;
  assert.ok(sv.startsWith('15.'), `server_version = ${sv}`);
  // Several statements in one simple Query, each with its own result.
  const multi = await c.query('SELECT 1 AS a; SELECT 2 AS b');
  assert.equal(multi.length, 2, 'results of a two-statement query');
  assert.deepEqual(multi.map((r) => r.rows), [[{ a: 1 }], [{ b: 2 }]]);
}));

check('create tables', () => withClient(async (c) => {
  for (const t of ['node_child', 'node_parent', 'node_types', 'node_ret', 'node_tx',
    'node_big', 'node_named', 'node_conc']) {
    await c.query(`DROP TABLE IF EXISTS ${t}`);
  }
  await c.query(`CREATE TABLE node_types (
    id bigserial PRIMARY KEY, c_int2 int2, c_int4 int4, c_int8 int8, c_text text,
    c_varchar varchar(40), c_bool boolean, c_real real, c_double double precision,
    c_numeric numeric, c_bytea bytea, c_date date, c_ts timestamp, c_tstz timestamptz,
    c_uuid uuid, c_json json, c_jsonb jsonb)`);
  await c.query('CREATE TABLE node_ret (id serial PRIMARY KEY, name text, qty int4)');
  await c.query('CREATE TABLE node_parent (id int4 PRIMARY KEY)');
  await c.query(`CREATE TABLE node_child (id serial PRIMARY KEY,
    parent_id int4 REFERENCES node_parent(id), name text NOT NULL UNIQUE,
    qty int4 CHECK (qty > 0))`);
  await c.query('CREATE TABLE node_tx (id int4 PRIMARY KEY, v text)');
  await c.query('CREATE TABLE node_big (id int4 PRIMARY KEY, v int8)');
  await c.query('CREATE TABLE node_named (id serial PRIMARY KEY, n int4)');
  await c.query('CREATE TABLE node_conc (id serial PRIMARY KEY, n int4)');
}));

check('types round trip', () => withClient(async (c) => {
  const ph = COLUMNS.map((_, i) => `$${i + 1}`).join(', ');
  const ids = [];
  for (const tc of TYPE_CASES) {
    const r = await c.query(`INSERT INTO node_types (${COLUMNS.join(', ')}) VALUES (${ph}) RETURNING id`,
      tc.send);
    ids.push(r.rows[0].id);
  }
  assert.deepEqual(ids, ['1', '2', '3', '4', '5'], 'bigserial ids (int8 parses to string)');
  const r = await c.query(`SELECT id, ${COLUMNS.join(', ')} FROM node_types ORDER BY id`);
  assert.equal(r.rows.length, TYPE_CASES.length, 'row count');
  r.rows.forEach((row, n) => {
    COLUMNS.forEach((col, i) => {
      const got = row[col];
      const want = TYPE_CASES[n].want[i];
      if (typeof want === 'number') {
        assert.ok(Object.is(got, want), `row ${row.id} ${col}: got ${got}, want ${want}`);
      } else {
        assert.deepStrictEqual(got, want, `row ${row.id} ${col}`);
      }
    });
  });
  // The same rows as the server's text, without pg's parsers.
  const raw = await c.query({ text: 'SELECT id, c_int8, c_numeric, c_date, c_ts, c_tstz FROM node_types ORDER BY id',
    types: rawTypes });
  raw.rows.forEach((row, n) => {
    const tc = TYPE_CASES[n];
    assert.equal(row.c_int8, tc.want[2], `row ${row.id} raw c_int8`);
    assert.equal(row.c_numeric, tc.want[8], `row ${row.id} raw c_numeric`);
    if ('c_date' in tc.raw) {
      assert.equal(row.c_date, tc.raw.c_date, `row ${row.id} raw c_date`);
    }
    assert.equal(row.c_ts, tc.raw.c_ts, `row ${row.id} raw c_ts`);
    const tstz = row.c_tstz === null ? null : tstzMicros(row.c_tstz);
    assert.equal(tstz, tc.raw.c_tstz, `row ${row.id} raw c_tstz ${row.c_tstz}`);
  });
}));

check('RETURNING and row counts', () => withClient(async (c) => {
  let r = await c.query('INSERT INTO node_ret (name, qty) VALUES ($1, $2) RETURNING id, name, qty',
    ['first', 7]);
  assert.deepEqual(r.rows, [{ id: 1, name: 'first', qty: 7 }], 'RETURNING row');
  assert.equal(r.command, 'INSERT');
  assert.equal(r.rowCount, 1);
  r = await c.query('INSERT INTO node_ret (name, qty) VALUES ($1, $2), ($3, $4), ($5, $6) RETURNING id',
    ['a', 1, 'b', 2, 'c', 3]);
  assert.equal(r.rowCount, 3, 'insert rowCount');
  assert.deepEqual(r.rows.map((x) => x.id), [2, 3, 4], 'RETURNING ids');
  r = await c.query('UPDATE node_ret SET qty = qty + 10 WHERE qty < $1', [5]);
  assert.equal(r.command, 'UPDATE');
  assert.equal(r.rowCount, 3, 'update rowCount');
  r = await c.query('SELECT id, qty FROM node_ret ORDER BY id');
  assert.equal(r.command, 'SELECT');
  assert.equal(r.rowCount, 4, 'select rowCount');
  assert.deepEqual(r.rows, [{ id: 1, qty: 7 }, { id: 2, qty: 11 }, { id: 3, qty: 12 }, { id: 4, qty: 13 }]);
  r = await c.query('DELETE FROM node_ret WHERE qty > $1', [11]);
  assert.equal(r.command, 'DELETE');
  assert.equal(r.rowCount, 2, 'delete rowCount');
  r = await c.query('UPDATE node_ret SET qty = 0 WHERE id = -1');
  assert.equal(r.rowCount, 0, 'update of nothing');
}));

check('SQLSTATEs', () => withClient(async (c) => {
  await c.query('INSERT INTO node_parent (id) VALUES (1)');
  await c.query("INSERT INTO node_child (parent_id, name, qty) VALUES (1, 'one', 1)");
  const ins = 'INSERT INTO node_child (parent_id, name, qty) VALUES ($1, $2, $3)';
  const cases = [
    [ins, [1, 'one', 2], '23505'],
    [ins, [1, null, 2], '23502'],
    [ins, [99, 'orphan', 2], '23503'],
    [ins, [1, 'neg', -1], '23514'],
    ['SELECT * FROM node_no_such_table', undefined, '42P01'],
    ['CREATE TABLE node_parent (id int4)', undefined, '42P07'],
    ['SELECT no_such_column FROM node_parent', undefined, '42703'],
    ['SELEC 1', undefined, '42601'],
    ["SELECT 'abc'::int", undefined, '22P02'],
    ['INSERT INTO node_parent (id) VALUES ($1)', ['2147483648'], '22003'],
  ];
  for (const [text, values, want] of cases) await expectCode(c, text, values, want);
  const r = await c.query('SELECT count(*) AS n FROM node_child');
  assert.equal(r.rows[0].n, '1', 'child rows after failed inserts');
}));

check('25P02 after error in transaction, rollback recovers', () => withClient(async (c) => {
  await c.query('BEGIN');
  await c.query("INSERT INTO node_tx (id, v) VALUES (100, 'lost')");
  await expectCode(c, 'SELECT * FROM node_no_such_table', undefined, '42P01');
  await expectCode(c, 'SELECT 1', undefined, '25P02');
  await expectCode(c, 'SELECT $1::int', [1], '25P02');
  await c.query('ROLLBACK');
  assert.deepEqual((await c.query('SELECT 1 AS x')).rows, [{ x: 1 }]);
  const r = await c.query('SELECT count(*) AS n FROM node_tx WHERE id = 100');
  assert.equal(r.rows[0].n, '0', 'rolled-back row');
}));

check('commit, rollback, savepoint', async () => {
  const a = await connect();
  const b = await connect();
  try {
    const count = async (where) => (await b.query(`SELECT count(*) AS n FROM node_tx WHERE ${where}`)).rows[0].n;
    await a.query('BEGIN');
    await a.query("INSERT INTO node_tx (id, v) VALUES (1, 'one')");
    assert.equal(await count('id = 1'), '0', 'uncommitted row seen by other connection');
    await a.query('COMMIT');
    assert.equal(await count('id = 1'), '1', 'committed row seen by other connection');
    await a.query('BEGIN');
    await a.query("INSERT INTO node_tx (id, v) VALUES (2, 'two')");
    await a.query('ROLLBACK');
    assert.equal(await count('id = 2'), '0', 'rolled-back row');
    await a.query('BEGIN');
    await a.query("INSERT INTO node_tx (id, v) VALUES (3, 'kept')");
    await a.query('SAVEPOINT sp1');
    await a.query("INSERT INTO node_tx (id, v) VALUES (4, 'dropped')");
    await a.query('ROLLBACK TO SAVEPOINT sp1');
    await a.query("INSERT INTO node_tx (id, v) VALUES (5, 'after')");
    await a.query('RELEASE SAVEPOINT sp1');
    await a.query('COMMIT');
    const r = await b.query('SELECT id FROM node_tx WHERE id >= 3 ORDER BY id');
    assert.deepEqual(r.rows, [{ id: 3 }, { id: 5 }], 'rows after savepoint rollback');
  } finally {
    await a.end().catch(() => {});
    await b.end().catch(() => {});
  }
});

check('named prepared queries 10 times', () => withClient(async (c) => {
  for (let i = 0; i < 10; i++) {
    const r = await c.query({ name: 'node_sel', text: 'SELECT $1::int4 * 2 AS v, $2::text AS s', values: [i, `v${i}`] });
    assert.deepEqual(r.rows, [{ v: i * 2, s: `v${i}` }], `select iteration ${i}`);
  }
  for (let i = 0; i < 10; i++) {
    const r = await c.query({ name: 'node_ins', text: 'INSERT INTO node_named (n) VALUES ($1) RETURNING id, n', values: [i] });
    assert.deepEqual(r.rows, [{ id: i + 1, n: i }], `insert iteration ${i}`);
    assert.equal(r.rowCount, 1);
  }
  const r = await c.query({ name: 'node_sum', text: 'SELECT count(*) AS n, sum(n) AS s FROM node_named' });
  assert.deepEqual(r.rows, [{ n: '10', s: '45' }]);
}));

check('concurrent queries on one client', () => withClient(async (c) => {
  const ps = [];
  for (let i = 0; i < 20; i++) {
    ps.push(c.query('INSERT INTO node_conc (n) VALUES ($1) RETURNING n', [i]));
    ps.push(c.query('SELECT $1::int4 AS v', [i]));
  }
  ps.push(c.query('SELECT * FROM node_no_such_table').then(() => 'no error', (e) => e.code));
  ps.push(c.query('SELECT count(*) AS n, sum(n) AS s FROM node_conc'));
  const rs = await Promise.all(ps);
  for (let i = 0; i < 20; i++) {
    assert.deepEqual(rs[2 * i].rows, [{ n: i }], `insert ${i}`);
    assert.deepEqual(rs[2 * i + 1].rows, [{ v: i }], `select ${i}`);
  }
  assert.equal(rs[40], '42P01', 'failed query among concurrent ones');
  assert.deepEqual(rs[41].rows, [{ n: '20', s: '190' }], 'count/sum after concurrent inserts');
}));

check('10000-row result', () => withClient(async (c) => {
  let want = 0n;
  for (let chunk = 0; chunk < 10; chunk++) {
    const values = [];
    const ph = [];
    for (let j = 0; j < 1000; j++) {
      const id = chunk * 1000 + j;
      const v = BigInt(id) * 1000003n;
      want += v;
      values.push(id, v.toString());
      ph.push(`($${2 * j + 1}, $${2 * j + 2})`);
    }
    const r = await c.query(`INSERT INTO node_big (id, v) VALUES ${ph.join(', ')}`, values);
    assert.equal(r.rowCount, 1000, `chunk ${chunk} rowCount`);
  }
  const r = await c.query('SELECT id, v FROM node_big ORDER BY id');
  assert.equal(r.rowCount, 10000, 'rowCount');
  assert.equal(r.rows.length, 10000, 'rows');
  let sum = 0n;
  r.rows.forEach((row, i) => {
    assert.equal(row.id, i, 'ids in order');
    sum += BigInt(row.v);
  });
  assert.equal(sum, want, 'sum');
  const agg = await c.query('SELECT count(*) AS n, sum(v) AS s FROM node_big');
  assert.deepEqual(agg.rows, [{ n: '10000', s: want.toString() }], 'server count/sum');
}));

async function main() {
  const watchdog = setTimeout(() => {
    console.log(`not ok - watchdog: no result after ${WATCHDOG_MS} ms`);
    process.exit(1);
  }, WATCHDOG_MS);
  watchdog.unref();
  let passed = 0;
  let failed = 0;
  for (const [name, fn] of checks) {
    try {
      await fn();
      passed++;
      console.log(`ok - ${name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${name}: ${String(e && e.message ? e.message : e).replace(/\n/g, ' | ')}`);
      if (process.env.CLIENT_TEST_VERBOSE) console.error(e);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
}

main();
