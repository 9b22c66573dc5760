-- +goose Up
-- The admin lists read keyset pages through these, so a page costs the same at any depth.
-- raids by score (the "best score first" order)
CREATE INDEX raids_score ON raids (score DESC, id DESC);
-- one player's raids in enter-time order (the raids list filtered by player)
CREATE INDEX raids_user_enter ON raids (user_id, enter_time DESC, id DESC);
-- players by total, zero totals included (users_ranking holds only totals above 0)
CREATE INDEX users_total ON users (total_score DESC, id DESC);
-- prefix search on nicknames and emails whatever the database's collation
CREATE INDEX users_nickname_prefix ON users (nickname_key text_pattern_ops);
CREATE INDEX users_email_prefix ON users (email text_pattern_ops);

-- +goose Down
DROP INDEX users_email_prefix;
DROP INDEX users_nickname_prefix;
DROP INDEX users_total;
DROP INDEX raids_user_enter;
DROP INDEX raids_score;
