-- update: one autocommit update by primary key (mixed runs it 1 time in 10,
-- beside point_select 9 times in 10).
\set a random(1, 100000)
\set d random(1, 1000)
UPDATE accounts SET balance = balance + :d WHERE id = :a;
