package postgres_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/adapters/postgres"
)

func TestKeyValueDSN(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		hosts    string // as pq reads the result: host:port,…
	}{
		{"postgres://u@h1:5432,h2:5433/db?target_session_attrs=read-write",
			"user='u' host='h1,h2' port='5432,5433' dbname='db' target_session_attrs='read-write'", "h1:5432,h2:5433"},
		{"postgresql://u@h1,h2:6000/db", "user='u' host='h1,h2' port='5432,6000' dbname='db'", "h1:5432,h2:6000"},
		{"postgres://h1,h2/db", "host='h1,h2' dbname='db'", "h1:5432,h2:5432"},
		{"postgres://postgres@127.0.0.1:5432/bossraid?sslmode=disable",
			"user='postgres' host='127.0.0.1' port='5432' dbname='bossraid' sslmode='disable'", "127.0.0.1:5432"},
		{"postgres://u@[::1]:5432,[2001:db8::2]:5433/db", "user='u' host='::1,2001:db8::2' port='5432,5433' dbname='db'", "::1:5432,2001:db8::2:5433"},
		{"postgres://[::1]/db", "host='::1' dbname='db'", "::1:5432"},
		{"postgres://u:p%40ss%3Aw%2Frd@h/db", "user='u' password='p@ss:w/rd' host='h' dbname='db'", "h:5432"},
		{`postgres://o%27brien:it%27s%5Cmine@h/db`, `user='o\'brien' password='it\'s\\mine' host='h' dbname='db'`, "h:5432"},
		{"postgres://u:a+b%20c@h/db", "user='u' password='a+b c' host='h' dbname='db'", "h:5432"},
		{"postgres://u:@h/db", "user='u' password='' host='h' dbname='db'", "h:5432"},
		{"postgres://u:p?w@h/db", "user='u' password='p?w' host='h' dbname='db'", "h:5432"},
		{"postgres://h/my%20db", "host='h' dbname='my db'", "h:5432"},
		{"postgres://h/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem&application_name=a+b",
			"host='h' dbname='db' sslmode='verify-full' sslrootcert='/etc/ca.pem' application_name='a+b'", "h:5432"},
		{"postgres://h1:1,h2:2/db?port=7,8", "host='h1,h2' port='7,8' dbname='db'", "h1:7,h2:8"},
		{"postgres://h1/db?host=h9", "host='h9' dbname='db'", "h9:5432"},
		{"postgres://h?connect_timeout=3", "host='h' connect_timeout='3'", "h:5432"},
		{"postgres://h/", "host='h'", "h:5432"},
		// The key/value form passes through as it is.
		{"host=a,b port=1,5432 target_session_attrs=read-write dbname=x", "host=a,b port=1,5432 target_session_attrs=read-write dbname=x", "a:1,b:5432"},
		{"", "", "localhost:5432"},
	} {
		got, err := postgres.KeyValueDSN(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%q\n got %s\nwant %s", tc.in, got, tc.want)
		}
		cfg, err := postgres.ParseDSN(tc.in)
		if err != nil {
			t.Errorf("%q: pq refuses %s: %v", tc.in, got, err)
			continue
		}
		hosts := []string{fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)}
		for _, m := range cfg.Multi {
			hosts = append(hosts, fmt.Sprintf("%s:%d", m.Host, m.Port))
		}
		if h := strings.Join(hosts, ","); h != tc.hosts {
			t.Errorf("%q: pq reads hosts %s, want %s", tc.in, h, tc.hosts)
		}
	}
}

func TestKeyValueDSNRefuses(t *testing.T) {
	for _, in := range []string{
		"postgres://u@h1:5432,,h2/db",
		"postgres://h1:abc/db",
		"postgres://h1:0/db",
		"postgres://h1:65536/db",
		"postgres://[::1/db",
		"postgres://[::1]x/db",
		"postgres://h/db?=x",
		"postgres://h/db?ssl mode=x",
		"postgres://h/db?sslmode",
		"postgres://h/db#frag",
		"postgres://u:%zz@h/db",
		"postgres://h/db?sslmode=%zz",
		"postgres://h%2C2/db",
		"mysql://u:secret@h/db",
	} {
		got, err := postgres.KeyValueDSN(in)
		if err == nil {
			t.Errorf("%q: accepted as %s", in, got)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("%q: the error quotes the password: %v", in, err)
		}
	}
}
