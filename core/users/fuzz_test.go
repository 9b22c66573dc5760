package users_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bossraid/bossraid/core/users"
)

// go test -fuzz FuzzSignUpForm ./core/users — the rules never panic, Validate reports exactly
// the fields the single checks refuse, and whatever they accept fits the stored columns.
func FuzzSignUpForm(f *testing.F) {
	f.Add("player@example.com", "Player_1", "Passw0rd!", "010-1234-5678")
	f.Add("", "", "", "")
	f.Add("A@B.CO", "용사-7", "aA1!aaaaaaaaaaaaaaaaa", "+82-10-1234-5678")
	f.Add("\"quoted\"@example.com", "ab", "Passw0rd!", "--12")
	f.Add("Name <x@example.com>", "İı", "Pass word1!", "+1234567890123456")
	f.Add("x@[127.0.0.1]", "a\u0300b", "Pässw0rd!", "123456789")
	f.Add(strings.Repeat("a", 250)+"@b.co", strings.Repeat("가", 21), "12345678", "+")
	f.Fuzz(func(t *testing.T, email, nickname, password, phone string) {
		form := users.SignUpForm{Email: email, Nickname: nickname, Password: password, Phone: phone}
		errs := form.Validate()
		checks := map[string]string{
			users.FieldEmail:    users.CheckEmail(email),
			users.FieldNickname: users.CheckNickname(nickname),
			users.FieldPassword: users.CheckPassword(password),
			users.FieldPhone:    users.CheckPhone(phone),
		}
		for field, msg := range checks {
			if errs[field] != msg {
				t.Fatalf("Validate()[%s] = %q, the single check says %q", field, errs[field], msg)
			}
		}
		if (errs == nil) != (checks[users.FieldEmail]+checks[users.FieldNickname]+checks[users.FieldPassword]+checks[users.FieldPhone] == "") {
			t.Fatalf("Validate() = %v with checks %v", errs, checks)
		}
		if checks[users.FieldEmail] == "" {
			stored := users.NormalizeEmail(email)
			// The users table: email = lower(email), at most 254 characters.
			if !utf8.ValidString(stored) || utf8.RuneCountInString(stored) > users.MaxEmailLength || !strings.Contains(stored, "@") {
				t.Fatalf("accepted email %q is stored as %q", email, stored)
			}
			if users.NormalizeEmail(stored) != stored {
				t.Fatalf("normalising %q is not idempotent: %q", email, users.NormalizeEmail(stored))
			}
		}
		if checks[users.FieldNickname] == "" {
			n := utf8.RuneCountInString(nickname)
			if n < users.MinNicknameLength || n > users.MaxNicknameLength {
				t.Fatalf("accepted nickname %q has %d characters", nickname, n)
			}
			if strings.ContainsAny(nickname, " /?#%'\"\\\x00") {
				t.Fatalf("accepted nickname %q holds a character that is not a letter, digit, _ or -", nickname)
			}
			// Nicknames that differ only in letter case are the same nickname.
			key := users.NicknameKey(nickname)
			for _, variant := range []string{strings.ToUpper(nickname), strings.ToLower(nickname), strings.ToTitle(nickname)} {
				if users.NicknameKey(variant) != key {
					t.Fatalf("nickname %q and its case variant %q have different keys %q and %q",
						nickname, variant, key, users.NicknameKey(variant))
				}
			}
		}
		if checks[users.FieldPassword] == "" {
			if len(password) < users.MinPasswordLength || len(password) > users.MaxPasswordLength {
				t.Fatalf("accepted password of %d bytes", len(password))
			}
			for _, r := range password {
				if r > 0x7e || r < 0x21 {
					t.Fatalf("accepted password %q holds %q", password, r)
				}
			}
		}
		if checks[users.FieldPhone] == "" && phone != "" {
			digits := 0
			for _, r := range phone {
				switch {
				case r >= '0' && r <= '9':
					digits++
				case r == '-' || r == '+':
				default:
					t.Fatalf("accepted phone %q holds %q", phone, r)
				}
			}
			if digits < users.MinPhoneDigits || digits > users.MaxPhoneDigits || strings.LastIndex(phone, "+") > 0 {
				t.Fatalf("accepted phone %q", phone)
			}
		}
	})
}
