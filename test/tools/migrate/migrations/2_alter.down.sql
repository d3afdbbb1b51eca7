ALTER TABLE gm_transfers DROP CONSTRAINT gm_transfers_note_len;
ALTER TABLE gm_transfers DROP COLUMN note;
ALTER TABLE gm_accounts DROP COLUMN name;
