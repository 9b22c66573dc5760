package jwt_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/bossraid/bossraid/adapters/jwt"
	"github.com/bossraid/bossraid/ports"
)

var (
	secret   = []byte("correct horse battery staple")
	key      = jwt.DeriveKey(secret, jwt.TokensPurpose)
	otherKey = jwt.DeriveKey(secret, "bossraid sessions v1")
	issued   = time.Date(2026, 11, 25, 9, 30, 0, 0, time.UTC)
)

func newTokens(t *testing.T, k []byte) *jwt.Tokens {
	t.Helper()
	tok, err := jwt.New(k)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func sampleClaims(kind ports.TokenKind) ports.TokenClaims {
	return ports.TokenClaims{
		Kind: kind, UserID: 42, Version: 3, ID: "5f0c0e5d7a6b4c3d2e1f00112233aabb",
		IssuedAt: issued, ExpiresAt: issued.Add(15 * time.Minute),
	}
}

func sign(t *testing.T, tok *jwt.Tokens, c ports.TokenClaims) string {
	t.Helper()
	s, err := tok.Sign(c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// forge signs arbitrary claims with method and k, as an attacker or a buggy issuer would.
func forge(t *testing.T, method gojwt.SigningMethod, k any, c gojwt.MapClaims) string {
	t.Helper()
	s, err := gojwt.NewWithClaims(method, c).SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func goodMap() gojwt.MapClaims {
	return gojwt.MapClaims{
		"sub": "42", "typ": "access", "ver": 3, "jti": "abc",
		"iat": issued.Unix(), "exp": issued.Add(time.Minute).Unix(),
	}
}

func without(k string) gojwt.MapClaims { m := goodMap(); delete(m, k); return m }

func with(k string, v any) gojwt.MapClaims { m := goodMap(); m[k] = v; return m }

func TestRoundTrip(t *testing.T) {
	tok := newTokens(t, key)
	for _, kind := range []ports.TokenKind{ports.TokenAccess, ports.TokenRefresh} {
		t.Run(string(kind), func(t *testing.T) {
			want := sampleClaims(kind)
			got, err := tok.Verify(sign(t, tok, want), kind)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("Verify = %+v, want %+v", got, want)
			}
		})
	}
}

func TestRoundTripKeepsSecondsInUTC(t *testing.T) {
	tok := newTokens(t, key)
	c := sampleClaims(ports.TokenAccess)
	seoul := time.FixedZone("KST", 9*60*60)
	c.IssuedAt = time.Date(2026, 11, 25, 18, 30, 0, 999_000_000, seoul)
	c.ExpiresAt = c.IssuedAt.Add(time.Hour)
	got, err := tok.Verify(sign(t, tok, c), ports.TokenAccess)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.IssuedAt.Truncate(time.Second).UTC(); got.IssuedAt != want {
		t.Fatalf("IssuedAt = %v, want %v", got.IssuedAt, want)
	}
	if want := c.ExpiresAt.Truncate(time.Second).UTC(); got.ExpiresAt != want {
		t.Fatalf("ExpiresAt = %v, want %v", got.ExpiresAt, want)
	}
}

func TestVerifyLeavesExpiryToTheCaller(t *testing.T) {
	tok := newTokens(t, key)
	c := sampleClaims(ports.TokenRefresh)
	c.IssuedAt, c.ExpiresAt = time.Unix(1000, 0).UTC(), time.Unix(2000, 0).UTC()
	got, err := tok.Verify(sign(t, tok, c), ports.TokenRefresh)
	if err != nil {
		t.Fatalf("expired token refused: %v", err)
	}
	if got.ExpiresAt != c.ExpiresAt {
		t.Fatalf("ExpiresAt = %v, want %v", got.ExpiresAt, c.ExpiresAt)
	}
}

func TestVerifyRefuses(t *testing.T) {
	tok := newTokens(t, key)
	access := sign(t, tok, sampleClaims(ports.TokenAccess))
	refresh := sign(t, tok, sampleClaims(ports.TokenRefresh))
	parts := strings.Split(access, ".")
	head, payload, sig := parts[0], parts[1], parts[2]

	otherPayload := base64.RawURLEncoding.EncodeToString([]byte(
		`{"typ":"access","ver":3,"sub":"1","jti":"5f0c0e5d7a6b4c3d2e1f00112233aabb","iat":1795599000,"exp":1795599900}`))
	noneHeader := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		kind  ports.TokenKind
	}{
		{"empty", "", ports.TokenAccess},
		{"garbage", "not a token", ports.TokenAccess},
		{"garbage in three parts", "a.b.c", ports.TokenAccess},
		{"two parts", head + "." + payload, ports.TokenAccess},
		{"too long", access + strings.Repeat("A", 5000), ports.TokenAccess},
		{"access as refresh", access, ports.TokenRefresh},
		{"refresh as access", refresh, ports.TokenAccess},
		{"unknown kind asked", access, ports.TokenKind("admin")},
		{"wrong key", sign(t, newTokens(t, otherKey), sampleClaims(ports.TokenAccess)), ports.TokenAccess},
		{"token of another secret", sign(t, newTokens(t, jwt.DeriveKey([]byte("another secret"), jwt.TokensPurpose)), sampleClaims(ports.TokenAccess)), ports.TokenAccess},
		{"tampered payload", head + "." + otherPayload + "." + sig, ports.TokenAccess},
		{"tampered signature", head + "." + payload + "." + flipLast(sig), ports.TokenAccess},
		{"signature stripped", head + "." + payload + ".", ports.TokenAccess},
		{"padded segment", head + "." + payload + "==." + sig, ports.TokenAccess},
		{"alg none, no signature", noneHeader + "." + payload + ".", ports.TokenAccess},
		{"alg none, old signature", noneHeader + "." + payload + "." + sig, ports.TokenAccess},
		{"alg none via library", forge(t, gojwt.SigningMethodNone, gojwt.UnsafeAllowNoneSignatureType, goodMap()), ports.TokenAccess},
		{"HS384 with the right key", forge(t, gojwt.SigningMethodHS384, key, goodMap()), ports.TokenAccess},
		{"HS512 with the right key", forge(t, gojwt.SigningMethodHS512, key, goodMap()), ports.TokenAccess},
		{"RS256", forge(t, gojwt.SigningMethodRS256, rsaKey, goodMap()), ports.TokenAccess},
		{"no subject", forge(t, gojwt.SigningMethodHS256, key, without("sub")), ports.TokenAccess},
		{"subject zero", forge(t, gojwt.SigningMethodHS256, key, with("sub", "0")), ports.TokenAccess},
		{"negative subject", forge(t, gojwt.SigningMethodHS256, key, with("sub", "-42")), ports.TokenAccess},
		{"subject with a leading zero", forge(t, gojwt.SigningMethodHS256, key, with("sub", "042")), ports.TokenAccess},
		{"subject not a number", forge(t, gojwt.SigningMethodHS256, key, with("sub", "alice")), ports.TokenAccess},
		{"subject as a JSON number", forge(t, gojwt.SigningMethodHS256, key, with("sub", 42)), ports.TokenAccess},
		{"no kind", forge(t, gojwt.SigningMethodHS256, key, without("typ")), ports.TokenAccess},
		{"no token id", forge(t, gojwt.SigningMethodHS256, key, without("jti")), ports.TokenAccess},
		{"empty token id", forge(t, gojwt.SigningMethodHS256, key, with("jti", "")), ports.TokenAccess},
		{"no version", forge(t, gojwt.SigningMethodHS256, key, without("ver")), ports.TokenAccess},
		{"negative version", forge(t, gojwt.SigningMethodHS256, key, with("ver", -1)), ports.TokenAccess},
		{"fractional version", forge(t, gojwt.SigningMethodHS256, key, with("ver", 1.5)), ports.TokenAccess},
		{"no expiry", forge(t, gojwt.SigningMethodHS256, key, without("exp")), ports.TokenAccess},
		{"no issue time", forge(t, gojwt.SigningMethodHS256, key, without("iat")), ports.TokenAccess},
		{"expiry not a number", forge(t, gojwt.SigningMethodHS256, key, with("exp", "tomorrow")), ports.TokenAccess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tok.Verify(tt.token, tt.kind)
			if !errors.Is(err, ports.ErrInvalidToken) {
				t.Fatalf("Verify = %+v, %v; want ErrInvalidToken", got, err)
			}
		})
	}
	// The forged map itself is fine: it is the single change in each case that is refused.
	if _, err := tok.Verify(forge(t, gojwt.SigningMethodHS256, key, goodMap()), ports.TokenAccess); err != nil {
		t.Fatalf("well-formed forged-by-us token refused: %v", err)
	}
}

func flipLast(s string) string {
	if strings.HasSuffix(s, "A") {
		return s[:len(s)-1] + "B"
	}
	return s[:len(s)-1] + "A"
}

func TestConcurrentUse(t *testing.T) {
	tok := newTokens(t, key)
	errs := make(chan error, 32)
	for i := range 32 {
		go func() {
			c := sampleClaims(ports.TokenAccess)
			c.UserID = int64(i + 1)
			s, err := tok.Sign(c)
			if err == nil {
				var got ports.TokenClaims
				if got, err = tok.Verify(s, ports.TokenAccess); err == nil && got != c {
					err = errors.New("claims changed on the way")
				}
			}
			errs <- err
		}()
	}
	for range 32 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestSignRefusesBadClaims(t *testing.T) {
	tok := newTokens(t, key)
	tests := []struct {
		name   string
		change func(*ports.TokenClaims)
	}{
		{"unknown kind", func(c *ports.TokenClaims) { c.Kind = "admin" }},
		{"zero user", func(c *ports.TokenClaims) { c.UserID = 0 }},
		{"negative user", func(c *ports.TokenClaims) { c.UserID = -1 }},
		{"no id", func(c *ports.TokenClaims) { c.ID = "" }},
		{"negative version", func(c *ports.TokenClaims) { c.Version = -1 }},
		{"no issue time", func(c *ports.TokenClaims) { c.IssuedAt = time.Time{} }},
		{"no expiry", func(c *ports.TokenClaims) { c.ExpiresAt = time.Time{} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := sampleClaims(ports.TokenAccess)
			tt.change(&c)
			if s, err := tok.Sign(c); err == nil {
				t.Fatalf("Sign = %q, want an error", s)
			}
		})
	}
}

func TestNewRefusesShortKeys(t *testing.T) {
	for _, k := range [][]byte{nil, {}, []byte("short"), make([]byte, jwt.MinKeyLength-1)} {
		if _, err := jwt.New(k); err == nil {
			t.Errorf("New(%d-byte key) accepted it", len(k))
		}
	}
}

func TestNewCopiesTheKey(t *testing.T) {
	k := bytes.Clone(key)
	tok := newTokens(t, k)
	s := sign(t, tok, sampleClaims(ports.TokenAccess))
	k[0] ^= 0xff
	if _, err := tok.Verify(s, ports.TokenAccess); err != nil {
		t.Fatalf("changing the caller's slice changed the key: %v", err)
	}
}

func TestDeriveKey(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		purpose string
		want    string
	}{
		// Computed independently with Python's hmac (RFC 5869, empty salt).
		{"known answer", "correct horse battery staple", "bossraid tokens v1",
			"2f01bcce3fdbc14c44a899207b72661707dc09e45da2e0f3622d425669582298"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hex.EncodeToString(jwt.DeriveKey([]byte(tt.secret), tt.purpose)); got != tt.want {
				t.Fatalf("DeriveKey = %s, want %s", got, tt.want)
			}
		})
	}

	a := jwt.DeriveKey(secret, "a")
	distinct := map[string][]byte{
		"other purpose": jwt.DeriveKey(secret, "b"),
		"other secret":  jwt.DeriveKey([]byte("another secret"), "a"),
	}
	if len(a) != 32 {
		t.Fatalf("key is %d bytes, want 32", len(a))
	}
	if !bytes.Equal(a, jwt.DeriveKey(secret, "a")) {
		t.Fatal("DeriveKey is not deterministic")
	}
	for name, k := range distinct {
		if bytes.Equal(a, k) {
			t.Errorf("%s gave the same key", name)
		}
	}
}

func BenchmarkSign(b *testing.B) {
	tok, err := jwt.New(key)
	if err != nil {
		b.Fatal(err)
	}
	c := sampleClaims(ports.TokenAccess)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tok.Sign(c); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	tok, err := jwt.New(key)
	if err != nil {
		b.Fatal(err)
	}
	s, err := tok.Sign(sampleClaims(ports.TokenAccess))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tok.Verify(s, ports.TokenAccess); err != nil {
			b.Fatal(err)
		}
	}
}
