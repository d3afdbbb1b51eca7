// Sequelize against a PostgreSQL-wire server, unmodified with its default
// settings: migrations through Umzug and Sequelize's QueryInterface (what
// sequelize-cli runs: createTable with references, addColumn, changeColumn,
// addIndex, addConstraint), model queries with associations, sync({ alter })
// of a changed model, and migrating down to nothing. Reads
// PGHOST/PGPORT/PGUSER/PGPASSWORD. Prints ok/not ok lines; exit 1 on a failure.
'use strict';
const { Sequelize, DataTypes } = require('sequelize');
const { Umzug, SequelizeStorage } = require('umzug');

const sequelize = new Sequelize(process.env.PGDATABASE || 'postgres', process.env.PGUSER || 'postgres',
  process.env.PGPASSWORD || null, {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5433),
    dialect: 'postgres',
    logging: process.env.CLIENT_TEST_VERBOSE ? console.error : false,
  });
const qi = sequelize.getQueryInterface();

const migrations = [
  {
    name: '001-create',
    up: async () => {
      await qi.createTable('seq_teams', {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING, allowNull: false, unique: true },
        createdAt: { type: DataTypes.DATE, allowNull: false },
        updatedAt: { type: DataTypes.DATE, allowNull: false },
      });
      await qi.createTable('seq_players', {
        id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
        name: { type: DataTypes.STRING(50), allowNull: false },
        teamId: {
          type: DataTypes.INTEGER,
          references: { model: 'seq_teams', key: 'id' },
          onUpdate: 'CASCADE',
          onDelete: 'SET NULL',
        },
        createdAt: { type: DataTypes.DATE, allowNull: false },
        updatedAt: { type: DataTypes.DATE, allowNull: false },
      });
    },
    down: async () => {
      await qi.dropTable('seq_players');
      await qi.dropTable('seq_teams');
    },
  },
  {
    name: '002-alter',
    up: async () => {
      await qi.addColumn('seq_players', 'score', { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 });
      await qi.changeColumn('seq_players', 'name', { type: DataTypes.STRING(120), allowNull: false });
      await qi.addIndex('seq_players', ['teamId', 'score']);
      await qi.addConstraint('seq_players', { fields: ['score'], type: 'check', where: { score: { [Sequelize.Op.gte]: 0 } }, name: 'seq_players_score_ck' });
    },
    down: async () => {
      await qi.removeConstraint('seq_players', 'seq_players_score_ck');
      await qi.removeIndex('seq_players', ['teamId', 'score']);
      await qi.changeColumn('seq_players', 'name', { type: DataTypes.STRING(50), allowNull: false });
      await qi.removeColumn('seq_players', 'score');
    },
  },
];
const umzug = new Umzug({
  migrations,
  context: qi,
  storage: new SequelizeStorage({ sequelize, tableName: 'seq_meta' }),
  logger: undefined,
});

let passed = 0;
let failed = 0;
async function check(name, fn) {
  try {
    await fn();
    passed++;
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    const code = e.parent && e.parent.code ? e.parent.code + ' ' : '';
    console.log(`not ok - ${name}: ${code}${e.message}`);
    if (process.env.CLIENT_TEST_VERBOSE) console.error(e);
  }
}
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const Team = sequelize.define('Team', { name: { type: DataTypes.STRING, allowNull: false, unique: true } }, { tableName: 'seq_teams' });
const Player = sequelize.define('Player', {
  name: { type: DataTypes.STRING(120), allowNull: false },
  score: { type: DataTypes.INTEGER, allowNull: false, defaultValue: 0 },
}, { tableName: 'seq_players' });
Team.hasMany(Player, { foreignKey: 'teamId' });
Player.belongsTo(Team, { foreignKey: 'teamId' });

(async () => {
  await check('connect', () => sequelize.authenticate());
  await check('clean', async () => {
    for (const t of ['seq_players', 'seq_teams', 'seq_meta', 'seq_badges']) await qi.dropTable(t);
  });
  await check('migrate up', async () => {
    const done = await umzug.up();
    assert(done.length === 2, `ran ${done.length}`);
    const cols = await qi.describeTable('seq_players');
    assert(cols.score && cols.name && cols.teamId, JSON.stringify(Object.keys(cols)));
  });
  await check('models with associations', async () => {
    const t = await Team.create({ name: 'reds' });
    await Player.bulkCreate([{ name: 'ann', teamId: t.id, score: 3 }, { name: 'bob', teamId: t.id }]);
    const got = await Team.findOne({ where: { name: 'reds' }, include: Player, order: [[Player, 'name', 'ASC']] });
    assert(got.Players.length === 2 && got.Players[0].score === 3, JSON.stringify(got));
    let code = null;
    await Player.create({ name: 'neg', score: -1 }).catch((e) => { code = e.parent && e.parent.code; });
    assert(code === '23514', `check constraint: ${code}`);
    await t.destroy();
    const orphans = await Player.findAll();
    assert(orphans.length === 2 && orphans.every((p) => p.teamId === null), 'ON DELETE SET NULL');
  });
  await check('sync({ alter }) of a changed model', async () => {
    const Badge = sequelize.define('Badge', {
      label: { type: DataTypes.STRING, allowNull: false },
    }, { tableName: 'seq_badges' });
    await Badge.sync();
    const Badge2 = sequelize.define('Badge', {
      label: { type: DataTypes.STRING(80), allowNull: false },
      level: { type: DataTypes.INTEGER, defaultValue: 1 },
    }, { tableName: 'seq_badges' });
    await Badge2.sync({ alter: true });
    const cols = await qi.describeTable('seq_badges');
    assert(cols.level && cols.label.type === 'CHARACTER VARYING(80)', JSON.stringify(cols));
    await Badge2.drop();
  });
  await check('migrate down to nothing', async () => {
    await umzug.down({ to: 0 });
    const tables = await qi.showAllTables();
    assert(!tables.includes('seq_players') && !tables.includes('seq_teams'), JSON.stringify(tables));
  });
  await sequelize.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})();
