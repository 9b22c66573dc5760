package users_test

import (
	"strings"
	"testing"

	"github.com/bossraid/bossraid/core/users"
)

func TestCheckEmail(t *testing.T) {
	long := strings.Repeat("a", 64) + "@" + strings.Repeat("b", 60) + "." + strings.Repeat("c", 60) + "." +
		strings.Repeat("d", 63) + ".com" // 254 characters, labels of at most 63
	tests := []struct {
		email string
		ok    bool
	}{
		{"player@example.com", true},
		{"Player.One+raid@Example.CO.kr", true},
		{long, true},
		{long + "m", false},                              // 255
		{"p@" + strings.Repeat("x", 64) + ".com", false}, // a label over 63
		{"", false},
		{"player", false},
		{"player@", false},
		{"@example.com", false},
		{"player@localhost", false},
		{"player@example.", false},
		{"player@.example.com", false},
		{"Player <player@example.com>", false},
		{"<player@example.com>", false},
		{"player@exa mple.com", false},
		{"pla yer@example.com", false},
		{"player@@example.com", false},
		{"player@example.com\n", true}, // surrounding space is trimmed
		{"player\x00@example.com", false},
		{"%@%.%", false},
		{"player@exa_mple.com", false},
		{"player@-example.com", false},
		{"player@example-.com", false},
		{"player@example.123", false},
		{"player@sub.example-one.co.kr", true},
		{"player@예시.한국", true},
		{"play%er@example.com", true},
	}
	for _, tt := range tests {
		if got := users.CheckEmail(tt.email); (got == "") != tt.ok {
			t.Errorf("CheckEmail(%q) = %q, want ok=%v", tt.email, got, tt.ok)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	if got := users.NormalizeEmail("  Player@Example.COM "); got != "player@example.com" {
		t.Errorf("NormalizeEmail = %q", got)
	}
}

func TestCheckNickname(t *testing.T) {
	tests := []struct {
		nickname string
		ok       bool
	}{
		{"ab", true},
		{"a", false},
		{"", false},
		{strings.Repeat("x", 20), true},
		{strings.Repeat("x", 21), false},
		{"용사", true},                             // Korean, 2 characters (6 bytes)
		{"보스레이드의용사", true},                       // Korean
		{strings.Repeat("용", 20), true},          // 20 characters, 60 bytes
		{strings.Repeat("용", 21), false},         // 21 characters
		{"勇者ロト", true},                           // Japanese
		{"Игрок_1", true},                        // Cyrillic
		{"لاعب", true},                           // Arabic
		{"खिलाड़ी", true},                        // Devanagari with combining marks
		{"player_1-x", true},                     // digits, underscore, dash
		{"player 1", false},                      // space
		{"player!", false},                       // punctuation
		{"play.er", false},                       //
		{"😀😀", false},                            // emoji are not letters
		{"١٢", false},                            // non-ASCII digits are not allowed
		{"\u0301a", false},                       // a mark may not lead
		{"ab\x00", false},                        // control character
		{"a<script>", false},                     //
		{string([]byte{0xff, 0xfe, 'a'}), false}, // invalid UTF-8
	}
	for _, tt := range tests {
		if got := users.CheckNickname(tt.nickname); (got == "") != tt.ok {
			t.Errorf("CheckNickname(%q) = %q, want ok=%v", tt.nickname, got, tt.ok)
		}
	}
}

func TestNicknameKeyIsCaseInsensitive(t *testing.T) {
	same := [][2]string{
		{"Player", "pLAYER"},
		{"ИГРОК", "игрок"},
		{"ΣΟΦΊΑ", "σοφία"},
		{"용사", "용사"},
	}
	for _, p := range same {
		if users.NicknameKey(p[0]) != users.NicknameKey(p[1]) {
			t.Errorf("NicknameKey(%q) != NicknameKey(%q)", p[0], p[1])
		}
	}
	if users.NicknameKey("player1") == users.NicknameKey("player2") {
		t.Error("different nicknames share a key")
	}
}

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		password string
		ok       bool
		why      string
	}{
		{"Passw0rd!", true, "all four classes"},
		{"Aa1!aaaa", true, "8 characters"},
		{"Aa1!" + strings.Repeat("a", 16), true, "20 characters"},
		{"Aa1!" + strings.Repeat("a", 17), false, "21 characters"},
		{"Aa1!aaa", false, "7 characters"},
		{"", false, "empty"},
		{"password1!", false, "no upper-case"},
		{"PASSWORD1!", false, "no lower-case"},
		{"Password!!", false, "no digit"},
		{"Password11", false, "no special"},
		{"Password1_", false, "underscore is allowed but is not a special"},
		{"Pass_word1!", true, "underscore allowed"},
		{"Pass word1!", false, "space"},
		{"Password1?", false, "? is outside the specials"},
		{"Password1!~", false, "~ is outside the allowed set"},
		{"Pässword1!", false, "non-ASCII letter"},
		{"비밀번호Aa1!xx", false, "Korean letters"},
		{"(Passw0rd)", true, "parentheses are specials"},
		{"Aa1@#$%^&*", true, "every special"},
	}
	for _, tt := range tests {
		if got := users.CheckPassword(tt.password); (got == "") != tt.ok {
			t.Errorf("CheckPassword(%q) [%s] = %q, want ok=%v", tt.password, tt.why, got, tt.ok)
		}
	}
}

func TestCheckPhone(t *testing.T) {
	tests := []struct {
		phone string
		ok    bool
	}{
		{"", true}, // optional
		{"010-1234-5678", true},
		{"+82-10-1234-5678", true},
		{"01012345678", true},
		{"123456789", true},         // 9 digits
		{"12345678", false},         // 8 digits
		{"123456789012345", true},   // 15 digits
		{"1234567890123456", false}, // 16 digits
		{"+821012345678", true},
		{"++821012345678", false},
		{"010--1234-5678", false},
		{"-010-1234-5678", false},
		{"010-1234-5678-", false},
		{"010 1234 5678", false},
		{"(010)12345678", false},
		{"010-1234-567a", false},
		{"８２１０１２３４５６７８", false}, // full-width digits
		{"+", false},
	}
	for _, tt := range tests {
		if got := users.CheckPhone(tt.phone); (got == "") != tt.ok {
			t.Errorf("CheckPhone(%q) = %q, want ok=%v", tt.phone, got, tt.ok)
		}
	}
}

func TestSignUpFormReportsEveryField(t *testing.T) {
	errs := users.SignUpForm{Email: "x", Nickname: "a", Password: "short", Phone: "1"}.Validate()
	for _, f := range []string{users.FieldEmail, users.FieldNickname, users.FieldPassword, users.FieldPhone} {
		if errs[f] == "" {
			t.Errorf("no error for %s: %v", f, errs)
		}
	}
	if errs := (users.SignUpForm{Email: "p@example.com", Nickname: "player", Password: "Passw0rd!"}).Validate(); errs != nil {
		t.Errorf("valid form refused: %v", errs)
	}
}

func TestParseRole(t *testing.T) {
	for _, r := range []users.Role{users.RolePlayer, users.RoleAdmin} {
		got, err := users.ParseRole(r.String())
		if err != nil || got != r {
			t.Errorf("ParseRole(%q) = %v, %v", r, got, err)
		}
	}
	if _, err := users.ParseRole("root"); err == nil {
		t.Error("ParseRole accepted an unknown role")
	}
	if !(users.Role{}).IsZero() {
		t.Error("the zero Role is not zero")
	}
}
