-- transfer: an interactive TPC-B-like transaction, five round trips.
-- Rows are updated in ascending id order, so transfers do not deadlock;
-- the history id is random over 63 bits (a duplicate is ~1 in 10^7 per
-- million inserts).
\set a random(1, 100000)
\set b random(1, 100000)
\set lo least(:a, :b)
\set hi greatest(:a, :b)
\set d random(1, 1000)
\set h random(1, 9000000000000000000)
BEGIN;
UPDATE accounts SET balance = balance - :d WHERE id = :lo;
UPDATE accounts SET balance = balance + :d WHERE id = :hi;
INSERT INTO history (id, account, delta) VALUES (:h, :lo, :d);
COMMIT;
