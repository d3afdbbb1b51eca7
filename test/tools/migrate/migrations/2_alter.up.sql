ALTER TABLE gm_accounts ADD COLUMN name varchar(100);
ALTER TABLE gm_accounts ALTER COLUMN name SET DEFAULT 'anonymous';
ALTER TABLE gm_transfers ADD COLUMN note text;
ALTER TABLE gm_transfers ADD CONSTRAINT gm_transfers_note_len CHECK (length(note) < 200);
