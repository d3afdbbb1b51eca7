// pgjdbc client checks for pgraft.
//
// Runs with pgjdbc's default settings (prepareThreshold 5, text results until a
// statement is server-prepared) against the server named by PGHOST/PGPORT (user
// and database "postgres"), plus a second connection with prepareThreshold=-1
// and binaryTransfer=true. Every check prints "ok - name" or
// "not ok - name: reason"; the last line is "N passed, N failed" and the exit
// status is 1 if any check failed. The same expectations pass against
// PostgreSQL 15, so each one is PostgreSQL's behaviour.
//
// Build and run (no build tool needed):
//   javac -d /tmp/out -cp /usr/share/java/postgresql.jar ClientTest.java
//   java -cp /tmp/out:/usr/share/java/postgresql.jar ClientTest

import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.UUID;
import org.postgresql.PGConnection;
import org.postgresql.PGStatement;
import org.postgresql.copy.CopyManager;
import org.postgresql.util.PGobject;

public final class ClientTest {
  private static final String HOST = envOr("PGHOST", "127.0.0.1");
  private static final String PORT = envOr("PGPORT", "5432");
  // A follower of the same cluster, for the COPY-on-a-follower check; that
  // check is skipped when PGFOLLOWER_PORT is unset (PostgreSQL alone).
  private static final String FOLLOWER_HOST = envOr("PGFOLLOWER_HOST", HOST);
  private static final String FOLLOWER_PORT = envOr("PGFOLLOWER_PORT", "");

  private static final String TEXT_UNICODE =
      "h\u00e9llo \"w\u00f6rld\" it's \u2603 \uD834\uDD1E \\ back\\slash";
  private static final UUID U1 = UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  private static final String JSON_DOC = "{\"a\": 1, \"b\": [true, null, \"x\"], \"c\": {\"d\": \"\u00e9\"}}";
  private static final String JSONB_DOC = "{\"k\": \"v\", \"n\": {\"m\": 2.5}, \"l\": [1, 2, 3]}";

  /** One row of the types table; a null field is SQL NULL. */
  private record Row(Short i2, Integer i4, Long i8, String text, String varchar, Boolean bool,
      Float real, Double dbl, BigDecimal num, byte[] bytea, LocalDate date, LocalDateTime ts,
      OffsetDateTime tstz, UUID uuid, String json, String jsonb) {}

  private static final List<Row> TYPE_ROWS = List.of(
      new Row((short) -32768, Integer.MIN_VALUE, Long.MIN_VALUE, TEXT_UNICODE, "varchar \u00fc",
          true, 0.5f, 0.1, new BigDecimal("12345.6789"), allBytes(), LocalDate.of(2024, 2, 29),
          LocalDateTime.of(2024, 2, 29, 13, 45, 56, 123456000),
          OffsetDateTime.of(2024, 2, 29, 13, 45, 56, 123456000, ZoneOffset.UTC), U1,
          JSON_DOC, JSONB_DOC),
      new Row((short) 32767, Integer.MAX_VALUE, Long.MAX_VALUE, "", "", false, -1234.5f, 1e300,
          new BigDecimal("-0.000001"), new byte[0], LocalDate.of(1999, 12, 31),
          LocalDateTime.of(1999, 12, 31, 23, 59, 59),
          OffsetDateTime.of(1970, 1, 1, 0, 0, 0, 1000, ZoneOffset.UTC), new UUID(0, 0), "[]", "{}"),
      new Row((short) 0, 0, 0L, "zero", "z", true, 16777216f, -2.5e-300, new BigDecimal("0"),
          new byte[] {0}, LocalDate.of(2000, 1, 1), LocalDateTime.of(2000, 1, 1, 0, 0),
          OffsetDateTime.of(2000, 1, 1, 0, 0, 0, 0, ZoneOffset.UTC), new UUID(-1L, -1L),
          "{\"x\": null}", "[1, \"two\"]"),
      new Row((short) 1, 1, 1L, "denormal", "d", false, -0.375f, Double.MIN_VALUE,
          new BigDecimal("98765432109.0123"), new byte[] {(byte) 255},
          LocalDate.of(2024, 1, 1), LocalDateTime.of(2024, 1, 1, 0, 0, 0, 999999000),
          OffsetDateTime.of(2024, 1, 1, 0, 0, 0, 999999000, ZoneOffset.UTC), U1, "1", "\"s\""),
      new Row(null, null, null, null, null, null, null, null, null, null, null, null, null, null,
          null, null));

  private static final String COLUMNS = "c_int2, c_int4, c_int8, c_text, c_varchar, c_bool, c_real,"
      + " c_double, c_numeric, c_bytea, c_date, c_ts, c_tstz, c_uuid, c_json, c_jsonb";

  private int passed;
  private int failed;

  /** A check body; any exception fails the check. */
  @FunctionalInterface
  private interface Check {
    void run() throws Exception;
  }

