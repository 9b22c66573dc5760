package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/bossraid/bossraid/core/app"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

type enterRequest struct {
	Level *int `json:"level"`
}

type enteredRaidJSON struct {
	ID        int64  `json:"id"`
	Nickname  string `json:"nickname"`
	Level     int    `json:"level"`
	Status    string `json:"status"`
	EnterTime string `json:"enter_time"`
	Deadline  string `json:"deadline"`
	TimeLimit int    `json:"time_limit"`
}

func (api *API) enter(w http.ResponseWriter, r *http.Request, p app.Player) {
	var req enterRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		api.fail(w, r, err)
		return
	}
	if req.Level == nil {
		api.fail(w, r, app.Invalid("level", "level is required"))
		return
	}
	rd, err := api.app.Raids.EnterRaid(r.Context(), p, *req.Level)
	if busy, ok := errors.AsType[*raids.BusyError](err); ok {
		api.failWith(w, r, err, map[string]any{
			"is_entered": false, "entered_user_id": busy.UserID, "raid_history_id": busy.RaidID,
		})
		return
	}
	if reserved, ok := errors.AsType[*raids.ReservedError](err); ok {
		api.failWith(w, r, err, map[string]any{
			"is_entered": false, "reserved_for": reserved.UserID, "reserved_until": formatTime(reserved.Until),
		})
		return
	}
	if err != nil {
		api.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/raids/"+strconv.FormatInt(rd.ID, 10))
	writeJSON(w, http.StatusCreated, map[string]any{
		"is_entered": true,
		"result": enteredRaidJSON{
			ID: rd.ID, Nickname: rd.Nickname, Level: rd.Level, Status: rd.Status.String(),
			EnterTime: formatTime(rd.EnterTime), Deadline: formatTime(rd.Deadline),
			TimeLimit: int(rd.TimeLimit.Seconds()),
		},
	})
}

type endRequest struct {
	Level *int `json:"level"`
}

type endedRaidJSON struct {
	ID        int64   `json:"id"`
	Nickname  string  `json:"nickname"`
	Level     int     `json:"level"`
	Status    string  `json:"status"`
	EnterTime string  `json:"enter_time"`
	EndTime   *string `json:"end_time"`
	Score     int     `json:"score"`
	TimeLimit int     `json:"time_limit"`
}

func (api *API) end(w http.ResponseWriter, r *http.Request, p app.Player) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		api.fail(w, r, raids.ErrNotFound)
		return
	}
	var req endRequest
	if err := decodeJSON(w, r, &req, true); err != nil {
		api.fail(w, r, api.ownRaidOr(r, p, id, err))
		return
	}
	res, err := api.app.Raids.EndRaid(r.Context(), p, id, req.Level)
	if err != nil {
		api.fail(w, r, err)
		return
	}
	rd := res.Raid
	writeJSON(w, http.StatusOK, map[string]any{
		"result": endedRaidJSON{
			ID: rd.ID, Nickname: rd.Nickname, Level: rd.Level, Status: rd.Status.String(),
			EnterTime: formatTime(rd.EnterTime), EndTime: formatTimePtr(rd.EndTime),
			Score: rd.Score, TimeLimit: int(rd.TimeLimit.Seconds()),
		},
	})
}

// ownRaidOr returns err when raidID is the player's own raid and not_found otherwise: a bad
// body must not tell whether someone else's raid exists (SPEC.md: 404 comes before 400).
func (api *API) ownRaidOr(r *http.Request, p app.Player, raidID int64, err error) error {
	rd, lookErr := api.app.Raids.Raid(r.Context(), p, raidID)
	switch {
	case lookErr != nil:
		return lookErr
	case rd.UserID != p.ID: // an admin may read any raid, but ends only their own
		return raids.ErrNotFound
	}
	return err
}

