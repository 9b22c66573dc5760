-- +goose Up
-- Every instance caches who may use a token and who is inside the raid; these notifications,
-- sent at commit, tell them all what went stale.
-- +goose StatementBegin
CREATE FUNCTION bossraid_notify_player() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bossraid_changes', 'player:' || NEW.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER users_notify_change
    AFTER UPDATE OF token_version, role ON users
    FOR EACH ROW
    WHEN (OLD.token_version IS DISTINCT FROM NEW.token_version OR OLD.role IS DISTINCT FROM NEW.role)
    EXECUTE FUNCTION bossraid_notify_player();

-- +goose StatementBegin
CREATE FUNCTION bossraid_notify_raid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bossraid_changes', 'raid:' || NEW.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER raids_notify_change
    AFTER INSERT OR UPDATE OF status ON raids
    FOR EACH ROW
    EXECUTE FUNCTION bossraid_notify_raid();

-- +goose Down
DROP TRIGGER raids_notify_change ON raids;
DROP FUNCTION bossraid_notify_raid();
DROP TRIGGER users_notify_change ON users;
DROP FUNCTION bossraid_notify_player();
