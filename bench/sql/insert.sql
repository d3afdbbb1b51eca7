-- insert: one autocommit upsert of a 64-byte value under a random key.
\set k random(1, 1000000000)
INSERT INTO kv (k, v) VALUES (:k, 'bench-value-0123456789abcdef0123456789abcdef0123456789abcdef0123') ON CONFLICT (k) DO UPDATE SET v = excluded.v;
