package redirect_test

import (
	"testing"

	"github.com/bossraid/bossraid/adapters/http/redirect"
)

const host = "raid.example"

func TestLocalSendsEveryWayOffTheSiteToTheLobby(t *testing.T) {
	hostile := []string{
		"",
		"//evil.example",
		"///evil.example",
		"////evil.example",
		`/\evil.example`,
		`\\evil.example`,
		`\/evil.example`,
		"/\t/evil.example",
		"/\n/evil.example",
		"/\r/evil.example",
		"/\r\n/evil.example",
		"\t//evil.example",
		" //evil.example",
		"\x00//evil.example",
		"\x01/\x02/evil.example",
		"  \t /\\evil.example",
		"/%2F/evil.example",
		"/%2f%2fevil.example",
		"%2F%2Fevil.example",
		"/%5Cevil.example",
		"/%5cevil.example",
		"/%252F%252Fevil.example",
		"https://evil.example/",
		"http://evil.example",
		"HTTPS://evil.example/x",
		"https:evil.example",
		"http:/evil.example",
		"http:///evil.example",
		`https:\\evil.example`,
		"https://raid.example@evil.example/",
		"https://raid.example.evil.example/",
		`https://evil.example\@raid.example/`,
		"https://user:pass@raid.example/",
		"https://raid.example//evil.example",
		"javascript:alert(1)",
		"JaVaScRiPt:alert(1)",
		"java\tscript:alert(1)",
		" javascript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox(1)",
		"evil.example",
		"lobby",
		"./evil",
		"/\u2028/evil.example",
		"/\u200b/evil.example",
		"/%00/evil.example",
		"/%09/evil.example",
		"/\x7f/evil.example",
	}
	for _, next := range hostile {
		if got := redirect.Local(next, host); got != redirect.Lobby {
			t.Errorf("Local(%q) = %q, want the lobby", next, got)
		}
	}
}

func TestLocalKeepsPathsOnThisSite(t *testing.T) {
	good := []struct{ next, want string }{
		{"/", "/"},
		{"/ranking", "/ranking"},
		{"/players/hero", "/players/hero"},
		{"/players/%EB%A7%88%EB%B2%95%EC%82%AC", "/players/%EB%A7%88%EB%B2%95%EC%82%AC"},
		{"/players/마법사", "/players/%EB%A7%88%EB%B2%95%EC%82%AC"},
		{"/admin/raids?status=success&page=2", "/admin/raids?status=success&page=2"},
		{"/raids/12", "/raids/12"},
		{"/players/hero#history", "/players/hero#history"},
		{"/players/hero%2Fx", "/players/hero%2Fx"},
		{" /ranking ", "/ranking"},
		{"/rank\ting", "/ranking"},
		{`/admin\raids`, "/admin/raids"},
		{`/search?q=a\b`, `/search?q=a%5Cb`},
		{"https://raid.example/players/hero", "/players/hero"},
		{"http://RAID.example/ranking?x=1", "/ranking?x=1"},
	}
	for _, g := range good {
		if got := redirect.Local(g.next, host); got != g.want {
			t.Errorf("Local(%q) = %q, want %q", g.next, got, g.want)
		}
	}
	if got := redirect.Local("https://raid.example/ranking", ""); got != redirect.Lobby {
		t.Errorf("an absolute URL without a known host went to %q", got)
	}
}

func FuzzLocalNeverLeavesTheSite(f *testing.F) {
	for _, s := range []string{"/", "//x", `/\x`, "/\t/x", "https://raid.example/x", "/%2F%2Fx"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := redirect.Local(next, host)
		if got == "" || got[0] != '/' || (len(got) > 1 && (got[1] == '/' || got[1] == '\\')) {
			t.Fatalf("Local(%q) = %q", next, got)
		}
		for _, c := range got {
			if c <= ' ' || c == '\\' || c >= 0x7f {
				t.Fatalf("Local(%q) = %q holds %q", next, got, c)
			}
		}
	})
}
