package api

import (
	"net/http"
	"strconv"
	"sync"
	"unicode/utf8"
)

// The ranking is the most read answer; writing it by hand, into a pooled buffer, saves the
// reflection and the allocations of encoding/json. The bytes are what json.Encoder writes
// (TestRankingBodyIsWhatEncodingJSONWrites).

var bodies = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func writeRanking(w http.ResponseWriter, out rankingJSON) {
	bp := bodies.Get().(*[]byte)
	body := appendRanking((*bp)[:0], out)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
	*bp = body
	bodies.Put(bp)
}

func appendRanking(b []byte, out rankingJSON) []byte {
	b = append(b, `{"top_10_ranker":[`...)
	for i, s := range out.Top10 {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStanding(b, s)
	}
	b = append(b, `],"my_ranking":`...)
	if out.MyRanking != nil {
		b = appendStanding(b, *out.MyRanking)
	} else {
		b = append(b, "null"...)
	}
	if out.Detail != "" {
		b = append(b, `,"detail":`...)
		b = appendJSONString(b, out.Detail)
	}
	return append(b, "}\n"...)
}

func appendStanding(b []byte, s standingJSON) []byte {
	b = append(b, `{"ranking":`...)
	b = strconv.AppendInt(b, s.Ranking, 10)
	b = append(b, `,"user_id":`...)
	b = strconv.AppendInt(b, s.UserID, 10)
	b = append(b, `,"nickname":`...)
	b = appendJSONString(b, s.Nickname)
	b = append(b, `,"total_score":`...)
	b = strconv.AppendInt(b, s.TotalScore, 10)
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString quotes s as encoding/json does with HTML escaping on: <, > and & as
// \u003c…, U+2028 and U+2029 escaped, invalid UTF-8 as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
