-- The pending e-mail verification code of each unverified account, stored as a hash. A resend
-- replaces it; verification deletes it.
CREATE TABLE verification_codes (
    user_id    BLOB PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    sent_at    TEXT NOT NULL
);

-- Refresh tokens, stored as hashes. Each login is a family (`family_id`, the session id);
-- rotation spends a token and adds the next one to its family, and presenting a spent token
-- again revokes the whole family.
CREATE TABLE refresh_tokens (
    id         BLOB PRIMARY KEY NOT NULL,
    user_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id  BLOB NOT NULL,
    token_hash TEXT NOT NULL CONSTRAINT refresh_tokens_token_hash_key UNIQUE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    spent_at   TEXT,
    revoked_at TEXT
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at);
CREATE INDEX verification_codes_expires ON verification_codes (expires_at);
