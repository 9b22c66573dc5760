-- +goose Up
-- A player's history pages by a per-player ordinal, so the page at any offset is one index
-- seek: seq is 1, 2, 3 … in the order of the player's raids (their ids), and max(seq) is how
-- many raids the player has. The admin counts come from counters kept by the same
-- transactions that insert and change raids, not from scans.

ALTER TABLE raids ADD COLUMN seq BIGINT;
UPDATE raids r SET seq = o.seq
FROM (SELECT id, row_number() OVER (PARTITION BY user_id ORDER BY id) AS seq FROM raids) o
WHERE r.id = o.id;
ALTER TABLE raids ALTER COLUMN seq SET NOT NULL, ADD CONSTRAINT raids_seq_positive CHECK (seq > 0);
-- Also what keeps two simultaneous inserts for one player from sharing an ordinal.
CREATE UNIQUE INDEX raids_user_seq ON raids (user_id, seq);
-- raids_user_seq answers everything the old per-player index did.
DROP INDEX raids_user_history;

-- The next ordinal of the player. Rows inserted earlier by the same statement are visible
-- here, so a multi-row insert numbers its rows one after another; a bulk load with triggers
-- disabled must give seq itself (and then call bossraid_recount()).
-- +goose StatementBegin
CREATE FUNCTION bossraid_raid_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.seq IS NULL THEN
        SELECT coalesce(max(seq), 0) + 1 INTO NEW.seq FROM raids WHERE user_id = NEW.user_id;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER raids_seq BEFORE INSERT ON raids FOR EACH ROW EXECUTE FUNCTION bossraid_raid_seq();

-- Raids counted by level and stored status: all of them, and per hour of entry (hours since
-- the Unix epoch, so no time zone setting can shift a bucket). The one raid stored in
-- progress may have expired; readers judge that one row by its deadline.
CREATE TABLE raid_totals (
    level  INTEGER NOT NULL,
    status TEXT    NOT NULL,
    n      BIGINT  NOT NULL,
    PRIMARY KEY (level, status)
);
CREATE TABLE raid_hours (
    hour   BIGINT  NOT NULL,
    level  INTEGER NOT NULL,
    status TEXT    NOT NULL,
    n      BIGINT  NOT NULL,
    PRIMARY KEY (hour, level, status)
);
-- Players counted in a few shards, so simultaneous sign-ups seldom wait for each other.
CREATE TABLE player_counts (
    shard INTEGER PRIMARY KEY,
    n     BIGINT  NOT NULL
);

-- +goose StatementBegin
CREATE FUNCTION bossraid_raid_hour(t TIMESTAMPTZ) RETURNS BIGINT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT floor(extract(epoch FROM t) / 3600)::bigint
$$;
-- +goose StatementEnd

-- Adds the rows of d (hour, level, status, k) to both counters, in key order so that two
-- transactions never lock the same counters in opposite orders.
-- +goose StatementBegin
CREATE FUNCTION bossraid_add_raid_counts(d JSONB) RETURNS void LANGUAGE sql AS $$
    INSERT INTO raid_hours (hour, level, status, n)
    SELECT hour, level, status, sum(k) FROM jsonb_to_recordset(d) AS x(hour BIGINT, level INTEGER, status TEXT, k BIGINT)
    GROUP BY 1, 2, 3 HAVING sum(k) <> 0 ORDER BY 1, 2, 3
    ON CONFLICT (hour, level, status) DO UPDATE SET n = raid_hours.n + EXCLUDED.n;
    INSERT INTO raid_totals (level, status, n)
    SELECT level, status, sum(k) FROM jsonb_to_recordset(d) AS x(hour BIGINT, level INTEGER, status TEXT, k BIGINT)
    GROUP BY 1, 2 HAVING sum(k) <> 0 ORDER BY 1, 2
    ON CONFLICT (level, status) DO UPDATE SET n = raid_totals.n + EXCLUDED.n;
$$;
-- +goose StatementEnd

