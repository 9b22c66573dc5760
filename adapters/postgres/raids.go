package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Raids is the ports.RaidStore on the raids table. The database clock (now()) decides every
// deadline, and the partial unique index raids_one_in_progress lets one raid at most be in
// progress whatever the instances do.
type Raids struct {
	db    *sql.DB
	stmts *statements
}

// NewRaids returns the raid store on db.
func NewRaids(db *sql.DB) *Raids { return &Raids{db: db, stmts: &statements{db: db}} }

var _ ports.RaidStore = (*Raids)(nil)

// raidColumns need the raid as r and its player as u.
const raidColumns = `r.id, r.user_id, u.nickname, r.level, r.level_score, r.score, r.status,
	r.enter_time, r.deadline, r.end_time, (extract(epoch FROM r.time_limit) * 1000000)::bigint`

// scanRaid reads raidColumns followed by extra.
func scanRaid(row interface{ Scan(...any) error }, extra ...any) (raids.Raid, error) {
	var rr raidRow
	if err := row.Scan(append(rr.dest(), extra...)...); err != nil {
		return raids.Raid{}, err
	}
	return rr.raid()
}

// raidRow receives raidColumns.
type raidRow struct {
	r           raids.Raid
	status      string
	end         sql.NullTime
	limitMicros int64
}

func (rr *raidRow) dest() []any {
	r := &rr.r
	return []any{&r.ID, &r.UserID, &r.Nickname, &r.Level, &r.LevelScore, &r.Score, &rr.status,
		&r.EnterTime, &r.Deadline, &rr.end, &rr.limitMicros}
}

func (rr *raidRow) raid() (raids.Raid, error) {
	r := rr.r
	var err error
	if r.Status, err = raids.ParseStatus(rr.status); err != nil {
		return raids.Raid{}, err
	}
	r.EnterTime, r.Deadline = r.EnterTime.UTC(), r.Deadline.UTC()
	if rr.end.Valid {
		t := rr.end.Time.UTC()
		r.EndTime = &t
	}
	r.TimeLimit = time.Duration(rr.limitMicros) * time.Microsecond
	return r, nil
}

func interval(d time.Duration) string { return fmt.Sprintf("%d microseconds", d.Microseconds()) }

// enterAttempts bounds retries when the raid holder ends between our insert and our look.
const enterAttempts = 5

// EnterRaid starts a raid unless one is in progress; expired ones are closed first.
func (s *Raids) EnterRaid(ctx context.Context, userID int64, level raids.Level, limit time.Duration) (raids.Raid, error) {
	if limit < time.Microsecond {
		return raids.Raid{}, fmt.Errorf("enter raid: time limit %v is not positive", limit)
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	exclusive := false // the first try only reads the line; one that must change it tries again
	for range enterAttempts {
		r, entered, holder, err := s.tryEnter(ctx, userID, level, limit, exclusive)
		if errors.Is(err, errChangesLine) {
			exclusive = true
			continue
		}
		if err != nil {
			return raids.Raid{}, err
		}
		if entered {
			return r, nil
		}
		if holder != nil {
			return raids.Raid{}, holder
		}
	}
	return raids.Raid{}, fmt.Errorf("enter raid: %w (the raid kept changing hands)", ports.ErrUnavailable)
}

// errChangesLine says an entry must take the queue lock exclusively: it changes the line.
var errChangesLine = errors.New("the entry changes the queue")

// tryEnter is one entry transaction. It returns the new raid, or who holds the raid, or
// neither when the holder left before we could see them. A turn held by someone else in the
// queue refuses the entry with *raids.ReservedError. Without exclusive it returns
// errChangesLine when entering would change the line (the player waits in it, or lapsed
// players must go before a raid starts).
func (s *Raids) tryEnter(ctx context.Context, userID int64, level raids.Level, limit time.Duration, exclusive bool) (r raids.Raid, entered bool, holder *raids.BusyError, err error) {
	var refused error
	err = inTx(ctx, s.db, "enter raid", func(tx *sql.Tx) error {
		// The queue lock orders this entry with every join and leave (queue.go); the line is
		// judged, and expired raids closed, at the time the lock was granted.
		line, err := takeLine(ctx, tx, exclusive)
		if err != nil {
			return err
		}
		if refused = line.CheckEntry(userID); refused != nil {
			return nil // commit what tidying the line did
		}
		if !exclusive && (line.Lapsed > 0 || line.Position(userID) > 0) {
			return errChangesLine
		}
		if _, err := tx.ExecContext(ctx, `
			UPDATE raids SET status = 'fail', end_time = deadline
			WHERE status = 'in_progress' AND deadline <= $1`, line.now); err != nil {
			return dbError("enter raid: close expired", err)
		}
		// The unique index makes every other simultaneous insert wait for this one and then
		// do nothing: exactly one player gets in.
		var id int64
		err = tx.QueryRowContext(ctx, `
			INSERT INTO raids (user_id, level, level_score, time_limit, status, enter_time, deadline)
			VALUES ($1, $2, $3, $4::interval, 'in_progress', now(), now() + $4::interval)
			ON CONFLICT DO NOTHING
			RETURNING id`,
			userID, level.Level, level.Score, interval(limit)).Scan(&id)
		if err == nil {
			// The insert may have waited for the previous raid to be cleared, after now() (the
			// transaction's start): the raid starts when it got in, so raids never overlap.
			r, err = scanRaid(tx.QueryRowContext(ctx, `
				WITH r AS (
					UPDATE raids SET enter_time = c.t, deadline = c.t + time_limit
					FROM (SELECT clock_timestamp() AS t) c
					WHERE id = $1
					RETURNING raids.*)
				SELECT `+raidColumns+` FROM r JOIN users u ON u.id = r.user_id`, id))
			if err != nil {
				return dbError("enter raid: start", err)
			}
			entered = true
			return takeTurn(ctx, tx, line, userID)
		}
		if pq.As(err, "23503") != nil {
			return users.ErrNotFound
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return dbError("enter raid", err)
		}
		var b raids.BusyError
		err = tx.QueryRowContext(ctx,
			`SELECT user_id, id FROM raids WHERE status = 'in_progress'`).Scan(&b.UserID, &b.RaidID)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return dbError("enter raid: who is inside", err)
		}
		holder = &b
		return nil
	})
	if err == nil && refused != nil {
		err = refused
	}
	return r, entered, holder, err
}

