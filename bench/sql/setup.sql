-- The benchmark's tables, loaded unchanged into pgraft and PostgreSQL
-- (psql -v ON_ERROR_STOP=1 -f setup.sql). Re-running it starts over.
-- Plain types only: BIGINT and TEXT, keys given by the client (no serial:
-- the workloads choose their own ids), data made with a recursive CTE.
DROP TABLE IF EXISTS kv;
DROP TABLE IF EXISTS history;
DROP TABLE IF EXISTS accounts;
DROP TABLE IF EXISTS copy_rows;

CREATE TABLE kv (k BIGINT PRIMARY KEY, v TEXT);
CREATE TABLE accounts (id BIGINT PRIMARY KEY, balance BIGINT NOT NULL);
CREATE TABLE history (id BIGINT PRIMARY KEY, account BIGINT NOT NULL, delta BIGINT NOT NULL);

-- 100,000 accounts with 1,000,000 each; bench.sh checks the count.
INSERT INTO accounts (id, balance)
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
SELECT i, 1000000 FROM n;
