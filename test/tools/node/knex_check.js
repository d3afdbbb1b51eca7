// knex's migrations against a PostgreSQL-wire server, unmodified with its
// default settings: migrate:latest (tables with foreign keys, ON DELETE
// CASCADE, unique, index; then an ALTER migration), queries, rollback to
// nothing. Reads PGHOST/PGPORT/PGUSER/PGPASSWORD. Prints ok/not ok lines;
// exit 1 on a failure.
'use strict';
const knexLib = require('knex');

const knex = knexLib({
  client: 'pg',
  connection: {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5433),
    user: process.env.PGUSER || 'postgres',
    password: process.env.PGPASSWORD || undefined,
    database: process.env.PGDATABASE || 'postgres',
  },
  pool: { min: 0, max: 4 },
});

// Migrations as knex's migration source API takes them (files would be the same).
const migrations = {
  '001_users': {
    up: (k) => k.schema
      .createTable('knex_users', (t) => {
        t.increments('id');
        t.string('email').notNullable().unique();
        t.timestamps(true, true);
      })
      .createTable('knex_posts', (t) => {
        t.increments('id');
        t.integer('user_id').unsigned().notNullable()
          .references('id').inTable('knex_users').onDelete('CASCADE');
        t.string('title', 100).notNullable();
        t.text('body');
        t.boolean('published').defaultTo(false);
        t.index(['user_id', 'published']);
      }),
    down: (k) => k.schema.dropTable('knex_posts').dropTable('knex_users'),
  },
  '002_alter': {
    up: (k) => k.schema.alterTable('knex_posts', (t) => {
      t.string('title', 255).notNullable().alter();
      t.integer('likes').notNullable().defaultTo(0);
      t.dropColumn('body');
    }),
    down: (k) => k.schema.alterTable('knex_posts', (t) => {
      t.string('title', 100).notNullable().alter();
      t.dropColumn('likes');
      t.text('body');
    }),
  },
};
const source = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (m) => m,
  getMigration: async (m) => migrations[m],
};
const config = { migrationSource: source, tableName: 'knex_migrations' };

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}: ${e.code ? e.code + ' ' : ''}${e.message}`);
    if (process.env.CLIENT_TEST_VERBOSE) console.error(e);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

(async () => {
  await check('clean', async () => {
    for (const t of ['knex_posts', 'knex_users', 'knex_migrations', 'knex_migrations_lock']) {
      await knex.schema.dropTableIfExists(t);
    }
  });
  await check('migrate:latest', async () => {
    const [, done] = await knex.migrate.latest(config);
    assert(done.length === 2, `ran ${done.length} migrations`);
    assert(await knex.schema.hasColumn('knex_posts', 'likes'), 'likes column missing');
    assert(!(await knex.schema.hasColumn('knex_posts', 'body')), 'body column still there');
  });
  await check('queries', async () => {
    const [u] = await knex('knex_users').insert({ email: 'k@example.com' }).returning('*');
    await knex('knex_posts').insert([{ user_id: u.id, title: 'x'.repeat(200) }, { user_id: u.id, title: 'two', likes: 3 }]);
    const rows = await knex('knex_posts').where({ user_id: u.id }).orderBy('id');
    assert(rows.length === 2 && rows[0].title.length === 200 && rows[1].likes === 3 && rows[0].published === false, JSON.stringify(rows));
    let fk = null;
    await knex('knex_posts').insert({ user_id: u.id + 1000, title: 'orphan' }).catch((e) => { fk = e.code; });
    assert(fk === '23503', `orphan insert: ${fk}`);
    await knex('knex_users').where({ id: u.id }).del();
    const [{ count }] = await knex('knex_posts').count();
    assert(Number(count) === 0, `ON DELETE CASCADE left ${count}`);
  });
  await check('migrate:rollback all', async () => {
    await knex.migrate.rollback(config, true);
    assert(!(await knex.schema.hasTable('knex_posts')), 'knex_posts still there');
    assert(!(await knex.schema.hasTable('knex_users')), 'knex_users still there');
  });
  await knex.destroy();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