// takeTurn takes the player who entered out of the line, counting the turn they held.
func takeTurn(ctx context.Context, tx *sql.Tx, line lockedLine, userID int64) error {
	if _, err := leaveLine(ctx, tx, line, userID); err != nil {
		return err
	}
	if line.Reservation == nil || line.Reservation.UserID != userID {
		return nil
	}
	_, err := tx.ExecContext(ctx, `UPDATE raid_queue_state SET turns_taken = turns_taken + 1`)
	return dbError("enter raid: take the turn", err)
}

// UpdateRaid locks the raid and stores what change makes of it, with the score difference
// added to the player's total in the same transaction.
func (s *Raids) UpdateRaid(ctx context.Context, raidID int64, change func(r raids.Raid, now time.Time) (raids.Raid, error)) (result raids.Raid, total int64, changeErr error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	err := inTx(ctx, s.db, "update raid", func(tx *sql.Tx) error {
		var now time.Time
		// The player is locked too: a waiter re-reads only locked rows, and must see the
		// total the clear before it committed.
		stored, err := scanRaid(tx.QueryRowContext(ctx, `
			SELECT `+raidColumns+`, u.total_score, now()
			FROM raids r JOIN users u ON u.id = r.user_id
			WHERE r.id = $1
			FOR UPDATE OF r FOR NO KEY UPDATE OF u`, raidID), &total, &now)
		if errors.Is(err, sql.ErrNoRows) {
			return raids.ErrNotFound
		}
		if err != nil {
			return dbError("update raid", err)
		}
		now = now.UTC()
		var changed raids.Raid
		changed, changeErr = change(stored.At(now), now)
		if !stored.Changed(changed) {
			result = stored.At(now)
			return nil
		}
		if _, err := tx.ExecContext(ctx,
			`UPDATE raids SET status = $2, score = $3, end_time = $4 WHERE id = $1`,
			raidID, changed.Status.String(), changed.Score, changed.EndTime); err != nil {
			return dbError("update raid", err)
		}
		if delta := changed.Score - stored.Score; delta != 0 {
			if err := tx.QueryRowContext(ctx,
				`UPDATE users SET total_score = total_score + $2 WHERE id = $1 RETURNING total_score`,
				stored.UserID, delta).Scan(&total); err != nil {
				return dbError("update raid: total score", err)
			}
		}
		result = stored
		result.Status, result.Score, result.EndTime = changed.Status, changed.Score, changed.EndTime
		return nil
	})
	if err != nil {
		return raids.Raid{}, 0, err
	}
	return result, total, changeErr
}

// CurrentRaid returns the raid in progress at the database's now, if any.
func (s *Raids) CurrentRaid(ctx context.Context) (raids.Raid, bool, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var now time.Time
	r, err := scanRaid(s.db.QueryRowContext(ctx, `
		SELECT `+raidColumns+`, now()
		FROM raids r JOIN users u ON u.id = r.user_id
		WHERE r.status = 'in_progress'`), &now)
	if errors.Is(err, sql.ErrNoRows) {
		return raids.Raid{}, false, nil
	}
	if err != nil {
		return raids.Raid{}, false, dbError("current raid", err)
	}
	if !r.InProgressAt(now) {
		return raids.Raid{}, false, nil
	}
	return r, true, nil
}

// RaidByID returns the raid as it stands at the database's now.
func (s *Raids) RaidByID(ctx context.Context, raidID int64) (raids.Raid, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	var now time.Time
	r, err := scanRaid(s.db.QueryRowContext(ctx, `
		SELECT `+raidColumns+`, now()
		FROM raids r JOIN users u ON u.id = r.user_id
		WHERE r.id = $1`, raidID), &now)
	if errors.Is(err, sql.ErrNoRows) {
		return raids.Raid{}, raids.ErrNotFound
	}
	if err != nil {
		return raids.Raid{}, dbError("raid by id", err)
	}
	return r.At(now), nil
}

