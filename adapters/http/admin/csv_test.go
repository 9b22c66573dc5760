package admin

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/bossraid/bossraid/core/raids"
)

// csvOf is how a raid must read in the export, written out here independently of it.
func csvOf(r raids.Raid) []string {
	end := ""
	if r.EndTime != nil {
		end = r.EndTime.UTC().Format(time.RFC3339Nano)
	}
	return []string{
		strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.UserID, 10), r.Nickname, strconv.Itoa(r.Level),
		r.Status.String(), strconv.Itoa(r.Score), strconv.Itoa(r.LevelScore),
		fmt.Sprint(r.TimeLimit.Seconds()), r.EnterTime.UTC().Format(time.RFC3339Nano),
		r.Deadline.UTC().Format(time.RFC3339Nano), end,
	}
}

// someRaids are n raids of every status, in a time zone other than UTC.
func someRaids(n int) []raids.Raid {
	seoul := time.FixedZone("KST", 9*60*60)
	start := time.Date(2026, 11, 25, 21, 0, 0, 123456789, seoul)
	out := make([]raids.Raid, n)
	for i := range out {
		enter := start.Add(time.Duration(i) * time.Second)
		r := raids.Raid{
			ID: int64(i + 1), UserID: int64(i%7 + 1), Nickname: fmt.Sprintf("hero%02d", i%7), Level: i % 3,
			Status: raids.StatusInProgress, LevelScore: 20 * (i%3 + 1), TimeLimit: 180*time.Second + 500*time.Millisecond,
			EnterTime: enter, Deadline: enter.Add(180 * time.Second),
		}
		if i%3 != 2 {
			end := enter.Add(time.Minute)
			r.Status, r.Score, r.EndTime = raids.StatusSuccess, r.LevelScore, &end
		}
		out[i] = r
	}
	return out
}

func yielding(rs []raids.Raid, then error) iter.Seq2[raids.Raid, error] {
	return func(yield func(raids.Raid, error) bool) {
		for _, r := range rs {
			if !yield(r, nil) {
				return
			}
		}
		if then != nil {
			yield(raids.Raid{}, then)
		}
	}
}

// 2,001 raids cross two flushes.
func TestRaidsCSVReadsAsTheRaids(t *testing.T) {
	for _, n := range []int{0, 1, 2001} {
		rs := someRaids(n)
		var buf bytes.Buffer
		written, err := writeRaidsCSV(&buf, yielding(rs, nil))
		if err != nil || written != n {
			t.Fatalf("%d raids: wrote %d, %v", n, written, err)
		}
		records, err := csv.NewReader(&buf).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(records[0], csvHeader) {
			t.Fatalf("header %v", records[0])
		}
		if len(records)-1 != n {
			t.Fatalf("the file has %d rows, want %d", len(records)-1, n)
		}
		for i, rec := range records[1:] {
			if want := csvOf(rs[i]); !slices.Equal(rec, want) {
				t.Fatalf("row %d: %q, want %q", i, rec, want)
			}
		}
	}
}

func TestExportKeepsSpreadsheetsFromRunningNicknames(t *testing.T) {
	r := someRaids(1)[0]
	r.Nickname = "-1-1"
	var buf bytes.Buffer
	if _, err := writeRaidsCSV(&buf, yielding([]raids.Raid{r}, nil)); err != nil {
		t.Fatal(err)
	}
	records, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(records) != 2 || records[1][0] != strconv.FormatInt(r.ID, 10) || records[1][2] != "'-1-1" {
		t.Fatalf("export: %q, %v", records, err)
	}
	for _, s := range []string{"=1+1", "+1", "@SUM(A1)", "\tx", "\rx"} {
		if got := csvText(s); got != "'"+s {
			t.Errorf("%q reads as %q", s, got)
		}
	}
	if got := csvText("hero"); got != "hero" {
		t.Errorf("a plain nickname reads as %q", got)
	}
}

// A failure to read the first raids leaves nothing written, so the page can still answer an
// error; a failure later returns what was written.
func TestRaidsCSVWritesNothingBeforeTheFirstRead(t *testing.T) {
	broken := errors.New("database gone")
	var buf bytes.Buffer
	if n, err := writeRaidsCSV(&buf, yielding(nil, broken)); !errors.Is(err, broken) || n != 0 || buf.Len() != 0 {
		t.Fatalf("failed first read: wrote %d rows, %d bytes, %v", n, buf.Len(), err)
	}
	if n, err := writeRaidsCSV(&buf, yielding(someRaids(csvFlushRows+5), broken)); !errors.Is(err, broken) || n != csvFlushRows+5 {
		t.Fatalf("failed later read: wrote %d rows, %v", n, err)
	}
}
