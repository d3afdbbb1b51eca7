-- point_select: read one account by primary key (read-only: also runs on a
-- pgraft follower and a PostgreSQL hot standby).
\set a random(1, 100000)
SELECT id, balance FROM accounts WHERE id = :a;
