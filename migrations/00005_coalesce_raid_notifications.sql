-- +goose Up
-- Listeners only need to know that some raid changed, not which: one constant payload lets
-- Postgres fold every row of a transaction into one notification (a bulk load sends one,
-- not millions).
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bossraid_notify_raid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bossraid_changes', 'raid');
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bossraid_notify_raid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bossraid_changes', 'raid:' || NEW.id);
    RETURN NULL;
END
$$;
-- +goose StatementEnd
