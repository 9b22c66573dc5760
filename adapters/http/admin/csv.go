package admin

import (
	"encoding/csv"
	"io"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/bossraid/bossraid/core/raids"
)

// csvHeader is the first row of the raids export.
var csvHeader = []string{"id", "player_id", "nickname", "level", "status", "score", "level_score",
	"time_limit_seconds", "enter_time", "deadline", "end_time"}

// csvFlushRows is how many rows go out together: the file streams while it is written.
const csvFlushRows = 1000

// writeRaidsCSV writes a header, then one row per raid, times in RFC 3339 UTC, and returns how
// many raids it wrote. Nothing reaches w before the first raid is read, so a failure to read
// any can still be answered with an error page.
func writeRaidsCSV(w io.Writer, all iter.Seq2[raids.Raid, error]) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return 0, err
	}
	written := 0
	record := make([]string, len(csvHeader))
	for r, err := range all {
		if err != nil {
			return written, err
		}
		if err := cw.Write(csvRecord(record, r)); err != nil {
			return written, err
		}
		if written++; written%csvFlushRows == 0 {
			if err := flush(cw); err != nil {
				return written, err
			}
		}
	}
	return written, flush(cw)
}

func flush(cw *csv.Writer) error {
	cw.Flush()
	return cw.Error()
}

// csvRecord fills record with r's columns in csvHeader's order.
func csvRecord(record []string, r raids.Raid) []string {
	end := ""
	if r.EndTime != nil {
		end = csvTime(*r.EndTime)
	}
	record[0] = strconv.FormatInt(r.ID, 10)
	record[1] = strconv.FormatInt(r.UserID, 10)
	record[2] = csvText(r.Nickname)
	record[3] = strconv.Itoa(r.Level)
	record[4] = r.Status.String()
	record[5] = strconv.Itoa(r.Score)
	record[6] = strconv.Itoa(r.LevelScore)
	record[7] = strconv.FormatFloat(r.TimeLimit.Seconds(), 'f', -1, 64)
	record[8] = csvTime(r.EnterTime)
	record[9] = csvTime(r.Deadline)
	record[10] = end
	return record
}

func csvTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// csvText keeps a spreadsheet from reading text as a formula: a nickname may start with "-".
func csvText(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
