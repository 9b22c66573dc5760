-- +goose Up
-- The players active each UTC day (days since the Unix epoch, as the admin chart shows them):
-- one row per player and day with a raid entered, and the count per day, kept by the statements
-- that insert and delete raids, so the chart reads a week as seven rows however many raids it
-- holds. A raid's player and entry time never change, so updates leave both alone.
CREATE TABLE player_days (
    day     BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    PRIMARY KEY (day, user_id)
);
CREATE TABLE day_players (
    day BIGINT PRIMARY KEY,
    n   BIGINT NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION bossraid_raid_day(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT floor(extract(epoch FROM t) / 86400)::bigint
$$;
-- +goose StatementEnd

-- One call per statement, in key order so two transactions never lock rows in opposite orders.
-- A deleted raid takes its player's day with it only when no other raid of theirs is left that day.
-- +goose StatementBegin
CREATE FUNCTION bossraid_count_player_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        WITH added AS (
            INSERT INTO player_days (day, user_id)
            SELECT DISTINCT bossraid_raid_day(enter_time), user_id FROM new_rows ORDER BY 1, 2
            ON CONFLICT DO NOTHING
            RETURNING day)
        INSERT INTO day_players (day, n)
        SELECT day, count(*) FROM added GROUP BY 1 ORDER BY 1
        ON CONFLICT (day) DO UPDATE SET n = day_players.n + EXCLUDED.n;
    ELSE
        WITH gone AS (
            DELETE FROM player_days p
            USING (SELECT DISTINCT bossraid_raid_day(enter_time) AS day, user_id FROM old_rows) o
            WHERE p.day = o.day AND p.user_id = o.user_id
              AND NOT EXISTS (SELECT 1 FROM raids r WHERE r.user_id = o.user_id
                              AND r.enter_time >= to_timestamp(o.day * 86400)
                              AND r.enter_time < to_timestamp((o.day + 1) * 86400))
            RETURNING p.day)
        INSERT INTO day_players (day, n)
        SELECT day, -count(*) FROM gone GROUP BY 1 ORDER BY 1
        ON CONFLICT (day) DO UPDATE SET n = day_players.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER raids_player_days_insert AFTER INSERT ON raids REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_count_player_days();
CREATE TRIGGER raids_player_days_delete AFTER DELETE ON raids REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_count_player_days();

-- The recount and the truncate hook of migration 00006 cover the new counters too.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bossraid_recount() RETURNS void LANGUAGE sql AS $$
    DELETE FROM raid_totals;
    DELETE FROM raid_hours;
    DELETE FROM player_counts;
    DELETE FROM player_days;
    DELETE FROM day_players;
    INSERT INTO raid_hours (hour, level, status, n)
    SELECT bossraid_raid_hour(enter_time), level, status, count(*) FROM raids GROUP BY 1, 2, 3;
    INSERT INTO raid_totals (level, status, n)
    SELECT level, status, sum(n) FROM raid_hours GROUP BY 1, 2;
    INSERT INTO player_counts (shard, n) SELECT id % 8, count(*) FROM users GROUP BY 1;
    INSERT INTO player_days (day, user_id)
    SELECT DISTINCT bossraid_raid_day(enter_time), user_id FROM raids;
    INSERT INTO day_players (day, n) SELECT day, count(*) FROM player_days GROUP BY 1;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bossraid_truncate_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        DELETE FROM player_counts;
    ELSE
        DELETE FROM raid_totals;
        DELETE FROM raid_hours;
        DELETE FROM player_days;
        DELETE FROM day_players;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

INSERT INTO player_days (day, user_id) SELECT DISTINCT bossraid_raid_day(enter_time), user_id FROM raids;
INSERT INTO day_players (day, n) SELECT day, count(*) FROM player_days GROUP BY 1;

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bossraid_truncate_counts() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'users' THEN
        DELETE FROM player_counts;
    ELSE
        DELETE FROM raid_totals;
        DELETE FROM raid_hours;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION bossraid_recount() RETURNS void LANGUAGE sql AS $$
    DELETE FROM raid_totals;
    DELETE FROM raid_hours;
    DELETE FROM player_counts;
    INSERT INTO raid_hours (hour, level, status, n)
    SELECT bossraid_raid_hour(enter_time), level, status, count(*) FROM raids GROUP BY 1, 2, 3;
    INSERT INTO raid_totals (level, status, n)
    SELECT level, status, sum(n) FROM raid_hours GROUP BY 1, 2;
    INSERT INTO player_counts (shard, n) SELECT id % 8, count(*) FROM users GROUP BY 1;
$$;
-- +goose StatementEnd
DROP TRIGGER raids_player_days_delete ON raids;
DROP TRIGGER raids_player_days_insert ON raids;
DROP FUNCTION bossraid_count_player_days();
DROP FUNCTION bossraid_raid_day(TIMESTAMPTZ);
DROP TABLE day_players;
DROP TABLE player_days;