type statusJSON struct {
	CanEnter        bool    `json:"can_enter"`
	EnteredUserID   *int64  `json:"entered_user_id"`
	EnteredNickname *string `json:"entered_nickname"`
	RaidHistoryID   *int64  `json:"raid_history_id"`
	Deadline        *string `json:"deadline"`
	TimeLimit       int     `json:"time_limit"`
	// The raid queue (issue 14): how many wait, the player's place (null when not waiting)
	// and, while a turn is held, for whom and until when.
	QueueLength     int     `json:"queue_length"`
	MyQueuePosition *int    `json:"my_queue_position"`
	ReservedFor     *int64  `json:"reserved_for"`
	ReservedUntil   *string `json:"reserved_until"`
}

func (api *API) status(w http.ResponseWriter, r *http.Request, p app.Player) {
	st, err := api.app.Raids.Status(r.Context())
	if err != nil {
		api.fail(w, r, err)
		return
	}
	out := statusJSON{CanEnter: st.CanEnter, TimeLimit: int(st.TimeLimit.Seconds())}
	if c := st.Current; c != nil {
		out.EnteredUserID, out.EnteredNickname, out.RaidHistoryID = &c.UserID, &c.Nickname, &c.ID
		out.Deadline = formatTimePtr(&c.Deadline)
	}
	if api.queue != nil {
		q, err := api.queue.Status(r.Context(), p)
		if err != nil {
			api.fail(w, r, err)
			return
		}
		out.QueueLength = q.Length
		if q.Position > 0 {
			out.MyQueuePosition = &q.Position
		}
		if res := q.Reservation; res != nil {
			out.ReservedFor, out.ReservedUntil = &res.UserID, formatTimePtr(&res.Until)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type standingJSON struct {
	Ranking    int64  `json:"ranking"`
	UserID     int64  `json:"user_id"`
	Nickname   string `json:"nickname"`
	TotalScore int64  `json:"total_score"`
}

type rankingJSON struct {
	Top10     []standingJSON `json:"top_10_ranker"`
	MyRanking *standingJSON  `json:"my_ranking"`
	Detail    string         `json:"detail,omitempty"`
}

func (api *API) ranking(w http.ResponseWriter, r *http.Request, p app.Player) {
	v, err := api.app.Ranking.Of(r.Context(), p)
	if err != nil {
		api.fail(w, r, err)
		return
	}
	out := rankingJSON{Top10: make([]standingJSON, 0, len(v.Top))}
	for _, s := range v.Top {
		out.Top10 = append(out.Top10, toStandingJSON(s))
	}
	if v.Mine != nil {
		mine := toStandingJSON(*v.Mine)
		out.MyRanking = &mine
	} else {
		out.Detail = "you are outside the top 10 ranking"
	}
	writeRanking(w, out)
}

func toStandingJSON(s raids.Standing) standingJSON {
	return standingJSON{Ranking: s.Ranking, UserID: s.UserID, Nickname: s.Nickname, TotalScore: s.TotalScore}
}

// queueOr answers 503 when the server was built without the queue, and refuses a body: the
// queue's routes take none, but one sent is read within the limits like any other (413 past
// them, 400 for anything but an empty object).
func (api *API) queueOr(w http.ResponseWriter, r *http.Request) bool {
	if api.queue == nil {
		api.fail(w, r, ports.ErrUnavailable)
		return false
	}
	if err := decodeJSON(w, r, &struct{}{}, true); err != nil {
		api.fail(w, r, err)
		return false
	}
	return true
}

func (api *API) joinQueue(w http.ResponseWriter, r *http.Request, p app.Player) {
	if !api.queueOr(w, r) {
		return
	}
	pos, err := api.queue.Join(r.Context(), p)
	if err != nil {
		api.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"is_queued": true, "my_queue_position": pos, "turn_seconds": api.queue.Turn().Seconds(),
	})
}

func (api *API) leaveQueue(w http.ResponseWriter, r *http.Request, p app.Player) {
	if !api.queueOr(w, r) {
		return
	}
	if err := api.queue.Leave(r.Context(), p); err != nil {
		api.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
