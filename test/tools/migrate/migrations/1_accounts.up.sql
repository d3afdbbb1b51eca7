CREATE TABLE gm_accounts (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE gm_transfers (
    id bigserial PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES gm_accounts (id) ON DELETE CASCADE,
    amount numeric(12, 2) NOT NULL CHECK (amount <> 0)
);
CREATE INDEX gm_transfers_account ON gm_transfers (account_id);
