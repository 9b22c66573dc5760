-- +goose Up
-- Every instance keeps the ranking in memory; these notifications, sent at commit, tell them
-- each player's new total ('total:ID:TOTAL'). Totals only go up, so only a rise is sent. A
-- statement that raises more than 1000 totals (a bulk repair) sends one 'totals' instead: the
-- listeners reload every total rather than read a flood.
-- +goose StatementBegin
CREATE FUNCTION bossraid_notify_raised_totals() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    raised BIGINT;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO raised FROM new_rows WHERE total_score > 0;
        IF raised > 1000 THEN
            PERFORM pg_notify('bossraid_changes', 'totals');
        ELSIF raised > 0 THEN
            PERFORM pg_notify('bossraid_changes', 'total:' || id || ':' || total_score)
            FROM new_rows WHERE total_score > 0;
        END IF;
    ELSE
        SELECT count(*) INTO raised
        FROM new_rows n JOIN old_rows o USING (id) WHERE n.total_score > o.total_score;
        IF raised > 1000 THEN
            PERFORM pg_notify('bossraid_changes', 'totals');
        ELSIF raised > 0 THEN
            PERFORM pg_notify('bossraid_changes', 'total:' || n.id || ':' || n.total_score)
            FROM new_rows n JOIN old_rows o USING (id) WHERE n.total_score > o.total_score;
        END IF;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER users_notify_total_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_notify_raised_totals();
CREATE TRIGGER users_notify_total_update AFTER UPDATE ON users REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_notify_raised_totals();

-- +goose Down
DROP TRIGGER users_notify_total_update ON users;
DROP TRIGGER users_notify_total_insert ON users;
DROP FUNCTION bossraid_notify_raised_totals();
