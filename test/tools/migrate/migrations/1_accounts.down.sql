DROP TABLE gm_transfers;
DROP TABLE gm_accounts;