// History returns one page of the player's raids, newest first, and how many they have.
// The player's raids are numbered 1, 2, 3 … (seq, migration 00006), so the count is the last
// number and the page at any offset is one seek on raids_user_seq: the same cost at the
// 10,000th raid as at the first.
func (s *Raids) History(ctx context.Context, userID int64, offset, limit int) ([]raids.Raid, int, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	offset, limit = max(offset, 0), max(limit, 0)
	rows, err := s.stmts.query(ctx, `
		SELECT `+raidColumns+`, now(), c.n
		FROM (SELECT coalesce(max(seq), 0) AS n FROM raids WHERE user_id = $1) c
		CROSS JOIN LATERAL (
			SELECT * FROM raids WHERE user_id = $1 AND seq <= c.n - $2
			ORDER BY seq DESC LIMIT $3) r
		JOIN users u ON u.id = r.user_id
		ORDER BY r.seq DESC`, userID, offset, limit)
	if err != nil {
		return nil, 0, dbError("history", err)
	}
	defer rows.Close()
	page := make([]raids.Raid, 0, min(limit, 100))
	count := 0
	for rows.Next() {
		var now time.Time
		r, err := scanRaid(rows, &now, &count)
		if err != nil {
			return nil, 0, dbError("history", err)
		}
		page = append(page, r.At(now))
	}
	if err := rows.Err(); err != nil {
		return nil, 0, dbError("history", err)
	}
	if len(page) == 0 {
		// An empty page says nothing about the count: the offset may be past the end.
		if err := s.stmts.queryRow(ctx,
			`SELECT coalesce(max(seq), 0) FROM raids WHERE user_id = $1`, userID).Scan(&count); err != nil {
			return nil, 0, dbError("history", err)
		}
	}
	return page, count, nil
}

var _ ports.PlayerRecords = (*Raids)(nil)

// PlayerRecord reads the player, their raid count and the page in one statement: the count
// and the page in one snapshot, the page one seek on raids_user_seq, as History. A page past
// the end is one row of the player with no raid (has is false).
func (s *Raids) PlayerRecord(ctx context.Context, nickname string, offset, limit int) (users.User, []raids.Raid, int, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	offset, limit = max(offset, 0), max(limit, 0)
	rows, err := s.stmts.query(ctx, `
		SELECT `+userColumns+`, c.n, now(), r.id IS NOT NULL,
			coalesce(r.id, 0), u.id, u.nickname, coalesce(r.level, 0), coalesce(r.level_score, 0),
			coalesce(r.score, 0), coalesce(r.status, 'fail'), coalesce(r.enter_time, now()),
			coalesce(r.deadline, now()), r.end_time,
			coalesce((extract(epoch FROM r.time_limit) * 1000000)::bigint, 0)
		FROM users u
		LEFT JOIN profile_images pi ON pi.user_id = u.id
		CROSS JOIN LATERAL (SELECT coalesce(max(seq), 0) AS n FROM raids WHERE user_id = u.id) c
		LEFT JOIN LATERAL (
			SELECT * FROM raids WHERE user_id = u.id AND seq <= c.n - $2
			ORDER BY seq DESC LIMIT $3) r ON true
		WHERE u.nickname_key = $1
		ORDER BY r.seq DESC`, users.NicknameKey(nickname), offset, limit)
	if err != nil {
		return users.User{}, nil, 0, dbError("player record", err)
	}
	defer rows.Close()
	var (
		ur    userRow
		found bool
		count int
		page  = make([]raids.Raid, 0, min(limit, 100))
	)
	for rows.Next() {
		var rr raidRow
		var now time.Time
		var has bool
		if err := rows.Scan(append(append(ur.dest(), &count, &now, &has), rr.dest()...)...); err != nil {
			return users.User{}, nil, 0, dbError("player record", err)
		}
		found = true
		if !has {
			continue
		}
		r, err := rr.raid()
		if err != nil {
			return users.User{}, nil, 0, dbError("player record", err)
		}
		page = append(page, r.At(now))
	}
	if err := rows.Err(); err != nil {
		return users.User{}, nil, 0, dbError("player record", err)
	}
	if !found {
		return users.User{}, nil, 0, users.ErrNotFound
	}
	u, err := ur.user()
	if err != nil {
		return users.User{}, nil, 0, dbError("player record", err)
	}
	return u, page, count, nil
}

// SweepExpired records every raid past its deadline as failed at its deadline.
func (s *Raids) SweepExpired(ctx context.Context) (int, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	res, err := s.db.ExecContext(ctx, `
		UPDATE raids SET status = 'fail', end_time = deadline
		WHERE status = 'in_progress' AND deadline <= now()`)
	if err != nil {
		return 0, dbError("sweep expired raids", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, dbError("sweep expired raids", err)
	}
	return int(n), nil
}
