package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

func encodingJSON(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestRankingBodyIsWhatEncodingJSONWrites(t *testing.T) {
	mine := standingJSON{Ranking: 3, UserID: 9, Nickname: "나의 <닉>", TotalScore: 47}
	for _, out := range []rankingJSON{
		{Top10: []standingJSON{}, Detail: "you are outside the top 10 ranking"},
		{Top10: []standingJSON{{0, 1, "Ace", 85}, {1, 2, `q"\&`, 47}, {1, 3, "탱커", 47}}, MyRanking: &mine},
	} {
		if got, want := appendRanking(nil, out), encodingJSON(t, out); !bytes.Equal(got, want) {
			t.Fatalf("got  %s\nwant %s", got, want)
		}
	}
}

func FuzzJSONStringIsWhatEncodingJSONWrites(f *testing.F) {
	for _, s := range []string{"", "plain", "<&>", "\u2028\u2029", "\x00\x1f\b\f\n\r\t", "\xff\xfe bad", "한글 닉네임", `"\`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := encodingJSON(t, s)
		if got := appendJSONString(nil, s); !bytes.Equal(append(got, '\n'), want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
	})
}
