-- +goose Up
-- The line of players waiting for the raid (issue 14; the rules are core/raids' queue.go).
-- Only facts are stored: who waits, in which order, with which turn length, and when the
-- head's turn may start at the earliest; whose turn it is and which turns lapsed follow from
-- them and the raids at the database's clock, so no job has to move the line on.

-- Every change to the line holds the queue's advisory lock exclusively (entering the raid
-- holds it shared, adapters/postgres/queue.go), so joins are numbered one at a time from
-- next_seq here: the order of the line is the order they committed.
CREATE TABLE raid_queue_state (
    id           BOOLEAN PRIMARY KEY DEFAULT true CHECK (id),
    next_seq     BIGINT NOT NULL DEFAULT 0,
    -- the earliest the head's turn may start besides the raid being free: when the holder
    -- before it left, or when the turns before it lapsed; NULL while nobody waits
    turn_from    TIMESTAMPTZ,
    turns_taken  BIGINT NOT NULL DEFAULT 0 CHECK (turns_taken >= 0),
    turns_lapsed BIGINT NOT NULL DEFAULT 0 CHECK (turns_lapsed >= 0)
);
INSERT INTO raid_queue_state DEFAULT VALUES;

CREATE TABLE raid_queue (
    user_id   BIGINT      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    seq       BIGINT      NOT NULL UNIQUE,
    joined_at TIMESTAMPTZ NOT NULL,
    -- how long this player's turn lasts, fixed when they joined (QUEUE_TURN then)
    turn      INTERVAL    NOT NULL CHECK (turn > interval '0')
);

-- +goose Down
DROP TABLE raid_queue;
DROP TABLE raid_queue_state;
