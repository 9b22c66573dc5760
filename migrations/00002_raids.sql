-- +goose Up
CREATE TABLE raids (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    level       INTEGER     NOT NULL CHECK (level >= 0),
    -- what clearing it is worth and the limit it ran under, fixed at entry
    level_score INTEGER     NOT NULL CHECK (level_score >= 0),
    time_limit  INTERVAL    NOT NULL CHECK (time_limit > interval '0'),
    status      TEXT        NOT NULL CHECK (status IN ('in_progress', 'success', 'fail')),
    score       INTEGER     NOT NULL DEFAULT 0 CHECK (score >= 0),
    enter_time  TIMESTAMPTZ NOT NULL DEFAULT now(),
    deadline    TIMESTAMPTZ NOT NULL,
    end_time    TIMESTAMPTZ,
    CHECK (deadline > enter_time),
    CHECK ((status = 'in_progress') = (end_time IS NULL)),
    CHECK (status = 'success' OR score = 0)
);
-- The one-player-at-a-time rule: at most one row may be in progress, whatever the instances do.
CREATE UNIQUE INDEX raids_one_in_progress ON raids ((true)) WHERE status = 'in_progress';
CREATE INDEX raids_user_history ON raids (user_id, id DESC);
CREATE INDEX raids_enter_time ON raids (enter_time DESC, id DESC);

-- +goose Down
DROP TABLE raids;