  public static void main(String[] args) {
    ClientTest t = new ClientTest();
    t.check("connect and version", t::checkVersion);
    t.check("create tables", t::setupTables);
    t.check("types round trip (default connection, text then server-prepared binary)",
        t::checkTypesDefault);
    t.check("types read back with prepareThreshold=-1 binaryTransfer=true", t::checkTypesBinary);
    t.check("RETURNING, generated keys and update counts", t::checkReturningAndCounts);
    t.check("SQLSTATEs", t::checkSqlStates);
    t.check("25P02 after error in transaction, rollback recovers", t::checkFailedTransaction);
    t.check("commit, rollback, savepoint", t::checkTransactions);
    t.check("PreparedStatement 10 times (server-prepared after 5)", t::checkPrepared);
    t.check("prepareThreshold=-1 binaryTransfer=true", t::checkPreparedBinary);
    t.check("executeBatch of 100 inserts", t::checkBatch);
    t.check("fetch size 50 over 1000 rows", t::checkFetchSize);
    t.check("10000-row result", t::checkBigResult);
    t.check("CopyManager copyIn and copyOut, text and csv, errors", t::checkCopy);
    t.check("CopyManager text and csv: escapes, NULLs, quotes, unicode", t::checkCopyValues);
    t.check("CopyManager binary copyIn and copyOut", t::checkCopyBinary);
    t.check("CopyManager bad rows: SQLSTATE, CONTEXT, no rows arrive", t::checkCopyBadRows);
    if (!FOLLOWER_PORT.isEmpty()) {
      t.check("CopyManager through a follower", t::checkCopyFollower);
    } else {
      System.out.println("ok - CopyManager through a follower # SKIP PGFOLLOWER_PORT unset");
    }
    System.out.println(t.passed + " passed, " + t.failed + " failed");
    System.exit(t.failed == 0 ? 0 : 1);
  }

  private void check(String name, Check c) {
    try {
      c.run();
      passed++;
      System.out.println("ok - " + name);
    } catch (Throwable e) {
      failed++;
      String reason = e.getClass().getSimpleName() + ": " + e.getMessage();
      if (e instanceof SQLException se) {
        reason += " (SQLSTATE " + se.getSQLState() + ")";
      }
      System.out.println("not ok - " + name + ": " + reason.replace('\n', ' '));
      if (System.getenv("CLIENT_TEST_VERBOSE") != null) {
        e.printStackTrace();
      }
    }
  }

  private static String envOr(String name, String def) {
    String v = System.getenv(name);
    return v == null || v.isEmpty() ? def : v;
  }

  private static byte[] allBytes() {
    byte[] b = new byte[256];
    for (int i = 0; i < 256; i++) {
      b[i] = (byte) i;
    }
    return b;
  }

  private static Connection connect(String... extra) throws SQLException {
    return connectAt(HOST, PORT, extra);
  }

