package clientip_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/bossraid/bossraid/adapters/http/clientip"
)

func TestForwardedTakesTheRightMostAddressThatIsNoProxyOfOurs(t *testing.T) {
	trusted, err := clientip.ParsePrefixes(clientip.DefaultTrustedProxies + ",198.51.100.0/24")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		peer   string
		xff    []string // header lines, in order
		client string   // as Key has it
	}{
		{"no proxy: the peer", "203.0.113.5:4000", nil, "203.0.113.5"},
		{"a client that is no proxy cannot claim an address", "203.0.113.5:4000", []string{"1.1.1.1"}, "203.0.113.5"},
		{"behind our proxy", "10.0.0.1:4000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed first entry is ignored", "10.0.0.1:4000", []string{"1.1.1.1, 203.0.113.9"}, "203.0.113.9"},
		{"spoofed entries on their own line", "10.0.0.1:4000", []string{"1.1.1.1, 2.2.2.2", "203.0.113.9"}, "203.0.113.9"},
		{"spoofed private address is not believed", "10.0.0.1:4000", []string{"10.9.9.9", "203.0.113.9"}, "203.0.113.9"},
		{"two proxies of ours", "10.0.0.1:4000", []string{"1.1.1.1, 203.0.113.9, 198.51.100.7"}, "203.0.113.9"},
		{"three lines, two proxies", "127.0.0.1:4000", []string{"6.6.6.6", "203.0.113.9", "192.168.1.2"}, "203.0.113.9"},
		{"a client inside our network", "10.0.0.1:4000", []string{"10.0.0.7"}, "10.0.0.7"},
		{"garbage left of the client", "10.0.0.1:4000", []string{"<script>, 203.0.113.9"}, "203.0.113.9"},
		{"garbage as the last hop", "10.0.0.1:4000", []string{"203.0.113.9, nonsense"}, "10.0.0.1"},
		{"ports and brackets", "[::1]:4000", []string{"[2001:db8::1]:5555"}, "2001:db8::/64"},
		{"address with a port", "10.0.0.1:4000", []string{"203.0.113.9:5555"}, "203.0.113.9"},
		{"IPv4-mapped IPv6", "[::ffff:10.0.0.1]:4000", []string{"::ffff:203.0.113.9"}, "203.0.113.9"},
		{"IPv6 client", "[fd00::1]:4000", []string{"2001:db8:1:2::3"}, "2001:db8:1:2::/64"},
		{"empty header", "10.0.0.1:4000", []string{""}, "10.0.0.1"},
	}
	for _, tc := range cases {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = tc.peer
		for _, line := range tc.xff {
			req.Header.Add("X-Forwarded-For", line)
		}
		var got string
		clientip.Forwarded(trusted, http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
			got = clientip.Key(r)
		})).ServeHTTP(httptest.NewRecorder(), req)
		if got != tc.client {
			t.Errorf("%s: client %q, want %q", tc.name, got, tc.client)
		}
	}
}

func TestKeyCountsIPv6ByItsSlash64(t *testing.T) {
	key := func(remote string) string {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.RemoteAddr = remote
		return clientip.Key(req)
	}
	a := key("[2001:db8:aa:bb:1::1]:1000")
	for _, same := range []string{"[2001:db8:aa:bb:ffff:ffff:ffff:ffff]:2", "[2001:db8:aa:bb::]:3", "[2001:db8:aa:bb:1234:5678:9abc:def0%eth0]:4"} {
		if got := key(same); got != a {
			t.Errorf("%s counted as %q, not with %q", same, got, a)
		}
	}
	if b := key("[2001:db8:aa:bc::1]:1000"); b == a {
		t.Errorf("the next /64 shares the key %q", b)
	}
	if got := key("203.0.113.7:1000"); got != "203.0.113.7" {
		t.Errorf("IPv4 key %q", got)
	}
	if got, other := key("203.0.113.7:1"), key("203.0.113.8:1"); got == other {
		t.Errorf("two IPv4 clients share %q", got)
	}
	if got := key("[::ffff:203.0.113.7]:1"); got != "203.0.113.7" {
		t.Errorf("IPv4-mapped key %q", got)
	}
}

func TestParsePrefixesRefusesNonsense(t *testing.T) {
	if _, err := clientip.ParsePrefixes("10.0.0.0/8, nonsense"); err == nil {
		t.Error("nonsense accepted")
	}
	got, err := clientip.ParsePrefixes(" 10.1.2.3 , 2001:db8::/32,")
	if err != nil || len(got) != 2 || got[0].String() != "10.1.2.3/32" {
		t.Errorf("got %v, %v", got, err)
	}
}
