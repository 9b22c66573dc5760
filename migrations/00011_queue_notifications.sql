-- +goose Up
-- Every instance keeps the raid queue's line in memory between changes (adapters/hot); this
-- notification, sent at commit, tells them the line changed: a join, a leave, a turn taken or
-- lapsed players tidied away. One per transaction (Postgres folds equal payloads).
-- +goose StatementBegin
CREATE FUNCTION bossraid_notify_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bossraid_changes', 'queue');
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER raid_queue_notify AFTER INSERT OR UPDATE OR DELETE ON raid_queue
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_notify_queue();
CREATE TRIGGER raid_queue_state_notify AFTER UPDATE ON raid_queue_state
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_notify_queue();

-- +goose Down
DROP TRIGGER raid_queue_state_notify ON raid_queue_state;
DROP TRIGGER raid_queue_notify ON raid_queue;
DROP FUNCTION bossraid_notify_queue();
