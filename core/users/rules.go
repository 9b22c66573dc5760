package users

import (
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field names are the JSON and form names, so errors point at what the player typed.
const (
	FieldEmail        = "email"
	FieldNickname     = "nickname"
	FieldPassword     = "password"
	FieldPhone        = "phone"
	FieldProfileImage = "profile_image"
)

// FieldErrors maps a field name to what is wrong with it.
type FieldErrors map[string]string

// SignUpForm is what a player submits to register.
type SignUpForm struct {
	Email    string
	Nickname string
	Password string
	Phone    string
}

// Validate checks every field and reports each one at fault; nil when all are fine.
func (f SignUpForm) Validate() FieldErrors {
	errs := FieldErrors{}
	if msg := CheckEmail(f.Email); msg != "" {
		errs[FieldEmail] = msg
	}
	if msg := CheckNickname(f.Nickname); msg != "" {
		errs[FieldNickname] = msg
	}
	if msg := CheckPassword(f.Password); msg != "" {
		errs[FieldPassword] = msg
	}
	if msg := CheckPhone(f.Phone); msg != "" {
		errs[FieldPhone] = msg
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// MaxEmailLength is the longest address SMTP can carry (RFC 5321).
const MaxEmailLength = 254

// NormalizeEmail is the stored form of an email: trimmed and lower-cased.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// CheckEmail returns why email is not acceptable, or "".
func CheckEmail(email string) string {
	email = strings.TrimSpace(email)
	switch {
	case email == "":
		return "email is required"
	case len(email) > MaxEmailLength:
		return "email must be at most 254 characters"
	case !utf8.ValidString(email):
		return "email must be valid UTF-8"
	}
	addr, err := mail.ParseAddress(email)
	// A display name or angle brackets parse fine but are not a plain address.
	if err != nil || addr.Name != "" || addr.Address != email {
		return "email must be a plain address like player@example.com"
	}
	at := strings.LastIndexByte(email, '@')
	if !isHostname(email[at+1:]) {
		return "email must be a plain address like player@example.com"
	}
	return ""
}

// isHostname reports whether domain is a host name with at least two labels: letters (of any
// script, for internationalized domains), digits and inner hyphens, and a top level that is
// not all digits.
func isHostname(domain string) bool {
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return false
		}
		for _, r := range l {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '-' {
				return false
			}
		}
	}
	return strings.ContainsFunc(labels[len(labels)-1], unicode.IsLetter)
}

// Nickname lengths are counted in characters, not bytes.
const (
	MinNicknameLength = 2
	MaxNicknameLength = 20
)

// NicknameKey is the form under which nicknames are compared: two nicknames that differ
// only in letter case are the same nickname.
func NicknameKey(nickname string) string {
	return strings.ToLower(strings.ToUpper(nickname))
}

// CheckNickname returns why nickname is not acceptable, or "".
func CheckNickname(nickname string) string {
	if nickname == "" {
		return "nickname is required"
	}
	if !utf8.ValidString(nickname) {
		return "nickname must be valid UTF-8"
	}
	n := utf8.RuneCountInString(nickname)
	if n < MinNicknameLength || n > MaxNicknameLength {
		return "nickname must be 2 to 20 characters"
	}
	for i, r := range nickname {
		switch {
		case unicode.IsLetter(r), r >= '0' && r <= '9', r == '_', r == '-':
		// Combining marks complete letters in scripts such as Devanagari or Thai.
		case unicode.IsMark(r) && i > 0:
		default:
			return "nickname may contain only letters, digits, _ and -"
		}
	}
	return ""
}

// Password lengths are counted in characters.
const (
	MinPasswordLength = 8
	MaxPasswordLength = 20
	PasswordSpecials  = "!@#$%^&*()"
)

// CheckPassword returns why password does not meet the policy, or "".
func CheckPassword(password string) string {
	if password == "" {
		return "password is required"
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength || n > MaxPasswordLength {
		return "password must be 8 to 20 characters"
	}
	var lower, upper, digit, special bool
	for _, r := range password {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case strings.ContainsRune(PasswordSpecials, r):
			special = true
		case r == '_':
		default:
			return "password may contain only ASCII letters, digits, _ and !@#$%^&*()"
		}
	}
	if !lower || !upper || !digit || !special {
		return "password needs a lower-case letter, an upper-case letter, a digit and one of !@#$%^&*()"
	}
	return ""
}

// Phone numbers hold 9 to 15 digits (E.164 allows at most 15).
const (
	MinPhoneDigits = 9
	MaxPhoneDigits = 15
)

// CheckPhone returns why phone is not acceptable, or "". An empty phone is fine: it is optional.
func CheckPhone(phone string) string {
	if phone == "" {
		return ""
	}
	const bad = "phone must be 9 to 15 digits, optionally starting with + and separated by -"
	rest := strings.TrimPrefix(phone, "+")
	digits := 0
	prevDash := true // a dash may not lead, follow another dash or trail
	for _, r := range rest {
		switch {
		case r >= '0' && r <= '9':
			digits++
			prevDash = false
		case r == '-' && !prevDash:
			prevDash = true
		default:
			return bad
		}
	}
	if prevDash || digits < MinPhoneDigits || digits > MaxPhoneDigits {
		return bad
	}
	return ""
}
