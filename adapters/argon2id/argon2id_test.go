package argon2id_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/adapters/argon2id"
)

// cheap keeps the tests fast; production uses OWASP().
var cheap = argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 32}

func newHasher(t testing.TB, p argon2id.Params) *argon2id.Hasher {
	t.Helper()
	h, err := argon2id.New(p)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHashFormat(t *testing.T) {
	h := newHasher(t, argon2id.OWASP())
	got, err := h.Hash("Correct-horse1!")
	if err != nil {
		t.Fatal(err)
	}
	// 16-byte salt and 32-byte key in unpadded base64 are 22 and 43 characters.
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)
	if !phc.MatchString(got) {
		t.Fatalf("hash %q is not an OWASP PHC string", got)
	}
	again, _ := h.Hash("Correct-horse1!")
	if again == got {
		t.Fatal("two hashes of one password are equal: salt is not random")
	}
}

func TestVerify(t *testing.T) {
	h := newHasher(t, cheap)
	own, err := h.Hash("Correct-horse1!")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		password string
		hash     string
		want     bool
	}{
		{"own hash", "Correct-horse1!", own, true},
		{"wrong password", "Correct-horse2!", own, false},
		{"empty password", "", own, false},
		{"password with a suffix", "Correct-horse1!x", own, false},
		// Made by the reference implementation (Debian's argon2 CLI), so the format and
		// the key derivation agree with other tools, and parameters come from the hash.
		{"reference m=1024", "Correct-horse1!", "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0MTZi$aZwyC49jDLIqUGdJygSn2RB5S3FWTqMqQIakaQPgwuw", true},
		{"reference OWASP", "Correct-horse1!", "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0MTZi$Nfaf+DYNJJIm7mnzJORJ6sAEHccJIWa/j6f94Dyh8/s", true},
		{"reference, wrong password", "correct-horse1!", "$argon2id$v=19$m=1024,t=2,p=1$c2FsdHNhbHRzYWx0MTZi$aZwyC49jDLIqUGdJygSn2RB5S3FWTqMqQIakaQPgwuw", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.Verify(tt.password, tt.hash)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("Verify = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestVerifyFollowsStoredParams(t *testing.T) {
	old := newHasher(t, argon2id.Params{Memory: 128, Iterations: 3, Parallelism: 2, SaltLength: 8, KeyLength: 16})
	hash, err := old.Hash("Correct-horse1!")
	if err != nil {
		t.Fatal(err)
	}
	ok, err := newHasher(t, cheap).Verify("Correct-horse1!", hash)
	if err != nil || !ok {
		t.Fatalf("Verify with other params = %v, %v; want true", ok, err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	const salt, key = "c2FsdHNhbHRzYWx0MTZi", "aZwyC49jDLIqUGdJygSn2RB5S3FWTqMqQIakaQPgwuw"
	tests := []struct{ name, hash string }{
		{"empty", ""},
		{"plain text", "Correct-horse1!"},
		{"bcrypt", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"},
		{"argon2i", "$argon2i$v=19$m=1024,t=2,p=1$" + salt + "$" + key},
		{"no leading dollar", "argon2id$v=19$m=1024,t=2,p=1$" + salt + "$" + key},
		{"missing key", "$argon2id$v=19$m=1024,t=2,p=1$" + salt},
		{"extra field", "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "$" + key + "$x"},
		{"old version", "$argon2id$v=16$m=1024,t=2,p=1$" + salt + "$" + key},
		{"version with junk", "$argon2id$v=19x$m=1024,t=2,p=1$" + salt + "$" + key},
		{"params reordered", "$argon2id$v=19$t=2,m=1024,p=1$" + salt + "$" + key},
		{"params with junk", "$argon2id$v=19$m=1024,t=2,p=1,k=3$" + salt + "$" + key},
		{"negative memory", "$argon2id$v=19$m=-1,t=2,p=1$" + salt + "$" + key},
		{"memory too big", "$argon2id$v=19$m=4294967295,t=2,p=1$" + salt + "$" + key},
		{"zero iterations", "$argon2id$v=19$m=1024,t=0,p=1$" + salt + "$" + key},
		{"too many iterations", "$argon2id$v=19$m=1024,t=100000,p=1$" + salt + "$" + key},
		{"zero parallelism", "$argon2id$v=19$m=1024,t=2,p=0$" + salt + "$" + key},
		{"parallelism overflow", "$argon2id$v=19$m=1024,t=2,p=300$" + salt + "$" + key},
		{"salt not base64", "$argon2id$v=19$m=1024,t=2,p=1$!!!!$" + key},
		{"salt padded", "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "==$" + key},
		{"salt too short", "$argon2id$v=19$m=1024,t=2,p=1$c2FsdA$" + key},
		{"key not base64", "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "$" + strings.Repeat("*", 43)},
		{"key too short", "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "$aZwyC49j"},
		{"empty key", "$argon2id$v=19$m=1024,t=2,p=1$" + salt + "$"},
	}
	h := newHasher(t, cheap)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify("Correct-horse1!", tt.hash)
			if ok || !errors.Is(err, argon2id.ErrMalformedHash) {
				t.Fatalf("Verify = %v, %v; want false, ErrMalformedHash", ok, err)
			}
		})
	}
}

func TestNewRejectsBadParams(t *testing.T) {
	tests := []struct {
		name string
		p    argon2id.Params
	}{
		{"zero", argon2id.Params{}},
		{"no iterations", argon2id.Params{Memory: 64, Parallelism: 1, SaltLength: 16, KeyLength: 32}},
		{"no parallelism", argon2id.Params{Memory: 64, Iterations: 1, SaltLength: 16, KeyLength: 32}},
		{"memory below 8 per lane", argon2id.Params{Memory: 8, Iterations: 1, Parallelism: 2, SaltLength: 16, KeyLength: 32}},
		{"short salt", argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 4, KeyLength: 32}},
		{"short key", argon2id.Params{Memory: 64, Iterations: 1, Parallelism: 1, SaltLength: 16, KeyLength: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := argon2id.New(tt.p); err == nil {
				t.Fatalf("New(%+v) accepted bad params", tt.p)
			}
		})
	}
	if _, err := argon2id.New(argon2id.OWASP()); err != nil {
		t.Fatalf("New(OWASP()) = %v", err)
	}
}

func TestConcurrentUse(t *testing.T) {
	h := newHasher(t, cheap)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			hash, err := h.Hash("Correct-horse1!")
			if err == nil {
				var ok bool
				if ok, err = h.Verify("Correct-horse1!", hash); err == nil && !ok {
					err = errors.New("own hash did not verify")
				}
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func BenchmarkHashOWASP(b *testing.B) {
	h := newHasher(b, argon2id.OWASP())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := h.Hash("Correct-horse1!"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyOWASP(b *testing.B) {
	h := newHasher(b, argon2id.OWASP())
	hash, err := h.Hash("Correct-horse1!")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := h.Verify("Correct-horse1!", hash); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