  private static Connection connectAt(String host, String port, String... extra)
      throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", "postgres");
    p.setProperty("connectTimeout", "10");
    // Client-side only: a hung server fails the check instead of the run.
    p.setProperty("socketTimeout", "120");
    // As libpq: a password and TLS from the environment when set.
    String password = envOr("PGPASSWORD", "");
    if (!password.isEmpty()) {
      p.setProperty("password", password);
    }
    String sslmode = envOr("PGSSLMODE", "");
    if (!sslmode.isEmpty()) {
      p.setProperty("sslmode", sslmode);
      p.setProperty("sslrootcert", envOr("PGSSLROOTCERT", ""));
    }
    for (int i = 0; i + 1 < extra.length; i += 2) {
      p.setProperty(extra[i], extra[i + 1]);
    }
    return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres", p);
  }

  private static void eq(Object got, Object want, String what) {
    boolean same = got instanceof byte[] g && want instanceof byte[] w
        ? Arrays.equals(g, w) : Objects.equals(got, want);
    if (!same) {
      throw new AssertionError(what + ": got " + show(got) + ", want " + show(want));
    }
  }

  private static String show(Object o) {
    return o instanceof byte[] b ? "bytes" + Arrays.toString(b) : String.valueOf(o);
  }

  private static void expectState(Connection c, String sql, Object[] params, String want)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; params != null && i < params.length; i++) {
        ps.setObject(i + 1, params[i]);
      }
      ps.execute();
    } catch (SQLException e) {
      eq(e.getSQLState(), want, "SQLSTATE of " + sql + " (" + e.getMessage() + ")");
      return;
    }
    throw new AssertionError(sql + " succeeded, want SQLSTATE " + want);
  }

  private static long queryLong(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      if (!rs.next()) {
        throw new AssertionError(sql + " returned no row");
      }
      return rs.getLong(1);
    }
  }

  private static void exec(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private void checkVersion() throws Exception {
    try (Connection c = connect()) {
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT version()")) {
        rs.next();
        String v = rs.getString(1);
        if (!v.startsWith("PostgreSQL 15")) {
          throw new AssertionError("version() = " + v);
        }
      }
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SHOW server_version")) {
        rs.next();
        String v = rs.getString(1);
        if (!v.startsWith("15.")) {
          throw new AssertionError("server_version = " + v);
        }
      }
      eq(c.getMetaData().getDatabaseMajorVersion(), 15, "metadata major version");
      // isValid() runs an empty query over the extended protocol.
      eq(c.isValid(5), true, "isValid");
    }
  }

  private void setupTables() throws Exception {
    try (Connection c = connect()) {
      for (String t : new String[] {"jdbc_child", "jdbc_parent", "jdbc_types", "jdbc_ret",
          "jdbc_tx", "jdbc_big", "jdbc_batch", "jdbc_fetch", "jdbc_prep", "jdbc_copy",
          "jdbc_copy_vals", "jdbc_copy_bin", "jdbc_copy_bad", "jdbc_copy_follower"}) {
        exec(c, "DROP TABLE IF EXISTS " + t);
      }
      exec(c, "CREATE TABLE jdbc_types (id bigserial PRIMARY KEY, c_int2 int2, c_int4 int4,"
          + " c_int8 int8, c_text text, c_varchar varchar(40), c_bool boolean, c_real real,"
          + " c_double double precision, c_numeric numeric, c_bytea bytea, c_date date,"
          + " c_ts timestamp, c_tstz timestamptz, c_uuid uuid, c_json json, c_jsonb jsonb)");
      exec(c, "CREATE TABLE jdbc_ret (id serial PRIMARY KEY, name text, qty int4)");
      exec(c, "CREATE TABLE jdbc_parent (id int4 PRIMARY KEY)");
      exec(c, "CREATE TABLE jdbc_child (id serial PRIMARY KEY,"
          + " parent_id int4 REFERENCES jdbc_parent(id), name text NOT NULL UNIQUE,"
          + " qty int4 CHECK (qty > 0))");
      exec(c, "CREATE TABLE jdbc_tx (id int4 PRIMARY KEY, v text)");
      exec(c, "CREATE TABLE jdbc_big (id int4 PRIMARY KEY, v int8)");
      exec(c, "CREATE TABLE jdbc_batch (id serial PRIMARY KEY, n int4, s text)");
      exec(c, "CREATE TABLE jdbc_fetch (id int4 PRIMARY KEY, s text)");
      exec(c, "CREATE TABLE jdbc_prep (id serial PRIMARY KEY, n int4)");
      exec(c, "CREATE TABLE jdbc_copy (id int4 PRIMARY KEY, s text, n numeric(10,2))");
      exec(c, "CREATE TABLE jdbc_copy_vals (id int4 PRIMARY KEY, s text, n int8)");
      exec(c, "CREATE TABLE jdbc_copy_bin (i int4 PRIMARY KEY, l int8, s text, b bytea, f bool)");
      exec(c, "CREATE TABLE jdbc_copy_bad (id int4 PRIMARY KEY, s text NOT NULL)");
    }
  }

  private static PGobject pgJson(String type, String value) throws SQLException {
    PGobject o = new PGobject();
    o.setType(type);
    o.setValue(value);
    return o;
  }

  private static void bindRow(PreparedStatement ps, Row r) throws SQLException {
    setOrNull(ps, 1, r.i2(), Types.SMALLINT);
    setOrNull(ps, 2, r.i4(), Types.INTEGER);
    setOrNull(ps, 3, r.i8(), Types.BIGINT);
    setOrNull(ps, 4, r.text(), Types.VARCHAR);
    setOrNull(ps, 5, r.varchar(), Types.VARCHAR);
    setOrNull(ps, 6, r.bool(), Types.BOOLEAN);
    setOrNull(ps, 7, r.real(), Types.REAL);
    setOrNull(ps, 8, r.dbl(), Types.DOUBLE);
    setOrNull(ps, 9, r.num(), Types.NUMERIC);
    if (r.bytea() == null) {
      ps.setNull(10, Types.BINARY);
    } else {
      ps.setBytes(10, r.bytea());
    }
    setOrNull(ps, 11, r.date(), Types.DATE);
    setOrNull(ps, 12, r.ts(), Types.TIMESTAMP);
    setOrNull(ps, 13, r.tstz(), Types.TIMESTAMP_WITH_TIMEZONE);
    setOrNull(ps, 14, r.uuid(), Types.OTHER);
    setOrNull(ps, 15, r.json() == null ? null : pgJson("json", r.json()), Types.OTHER);
    setOrNull(ps, 16, r.jsonb() == null ? null : pgJson("jsonb", r.jsonb()), Types.OTHER);
  }

  private static void setOrNull(PreparedStatement ps, int i, Object v, int sqlType)
      throws SQLException {
    if (v == null) {
      ps.setNull(i, sqlType);
    } else {
      ps.setObject(i, v);
    }
  }

  private static <T> T nullIfWasNull(ResultSet rs, T v) throws SQLException {
    return rs.wasNull() ? null : v;
  }

  private static Row readRow(ResultSet rs) throws SQLException {
    return new Row(
        nullIfWasNull(rs, rs.getShort(2)), nullIfWasNull(rs, rs.getInt(3)),
        nullIfWasNull(rs, rs.getLong(4)), rs.getString(5), rs.getString(6),
        nullIfWasNull(rs, rs.getBoolean(7)), nullIfWasNull(rs, rs.getFloat(8)),
        nullIfWasNull(rs, rs.getDouble(9)), rs.getBigDecimal(10), rs.getBytes(11),
        rs.getObject(12, LocalDate.class), rs.getObject(13, LocalDateTime.class),
        rs.getObject(14, OffsetDateTime.class), (UUID) rs.getObject(15), rs.getString(16),
        rs.getString(17));
  }

  private static void compareRow(long id, Row got, Row want) {
    String p = "row " + id + " ";
    eq(got.i2(), want.i2(), p + "c_int2");
    eq(got.i4(), want.i4(), p + "c_int4");
    eq(got.i8(), want.i8(), p + "c_int8");
    eq(got.text(), want.text(), p + "c_text");
    eq(got.varchar(), want.varchar(), p + "c_varchar");
    eq(got.bool(), want.bool(), p + "c_bool");
    // Boxed Float/Double equality compares the bit patterns.
    eq(got.real(), want.real(), p + "c_real");
    eq(got.dbl(), want.dbl(), p + "c_double");
    eq(got.num() == null ? null : got.num().toPlainString(),
        want.num() == null ? null : want.num().toPlainString(), p + "c_numeric");
    eq(got.bytea(), want.bytea(), p + "c_bytea");
    eq(got.date(), want.date(), p + "c_date");
    eq(got.ts(), want.ts(), p + "c_ts");
    eq(got.tstz() == null ? null : got.tstz().toInstant(),
        want.tstz() == null ? null : want.tstz().toInstant(), p + "c_tstz");
    eq(got.uuid(), want.uuid(), p + "c_uuid");
    eq(got.json() == null ? null : Json.parse(got.json()),
        want.json() == null ? null : Json.parse(want.json()), p + "c_json " + got.json());
    eq(got.jsonb() == null ? null : Json.parse(got.jsonb()),
        want.jsonb() == null ? null : Json.parse(want.jsonb()), p + "c_jsonb " + got.jsonb());
  }

  private static void readBackTypes(Connection c, int times) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT id, " + COLUMNS + " FROM jdbc_types WHERE id >= ? ORDER BY id")) {
      for (int n = 0; n < times; n++) {
        ps.setLong(1, 1);
        try (ResultSet rs = ps.executeQuery()) {
          int i = 0;
          while (rs.next()) {
            if (i >= TYPE_ROWS.size()) {
              throw new AssertionError("more rows than inserted");
            }
            compareRow(rs.getLong(1), readRow(rs), TYPE_ROWS.get(i));
            i++;
          }
          eq(i, TYPE_ROWS.size(), "row count (execution " + n + ")");
        }
      }
    }
  }

  private void checkTypesDefault() throws Exception {
    try (Connection c = connect()) {
      String ph = "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?";
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO jdbc_types (" + COLUMNS + ") VALUES (" + ph + ") RETURNING id")) {
        long want = 1;
        for (Row r : TYPE_ROWS) {
          bindRow(ps, r);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            eq(rs.getLong(1), want++, "bigserial id");
          }
        }
      }
      // Executions 1-4 read text; from the 5th the statement is server-prepared
      // and pgjdbc asks for binary results.
      readBackTypes(c, 7);
    }
  }

  private void checkTypesBinary() throws Exception {
    try (Connection c = connect("prepareThreshold", "-1", "binaryTransfer", "true")) {
      readBackTypes(c, 2);
    }
  }

  private void checkReturningAndCounts() throws Exception {
    try (Connection c = connect()) {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO jdbc_ret (name, qty) VALUES (?, ?) RETURNING id, name, qty")) {
        ps.setString(1, "first");
        ps.setInt(2, 7);
        try (ResultSet rs = ps.executeQuery()) {
          eq(rs.next(), true, "RETURNING row");
          eq(List.of(rs.getInt(1), rs.getString(2), rs.getInt(3)), List.of(1, "first", 7),
              "RETURNING values");
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO jdbc_ret (name, qty) VALUES (?, ?), (?, ?), (?, ?)")) {
        Object[] v = {"a", 1, "b", 2, "c", 3};
        for (int i = 0; i < v.length; i++) {
          ps.setObject(i + 1, v[i]);
        }
        eq(ps.executeUpdate(), 3, "insert update count");
      }
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO jdbc_ret (name, qty) VALUES (?, ?)", Statement.RETURN_GENERATED_KEYS)) {
        ps.setString(1, "keys");
        ps.setInt(2, 1);
        eq(ps.executeUpdate(), 1, "insert with generated keys");
        try (ResultSet rs = ps.getGeneratedKeys()) {
          eq(rs.next(), true, "generated key row");
          eq(rs.getInt("id"), 5, "generated id");
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE jdbc_ret SET qty = qty + 10 WHERE qty < ?")) {
        ps.setInt(1, 5);
        eq(ps.executeUpdate(), 4, "update count");
      }
      List<List<Integer>> rows = new ArrayList<>();
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT id, qty FROM jdbc_ret ORDER BY id")) {
        while (rs.next()) {
          rows.add(List.of(rs.getInt(1), rs.getInt(2)));
        }
      }
      eq(rows, List.of(List.of(1, 7), List.of(2, 11), List.of(3, 12), List.of(4, 13),
          List.of(5, 11)), "rows");
      try (Statement st = c.createStatement()) {
        eq(st.executeUpdate("DELETE FROM jdbc_ret WHERE qty > 11"), 2, "delete count");
        eq(st.executeUpdate("UPDATE jdbc_ret SET qty = 0 WHERE id = -1"), 0, "update nothing");
        eq(st.execute("SELECT 1"), true, "SELECT returns a result set");
        eq(st.getUpdateCount(), -1, "SELECT update count");
      }
    }
  }

  private void checkSqlStates() throws Exception {
    try (Connection c = connect()) {
      exec(c, "INSERT INTO jdbc_parent (id) VALUES (1)");
      exec(c, "INSERT INTO jdbc_child (parent_id, name, qty) VALUES (1, 'one', 1)");
      String ins = "INSERT INTO jdbc_child (parent_id, name, qty) VALUES (?, ?, ?)";
      expectState(c, ins, new Object[] {1, "one", 2}, "23505");
      expectState(c, ins, new Object[] {1, null, 2}, "23502");
      expectState(c, ins, new Object[] {99, "orphan", 2}, "23503");
      expectState(c, ins, new Object[] {1, "neg", -1}, "23514");
      expectState(c, "SELECT * FROM jdbc_no_such_table", null, "42P01");
      expectState(c, "CREATE TABLE jdbc_parent (id int4)", null, "42P07");
      expectState(c, "SELECT no_such_column FROM jdbc_parent", null, "42703");
      expectState(c, "SELEC 1", null, "42601");
      expectState(c, "SELECT 'abc'::int", null, "22P02");
      expectState(c, "INSERT INTO jdbc_parent (id) VALUES (?)", new Object[] {2147483648L},
          "22003");
      eq(queryLong(c, "SELECT count(*) FROM jdbc_child"), 1L, "child rows after failures");
    }
  }

  private void checkFailedTransaction() throws Exception {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      exec(c, "INSERT INTO jdbc_tx (id, v) VALUES (100, 'lost')");
      expectState(c, "SELECT * FROM jdbc_no_such_table", null, "42P01");
      expectState(c, "SELECT 1", null, "25P02");
      expectState(c, "SELECT ?::int4", new Object[] {1}, "25P02");
      c.rollback();
      eq(queryLong(c, "SELECT 1"), 1L, "SELECT after rollback");
      eq(queryLong(c, "SELECT count(*) FROM jdbc_tx WHERE id = 100"), 0L, "rolled-back row");
      c.commit();
    }
  }

  private void checkTransactions() throws Exception {
    try (Connection a = connect(); Connection b = connect()) {
      a.setAutoCommit(false);
      exec(a, "INSERT INTO jdbc_tx (id, v) VALUES (1, 'one')");
      eq(queryLong(b, "SELECT count(*) FROM jdbc_tx WHERE id = 1"), 0L, "uncommitted row");
      a.commit();
      eq(queryLong(b, "SELECT count(*) FROM jdbc_tx WHERE id = 1"), 1L, "committed row");
      exec(a, "INSERT INTO jdbc_tx (id, v) VALUES (2, 'two')");
      a.rollback();
      eq(queryLong(b, "SELECT count(*) FROM jdbc_tx WHERE id = 2"), 0L, "rolled-back row");
      exec(a, "INSERT INTO jdbc_tx (id, v) VALUES (3, 'kept')");
      Savepoint sp = a.setSavepoint("sp1");
      exec(a, "INSERT INTO jdbc_tx (id, v) VALUES (4, 'dropped')");
      a.rollback(sp);
      exec(a, "INSERT INTO jdbc_tx (id, v) VALUES (5, 'after')");
      a.releaseSavepoint(sp);
      a.commit();
      List<Integer> ids = new ArrayList<>();
      try (Statement st = b.createStatement();
          ResultSet rs = st.executeQuery("SELECT id FROM jdbc_tx WHERE id >= 3 ORDER BY id")) {
        while (rs.next()) {
          ids.add(rs.getInt(1));
        }
      }
      eq(ids, List.of(3, 5), "rows after savepoint rollback");
    }
  }

  private static void runPrepared(Connection c, String label) throws Exception {
    try (PreparedStatement ps = c.prepareStatement("SELECT ?::int4 * 2, ?::text, ?::int8")) {
      for (int i = 0; i < 10; i++) {
        ps.setInt(1, i);
        ps.setString(2, "v" + i);
        ps.setLong(3, -i * 10000000000L);
        try (ResultSet rs = ps.executeQuery()) {
          eq(rs.next(), true, label + " row " + i);
          eq(List.of(rs.getInt(1), rs.getString(2), rs.getLong(3)),
              List.of(i * 2, "v" + i, -i * 10000000000L), label + " iteration " + i);
        }
      }
      eq(ps.unwrap(PGStatement.class).isUseServerPrepare(), true, label + " server-prepared");
    }
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO jdbc_prep (n) VALUES (?) RETURNING n")) {
      for (int i = 0; i < 10; i++) {
        ps.setInt(1, i);
        try (ResultSet rs = ps.executeQuery()) {
          eq(rs.next(), true, label + " insert row " + i);
          eq(rs.getInt(1), i, label + " insert iteration " + i);
        }
      }
    }
  }

  private void checkPrepared() throws Exception {
    try (Connection c = connect()) {
      runPrepared(c, "default");
      eq(queryLong(c, "SELECT count(*) FROM jdbc_prep"), 10L, "inserted rows");
    }
  }

  private void checkPreparedBinary() throws Exception {
    try (Connection c = connect("prepareThreshold", "-1", "binaryTransfer", "true")) {
      runPrepared(c, "binary");
      eq(queryLong(c, "SELECT count(*) FROM jdbc_prep"), 20L, "inserted rows");
    }
  }

  private void checkBatch() throws Exception {
    try (Connection c = connect()) {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO jdbc_batch (n, s) VALUES (?, ?)")) {
        for (int i = 0; i < 100; i++) {
          ps.setInt(1, i);
          ps.setString(2, "s" + i);
          ps.addBatch();
        }
        int[] counts = ps.executeBatch();
        eq(counts.length, 100, "batch results");
        for (int i = 0; i < counts.length; i++) {
          eq(counts[i], 1, "batch result " + i);
        }
      }
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery(
              "SELECT count(*), sum(n), min(id), max(id) FROM jdbc_batch")) {
        rs.next();
        eq(List.of(rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4)),
            List.of(100L, 4950L, 1L, 100L), "count/sum/ids");
      }
    }
  }

  private static void batchInsert(Connection c, String sql, int rows, long mul) throws Exception {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < rows; i++) {
        ps.setInt(1, i);
        if (mul == 0) {
          ps.setString(2, "row " + i);
        } else {
          ps.setLong(2, i * mul);
        }
        ps.addBatch();
        if ((i + 1) % 1000 == 0) {
          ps.executeBatch();
        }
      }
      ps.executeBatch();
    }
  }

  private void checkFetchSize() throws Exception {
    try (Connection c = connect()) {
      batchInsert(c, "INSERT INTO jdbc_fetch (id, s) VALUES (?, ?)", 1000, 0);
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement("SELECT id, s FROM jdbc_fetch ORDER BY id")) {
        ps.setFetchSize(50);
        try (ResultSet rs = ps.executeQuery()) {
          int n = 0;
          while (rs.next()) {
            eq(rs.getInt(1), n, "id in order");
            eq(rs.getString(2), "row " + n, "value");
            n++;
          }
          eq(n, 1000, "rows");
        }
      }
      c.commit();
    }
  }

  private void checkCopy() throws Exception {
    try (Connection c = connect()) {
      CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
      StringBuilder in = new StringBuilder();
      for (int i = 1; i <= 1000; i++) {
        in.append(i).append("\tv").append(i).append(i % 2 == 0 ? "\t\\N\n" : "\t1.5\n");
      }
      long n = cm.copyIn("COPY jdbc_copy FROM STDIN", new java.io.StringReader(in.toString()));
      eq(n, 1000L, "copyIn rows");
      java.io.StringWriter out = new java.io.StringWriter();
      n = cm.copyOut("COPY (SELECT id, s, n FROM jdbc_copy WHERE id <= 3 ORDER BY id) TO STDOUT"
          + " WITH (FORMAT csv, HEADER)", out);
      eq(n, 3L, "copyOut rows");
      eq(out.toString(), "id,s,n\n1,v1,1.50\n2,v2,\n3,v3,1.50\n", "copyOut csv");
      try {
        cm.copyIn("COPY jdbc_copy FROM STDIN", new java.io.StringReader("2000\tx\t1\n1\tdup\t1\n"));
        throw new AssertionError("duplicate key accepted");
      } catch (SQLException e) {
        eq(e.getSQLState(), "23505", "duplicate SQLSTATE");
      }
      try {
        cm.copyIn("COPY jdbc_copy FROM STDIN", new java.io.StringReader("x\ty\t1\n"));
        throw new AssertionError("bad integer accepted");
      } catch (SQLException e) {
        eq(e.getSQLState(), "22P02", "bad input SQLSTATE");
      }
      eq(queryLong(c, "SELECT count(*) FROM jdbc_copy"), 1000L, "rows after failed COPYs");
      c.setAutoCommit(false);
      cm.copyIn("COPY jdbc_copy (id, s) FROM STDIN WITH (FORMAT csv)",
          new java.io.StringReader("3000,\"in, tx\"\n"));
      c.rollback();
      c.setAutoCommit(true);
      eq(queryLong(c, "SELECT count(*) FROM jdbc_copy"), 1000L, "rows after a rolled-back COPY");
    }
  }

  /** Values COPY must escape or quote, and unicode beyond the BMP. */
  private static final String[] COPY_TEXTS = {
    "plain", "tab\there", "new\nline", "cr\rreturn", "back\\slash", "\\N", "\\.", "",
    "NULL", "quote \" and ' apostrophe", "comma, semi;", "h\u00e9llo \u2603 \uD834\uDD1E \u4e2d\u6587",
    null,
  };

  private static String copyEscape(String v) {
    if (v == null) {
      return "\\N";
    }
    return v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r");
  }

  private void checkCopyValues() throws Exception {
    try (Connection c = connect()) {
      CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
      StringBuilder in = new StringBuilder();
      for (int i = 0; i < COPY_TEXTS.length; i++) {
        in.append(i + 1).append('\t').append(copyEscape(COPY_TEXTS[i])).append('\t')
            .append(i % 3 == 0 ? "\\N" : Long.toString(-(i + 1) * 1_000_000_000_000L)).append('\n');
      }
      eq(cm.copyIn("COPY jdbc_copy_vals FROM STDIN", new java.io.StringReader(in.toString())),
          (long) COPY_TEXTS.length, "text copyIn rows");
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT id, s FROM jdbc_copy_vals ORDER BY id")) {
        for (String want : COPY_TEXTS) {
          if (!rs.next()) {
            throw new AssertionError("too few rows");
          }
          eq(rs.getString(2), want, "row " + rs.getInt(1));
        }
      }
      java.io.StringWriter out = new java.io.StringWriter();
      cm.copyOut("COPY (SELECT id, s, n FROM jdbc_copy_vals ORDER BY id) TO STDOUT", out);
      eq(out.toString(), in.toString(), "text copyOut is what copyIn sent");
      // csv: quoted delimiters, quotes and line breaks; "" is an empty
      // string, an unquoted empty field NULL.
      exec(c, "DELETE FROM jdbc_copy_vals");
      String csv = "1,\"a, b\",1\n2,\"say \"\"hi\"\"\",\n3,\"two\nlines\",3\n4,\"\",4\n5,,5\n"
          + "6,\u00e9t\u00e9 \uD834\uDD1E,6\n";
      eq(cm.copyIn("COPY jdbc_copy_vals FROM STDIN WITH (FORMAT csv)", new java.io.StringReader(csv)),
          6L, "csv copyIn rows");
      eq(queryLong(c, "SELECT count(*) FROM jdbc_copy_vals WHERE s IS NULL"), 1L, "csv NULLs");
      eq(queryLong(c, "SELECT count(*) FROM jdbc_copy_vals WHERE s = ''"), 1L, "csv empty strings");
      out = new java.io.StringWriter();
      cm.copyOut("COPY jdbc_copy_vals (id, s) TO STDOUT WITH (FORMAT csv, HEADER, QUOTE '''',"
          + " FORCE_QUOTE *)", out);
      java.util.List<String> lines = new java.util.ArrayList<>(List.of(out.toString().split("\n", -1)));
      eq(lines.remove(0), "id,s", "csv header");
      java.util.Collections.sort(lines);
      eq(lines, List.of("", "'1','a, b'", "'2','say \"hi\"'", "'3','two", "'4',''", "'5',",
          "'6','\u00e9t\u00e9 \uD834\uDD1E'", "lines'"), "csv copyOut with QUOTE and FORCE_QUOTE");
    }
  }

  /** PostgreSQL's binary COPY: header, tuples of length-prefixed fields, trailer. */
  private static byte[] binaryCopy(Object[][] rows) throws java.io.IOException {
    java.io.ByteArrayOutputStream buf = new java.io.ByteArrayOutputStream();
    java.io.DataOutputStream d = new java.io.DataOutputStream(buf);
    d.write("PGCOPY\n\377\r\n\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    d.writeInt(0); // flags
    d.writeInt(0); // header extension
    for (Object[] row : rows) {
      d.writeShort(row.length);
      for (Object v : row) {
        byte[] b;
        if (v == null) {
          d.writeInt(-1);
          continue;
        } else if (v instanceof Integer i) {
          b = java.nio.ByteBuffer.allocate(4).putInt(i).array();
        } else if (v instanceof Long l) {
          b = java.nio.ByteBuffer.allocate(8).putLong(l).array();
        } else if (v instanceof String str) {
          b = str.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } else if (v instanceof Boolean f) {
          b = new byte[] {(byte) (f ? 1 : 0)};
        } else {
          b = (byte[]) v;
        }
        d.writeInt(b.length);
        d.write(b);
      }
    }
    d.writeShort(-1);
    return buf.toByteArray();
  }

  private void checkCopyBinary() throws Exception {
    Object[][] rows = {
      {1, Long.MIN_VALUE, TEXT_UNICODE, allBytes(), true},
      {2, Long.MAX_VALUE, "tab\tnew\nline\\", new byte[0], false},
      {3, null, null, null, null},
      {4, 0L, "", new byte[] {0}, true},
    };
    byte[] data = binaryCopy(rows);
    try (Connection c = connect()) {
      CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
      eq(cm.copyIn("COPY jdbc_copy_bin FROM STDIN (FORMAT binary)",
          new java.io.ByteArrayInputStream(data)), 4L, "binary copyIn rows");
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT i, l, s, b, f FROM jdbc_copy_bin ORDER BY i")) {
        for (Object[] want : rows) {
          if (!rs.next()) {
            throw new AssertionError("too few rows");
          }
          eq(rs.getInt(1), want[0], "i");
          eq(rs.getObject(2), want[1], "l of " + want[0]);
          eq(rs.getString(3), want[2], "s of " + want[0]);
          eq(rs.getBytes(4), want[3], "b of " + want[0]);
          eq(rs.getObject(5), want[4], "f of " + want[0]);
        }
      }
      java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
      eq(cm.copyOut("COPY (SELECT i, l, s, b, f FROM jdbc_copy_bin ORDER BY i) TO STDOUT"
          + " (FORMAT binary)", out), 4L, "binary copyOut rows");
      eq(out.toByteArray(), data, "binary copyOut is what copyIn sent");
      // A bad header, a field of the wrong size: 22P04 and 22P03, no rows.
      byte[] bad = data.clone();
      bad[0] = 'X';
      try {
        cm.copyIn("COPY jdbc_copy_bin FROM STDIN (FORMAT binary)", new java.io.ByteArrayInputStream(bad));
        throw new AssertionError("bad binary header accepted");
      } catch (SQLException e) {
        eq(e.getSQLState(), "22P04", "bad header SQLSTATE");
      }
      // An 8-byte value for the int4 column: 22P03; a 4-byte one for the
      // int8 column runs out of data: 08P01 (and the connection goes on).
      byte[] wrong = binaryCopy(new Object[][] {{10, 1L, "x", new byte[0], true}, {11L, 7L, "y", null, null}});
      try {
        cm.copyIn("COPY jdbc_copy_bin FROM STDIN (FORMAT binary)", new java.io.ByteArrayInputStream(wrong));
        throw new AssertionError("an 8-byte int4 accepted");
      } catch (SQLException e) {
        eq(e.getSQLState(), "22P03", "long field SQLSTATE");
      }
      byte[] shortField = binaryCopy(new Object[][] {{12, 7, "y", null, null}});
      try {
        cm.copyIn("COPY jdbc_copy_bin FROM STDIN (FORMAT binary)", new java.io.ByteArrayInputStream(shortField));
        throw new AssertionError("a 4-byte int8 accepted");
      } catch (SQLException e) {
        eq(e.getSQLState(), "08P01", "short field SQLSTATE");
      }
      eq(queryLong(c, "SELECT count(*) FROM jdbc_copy_bin"), 4L, "rows after failed binary COPYs");
    }
  }

  private void checkCopyBadRows() throws Exception {
    try (Connection c = connect()) {
      CopyManager cm = c.unwrap(PGConnection.class).getCopyAPI();
      StringBuilder in = new StringBuilder();
      for (int i = 1; i <= 2000; i++) {
        in.append(i).append(i == 1500 ? "\tbad\textra\n" : "\tv\n");
      }
      try {
        cm.copyIn("COPY jdbc_copy_bad FROM STDIN", new java.io.StringReader(in.toString()));
        throw new AssertionError("a row with an extra column accepted");
      } catch (org.postgresql.util.PSQLException e) {
        eq(e.getSQLState(), "22P04", "extra column SQLSTATE");
        eq(e.getServerErrorMessage().getWhere(), "COPY jdbc_copy_bad, line 1500: \"1500\tbad\textra\"",
            "CONTEXT");
      }
      eq(queryLong(c, "SELECT count(*) FROM jdbc_copy_bad"), 0L, "rows after the failed COPY");
      try {
        cm.copyIn("COPY jdbc_copy_bad FROM STDIN WITH (FORMAT csv)",
            new java.io.StringReader("1,a\n2,\n3,c\n"));
        throw new AssertionError("NULL into NOT NULL accepted");
      } catch (SQLException e) {
        eq(e.getSQLState(), "23502", "not-null SQLSTATE");
      }
      eq(queryLong(c, "SELECT count(*) FROM jdbc_copy_bad"), 0L, "rows after the NOT NULL failure");
      // COPY FROM in a read-only transaction: 25006.
      exec(c, "SET default_transaction_read_only = on");
      try {
        cm.copyIn("COPY jdbc_copy_bad FROM STDIN", new java.io.StringReader("1\ta\n"));
        throw new AssertionError("COPY FROM in a read-only transaction accepted");
      } catch (SQLException e) {
        eq(e.getSQLState(), "25006", "read-only SQLSTATE");
      }
      exec(c, "SET default_transaction_read_only = off");
    }
  }

  private void checkCopyFollower() throws Exception {
    try (Connection f = connectAt(FOLLOWER_HOST, FOLLOWER_PORT); Connection leader = connect()) {
      exec(f, "CREATE TABLE jdbc_copy_follower (id int4 PRIMARY KEY, s text)");
      CopyManager cm = f.unwrap(PGConnection.class).getCopyAPI();
      StringBuilder in = new StringBuilder();
      for (int i = 1; i <= 1500; i++) {
        in.append(i).append("\tf\\t").append(i).append(" \u2603\n");
      }
      eq(cm.copyIn("COPY jdbc_copy_follower FROM STDIN", new java.io.StringReader(in.toString())),
          1500L, "follower copyIn rows");
      java.io.StringWriter out = new java.io.StringWriter();
      cm.copyOut("COPY (SELECT id, s FROM jdbc_copy_follower ORDER BY id) TO STDOUT", out);
      eq(out.toString(), in.toString(), "copyOut on the follower");
      eq(queryLong(leader, "SELECT count(*) FROM jdbc_copy_follower"), 1500L, "rows on the leader");
      byte[] bin = binaryCopy(new Object[][] {{2000, "binary"}, {2001, "via follower"}});
      eq(cm.copyIn("COPY jdbc_copy_follower FROM STDIN (FORMAT binary)",
          new java.io.ByteArrayInputStream(bin)), 2L, "binary copyIn through the follower");
      try {
        cm.copyIn("COPY jdbc_copy_follower FROM STDIN", new java.io.StringReader("3000\tx\n1\tdup\n"));
        throw new AssertionError("duplicate key accepted through the follower");
      } catch (SQLException e) {
        eq(e.getSQLState(), "23505", "duplicate SQLSTATE through the follower");
      }
      eq(queryLong(f, "SELECT count(*) FROM jdbc_copy_follower"), 1502L, "rows on the follower");
    }
  }

  private void checkBigResult() throws Exception {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      batchInsert(c, "INSERT INTO jdbc_big (id, v) VALUES (?, ?)", 10000, 1000003L);
      c.commit();
      long want = 0;
      for (long i = 0; i < 10000; i++) {
        want += i * 1000003L;
      }
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT id, v FROM jdbc_big ORDER BY id")) {
        long n = 0;
        long sum = 0;
        while (rs.next()) {
          eq(rs.getLong(1), n, "id in order");
          sum += rs.getLong(2);
          n++;
        }
        eq(n, 10000L, "rows");
        eq(sum, want, "sum");
      }
      try (Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT count(*), sum(v) FROM jdbc_big")) {
        rs.next();
        eq(List.of(rs.getLong(1), rs.getBigDecimal(2)), List.of(10000L, BigDecimal.valueOf(want)),
            "server count/sum");
      }
      c.commit();
    }
  }

  /** A minimal JSON reader so json/jsonb values compare parsed, not as text. */
  static final class Json {
    private final String s;
    private int i;

    private Json(String s) {
      this.s = s;
    }

    /** Parses one JSON value into Map, List, String, BigDecimal, Boolean or null. */
    static Object parse(String s) {
      Json j = new Json(s);
      Object v = j.value();
      j.ws();
      if (j.i != s.length()) {
        throw new IllegalArgumentException("trailing text in JSON: " + s);
      }
      return v;
    }

    private void ws() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
    }

    private Object value() {
      ws();
      char ch = s.charAt(i);
      switch (ch) {
        case '{':
          return object();
        case '[':
          return array();
        case '"':
          return string();
        case 't':
          return literal("true", Boolean.TRUE);
        case 'f':
          return literal("false", Boolean.FALSE);
        case 'n':
          return literal("null", null);
        default:
          return number();
      }
    }

    private Object literal(String word, Object v) {
      if (!s.startsWith(word, i)) {
        throw new IllegalArgumentException("bad JSON at " + i + ": " + s);
      }
      i += word.length();
      return v;
    }

    private Map<String, Object> object() {
      Map<String, Object> m = new HashMap<>();
      i++;
      ws();
      if (s.charAt(i) == '}') {
        i++;
        return m;
      }
      while (true) {
        ws();
        String k = string();
        ws();
        expect(':');
        m.put(k, value());
        ws();
        if (s.charAt(i) == '}') {
          i++;
          return m;
        }
        expect(',');
      }
    }

    private List<Object> array() {
      List<Object> l = new ArrayList<>();
      i++;
      ws();
      if (s.charAt(i) == ']') {
        i++;
        return l;
      }
      while (true) {
        l.add(value());
        ws();
        if (s.charAt(i) == ']') {
          i++;
          return l;
        }
        expect(',');
      }
    }

    private void expect(char ch) {
      if (s.charAt(i) != ch) {
        throw new IllegalArgumentException("expected " + ch + " at " + i + ": " + s);
      }
      i++;
    }

    private String string() {
      expect('"');
      StringBuilder b = new StringBuilder();
      while (s.charAt(i) != '"') {
        char ch = s.charAt(i++);
        if (ch != '\\') {
          b.append(ch);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case 'n' -> b.append('\n');
          case 't' -> b.append('\t');
          case 'r' -> b.append('\r');
          case 'b' -> b.append('\b');
          case 'f' -> b.append('\f');
          case 'u' -> {
            b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> b.append(e);
        }
      }
      i++;
      return b.toString();
    }

    private BigDecimal number() {
      int start = i;
      while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
        i++;
      }
      if (start == i) {
        throw new IllegalArgumentException("bad JSON at " + i + ": " + s);
      }
      BigDecimal d = new BigDecimal(s.substring(start, i));
      // 2.5 and 2.50 are the same JSON number.
      return d.signum() == 0 ? BigDecimal.ZERO : d.stripTrailingZeros();
    }
  }
}
