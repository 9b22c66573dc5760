package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestLanguageFromAcceptLanguage(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	for _, tc := range []struct{ accept, lang, lobby string }{
		{"", "en", "Lobby"},
		{"ko-KR,ko;q=0.9,en-US;q=0.8", "ko", "로비"},
		{"fr-FR,fr;q=0.9", "en", "Lobby"},
		{"fr;q=0.9,ko;q=0.4", "ko", "로비"},
	} {
		p := c.get("/", "Accept-Language", tc.accept)
		if got := p.doc.Find("html").AttrOr("lang", ""); got != tc.lang {
			t.Errorf("Accept-Language %q: <html lang=%q>, want %q", tc.accept, got, tc.lang)
		}
		if got := p.text(`.site-nav a[href="/"]`); got != tc.lobby {
			t.Errorf("Accept-Language %q: the lobby link reads %q, want %q", tc.accept, got, tc.lobby)
		}
		if vary := p.resp.Header.Values("Vary"); !slices.Contains(vary, "Accept-Language") || !slices.Contains(vary, "Cookie") {
			t.Errorf("the answer depends on the language but Vary is %q", vary)
		}
	}
}

func TestLanguageSwitchWithoutJavaScript(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	p := c.get("/ranking?x=1", "Accept-Language", "en")
	form := p.doc.Find(testid("lang-switch"))
	if form.AttrOr("action", "") != "/lang" || form.AttrOr("method", "") != "post" {
		t.Fatalf("no language switch form on the page: %s", short(p.body))
	}
	back := form.Find(`input[name="back"]`).AttrOr("value", "")
	if back != "/ranking?x=1" {
		t.Fatalf("the switch comes back to %q, want this page", back)
	}
	if ko := form.Find(`button[name="lang"][value="ko"]`); ko.Text() != "한국어" || ko.AttrOr("lang", "") != "ko" {
		t.Fatalf("the Korean button is %q (lang %q)", ko.Text(), ko.AttrOr("lang", ""))
	}

	res := c.post("/lang", url.Values{"lang": {"ko"}, "back": {back}})
	if res.status() != http.StatusSeeOther || res.location() != "/ranking?x=1" {
		t.Fatalf("switch: %d to %q", res.status(), res.location())
	}
	// The cookie wins over the browser's Accept-Language from now on.
	p = c.get("/ranking", "Accept-Language", "en-US")
	if p.doc.Find("html").AttrOr("lang", "") != "ko" || p.text("h1") != "랭킹" {
		t.Fatalf("after choosing Korean the ranking page reads %q (lang %q)", p.text("h1"), p.doc.Find("html").AttrOr("lang", ""))
	}
	if p.doc.Find(`button[name="lang"][value="en"]`).Text() != "English" {
		t.Fatal("the Korean page offers no way back to English")
	}

	// An unknown language changes nothing; a way back off the site goes to the lobby.
	res = c.post("/lang", url.Values{"lang": {"xx"}, "back": {"//evil.example/"}})
	if res.status() != http.StatusSeeOther || res.location() != "/" {
		t.Fatalf("switch to xx: %d to %q", res.status(), res.location())
	}
	if c.get("/").doc.Find("html").AttrOr("lang", "") != "ko" {
		t.Fatal("an unknown language replaced the choice")
	}
	// Like every form, the switch refuses other sites.
	res = c.post("/lang", url.Values{"lang": {"en"}}, "Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site")
	if res.status() != http.StatusForbidden {
		t.Fatalf("cross-site switch: %d", res.status())
	}
}

func TestKoreanFormsFlashesAndErrors(t *testing.T) {
	s := newSite(t, siteOptions{})
	c := s.client()
	ko := []string{"Accept-Language", "ko"}
	bad := c.postMultipart("/signup", map[string]string{"email": "x@example.com", "nickname": "x", "password": "short"}, nil, ko...)
	if bad.status() != http.StatusUnprocessableEntity {
		t.Fatalf("bad sign-up: %d", bad.status())
	}
	if got := bad.text(testid("error-nickname")); got != "닉네임은 2~20자여야 합니다." {
		t.Errorf("the nickname error reads %q", got)
	}
	if got := bad.text(testid("error-password")); got != "비밀번호는 8~20자여야 합니다." {
		t.Errorf("the password error reads %q", got)
	}

	pl := newPlayer()
	pl.Nickname = "용사" + pl.Nickname[len(pl.Nickname)-4:]
	res := c.postMultipart("/signup", map[string]string{"email": pl.Email, "nickname": pl.Nickname, "password": pl.Password}, nil, ko...)
	lobby := c.get(res.location(), ko...)
	if want := pl.Nickname + " 님, 환영합니다! 레벨을 골라 레이드에 입장하세요."; lobby.text(testid("flash")) != want {
		t.Errorf("the welcome reads %q, want %q", lobby.text(testid("flash")), want)
	}
	if got := lobby.text(testid("level-2") + " .level-name"); got != "잿빛 와이번" {
		t.Errorf("the level 2 boss is called %q in Korean", got)
	}

	missing := c.get("/no/such/page", ko...)
	if missing.status() != http.StatusNotFound || missing.text(testid("error-title")) != "페이지를 찾을 수 없습니다" {
		t.Errorf("404 page: %d %q", missing.status(), missing.text(testid("error-title")))
	}
}

func TestAPIErrorDetailFollowsAcceptLanguage(t *testing.T) {
	s := newSite(t, siteOptions{})
	for _, tc := range []struct{ accept, detail, nickname string }{
		{"", "some fields are invalid", "nickname must be 2 to 20 characters"},
		{"ko-KR", "올바르지 않은 항목이 있습니다.", "닉네임은 2~20자여야 합니다."},
	} {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/users/signup",
			strings.NewReader(`{"email":"a@example.com","nickname":"x","password":"Raid_pass1!"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", tc.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Code   string            `json:"code"`
			Detail string            `json:"detail"`
			Errors map[string]string `json:"errors"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The code is the contract, in every language.
		if body.Code != "validation_failed" || body.Detail != tc.detail || body.Errors["nickname"] != tc.nickname {
			t.Errorf("Accept-Language %q: %+v", tc.accept, body)
		}
	}
}
