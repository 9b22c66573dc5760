-- +goose Up
CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email         TEXT        NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    nickname      TEXT        NOT NULL,
    -- nickname folded by the application (Unicode case folding the database's locale may lack)
    nickname_key  TEXT        NOT NULL,
    phone         TEXT        NOT NULL DEFAULT '',
    password_hash TEXT        NOT NULL,
    role          TEXT        NOT NULL DEFAULT 'player' CHECK (role IN ('player', 'admin')),
    -- moved on at every sign-out: access tokens carry the version they were minted under
    token_version BIGINT      NOT NULL DEFAULT 1,
    -- sum of the scores of the player's successful raids, kept in the same transaction as they end
    total_score   BIGINT      NOT NULL DEFAULT 0 CHECK (total_score >= 0),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE UNIQUE INDEX users_nickname_key ON users (nickname_key);
-- the ranking: players with points, by total descending then id
CREATE INDEX users_ranking ON users (total_score DESC, id) WHERE total_score > 0;

CREATE TABLE profile_images (
    key          TEXT        PRIMARY KEY,
    user_id      BIGINT      NOT NULL UNIQUE REFERENCES users (id) ON DELETE CASCADE,
    content_type TEXT        NOT NULL CHECK (content_type IN ('image/png', 'image/jpeg', 'image/webp')),
    data         BYTEA       NOT NULL CHECK (octet_length(data) <= 1048576),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE refresh_tokens (
    id         TEXT        PRIMARY KEY,
    user_id    BIGINT      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_live ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- web sessions, in the layout github.com/alexedwards/scs/postgresstore expects
CREATE TABLE sessions (
    token  TEXT        PRIMARY KEY,
    data   BYTEA       NOT NULL,
    expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
DROP TABLE refresh_tokens;
DROP TABLE profile_images;
DROP TABLE users;
