-- +goose Up
-- The admin chart of players active per day counts distinct players among the raids of the
-- last week. raids_enter_time (enter_time, id) would fetch every one of those rows from the
-- table for its user_id; with user_id in the index the count is an index-only scan of the
-- week's entries.
CREATE INDEX raids_enter_user ON raids (enter_time, user_id);

-- +goose Down
DROP INDEX raids_enter_user;