-- One call per statement, with the statement's rows as transition tables: a statement that
-- changes nothing (the usual "close expired" and every refused enter) writes nothing.
-- +goose StatementBegin
CREATE FUNCTION bossraid_count_raids() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    d JSONB;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT jsonb_agg(jsonb_build_object('hour', hour, 'level', level, 'status', status, 'k', k)) INTO d
        FROM (SELECT bossraid_raid_hour(enter_time) AS hour, level, status, count(*) AS k
              FROM new_rows GROUP BY 1, 2, 3) c;
    ELSIF TG_OP = 'UPDATE' THEN
        SELECT jsonb_agg(jsonb_build_object('hour', hour, 'level', level, 'status', status, 'k', k)) INTO d
        FROM (SELECT hour, level, status, sum(k) AS k FROM (
                  SELECT bossraid_raid_hour(enter_time) AS hour, level, status, 1 AS k FROM new_rows
                  UNION ALL
                  SELECT bossraid_raid_hour(enter_time), level, status, -1 FROM old_rows) x
              GROUP BY 1, 2, 3 HAVING sum(k) <> 0) c;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('hour', hour, 'level', level, 'status', status, 'k', -k)) INTO d
        FROM (SELECT bossraid_raid_hour(enter_time) AS hour, level, status, count(*) AS k
              FROM old_rows GROUP BY 1, 2, 3) c;
    END IF;
    IF d IS NOT NULL THEN
        PERFORM bossraid_add_raid_counts(d);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER raids_count_insert AFTER INSERT ON raids REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_count_raids();
CREATE TRIGGER raids_count_update AFTER UPDATE ON raids REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_count_raids();
CREATE TRIGGER raids_count_delete AFTER DELETE ON raids REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_count_raids();

-- +goose StatementBegin
CREATE FUNCTION bossraid_count_players() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO player_counts (shard, n)
        SELECT id % 8, count(*) FROM new_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (shard) DO UPDATE SET n = player_counts.n + EXCLUDED.n;
    ELSE
        INSERT INTO player_counts (shard, n)
        SELECT id % 8, -count(*) FROM old_rows GROUP BY 1 ORDER BY 1
        ON CONFLICT (shard) DO UPDATE SET n = player_counts.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER users_count_insert AFTER INSERT ON users REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_count_players();
CREATE TRIGGER users_count_delete AFTER DELETE ON users REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_count_players();

-- Recounts everything from the tables: the backfill below, and what a bulk load that
-- disabled the triggers calls before it commits.
-- +goose StatementBegin
CREATE FUNCTION bossraid_recount() RETURNS void LANGUAGE sql AS $$
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

-- TRUNCATE fires no row or statement triggers of its own kind: start the counters again.
-- +goose StatementBegin
CREATE FUNCTION bossraid_truncate_counts() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER raids_count_truncate AFTER TRUNCATE ON raids
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_truncate_counts();
CREATE TRIGGER users_count_truncate AFTER TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION bossraid_truncate_counts();

SELECT bossraid_recount();

-- +goose Down
DROP TRIGGER users_count_truncate ON users;
DROP TRIGGER raids_count_truncate ON raids;
DROP FUNCTION bossraid_truncate_counts();
DROP FUNCTION bossraid_recount();
DROP TRIGGER users_count_delete ON users;
DROP TRIGGER users_count_insert ON users;
DROP FUNCTION bossraid_count_players();
DROP TRIGGER raids_count_delete ON raids;
DROP TRIGGER raids_count_update ON raids;
DROP TRIGGER raids_count_insert ON raids;
DROP FUNCTION bossraid_count_raids();
DROP FUNCTION bossraid_add_raid_counts(JSONB);
DROP FUNCTION bossraid_raid_hour(TIMESTAMPTZ);
DROP TABLE player_counts;
DROP TABLE raid_hours;
DROP TABLE raid_totals;
DROP TRIGGER raids_seq ON raids;
DROP FUNCTION bossraid_raid_seq();
CREATE INDEX raids_user_history ON raids (user_id, id DESC);
DROP INDEX raids_user_seq;
ALTER TABLE raids DROP COLUMN seq;
