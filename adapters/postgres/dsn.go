package postgres

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// KeyValueDSN turns a libpq connection URL into the key/value form, and returns a key/value
// string as it is. lib/pq follows several hosts (postgres://u@h1:5432,h2:5433/db with
// target_session_attrs=read-write, as libpq reads it) only in the key/value form — its URL
// parser reads "h1:5432,h2:5433" as host names — so the URL is translated here, as libpq's
// own parser would read it: user and password percent-decoded, one port per host (5432 where
// a host names none), [IPv6] hosts, every query parameter (sslmode, target_session_attrs, …)
// kept, a parameter winning over the part of the URL it repeats. Errors never quote the
// password.
func KeyValueDSN(dsn string) (string, error) {
	rest, ok := strings.CutPrefix(dsn, "postgres://")
	if !ok {
		if rest, ok = strings.CutPrefix(dsn, "postgresql://"); !ok {
			if scheme, _, isURL := strings.Cut(dsn, "://"); isURL && !strings.ContainsAny(scheme, "= ") {
				return "", errors.New("want a postgres:// or postgresql:// URL, or key=value settings")
			}
			return dsn, nil
		}
	}
	if strings.ContainsRune(rest, '#') {
		return "", errors.New("postgres URL: a fragment (#) is not allowed; percent-encode it as %23")
	}
	var keys []string
	values := map[string]string{}
	set := func(k, v string) {
		if _, ok := values[k]; !ok {
			keys = append(keys, k)
		}
		values[k] = v
	}

	// [user[:password]@]: the first @ before any /, as libpq reads it.
	if at := strings.IndexAny(rest, "@/"); at >= 0 && rest[at] == '@' {
		user, password, hasPassword := strings.Cut(rest[:at], ":")
		u, err := url.PathUnescape(user)
		if err != nil {
			return "", errors.New("postgres URL: the user name has a bad percent-encoding")
		}
		if u != "" {
			set("user", u)
		}
		if hasPassword {
			p, err := url.PathUnescape(password)
			if err != nil {
				return "", errors.New("postgres URL: the password has a bad percent-encoding")
			}
			set("password", p)
		}
		rest = rest[at+1:]
	}

	hostspec, rest := rest, ""
	if i := strings.IndexAny(hostspec, "/?"); i >= 0 {
		hostspec, rest = hostspec[:i], hostspec[i:]
	}
	if hostspec != "" {
		hosts, ports, err := splitHosts(hostspec)
		if err != nil {
			return "", err
		}
		set("host", strings.Join(hosts, ","))
		if slices.ContainsFunc(ports, func(p string) bool { return p != "" }) {
			for i, p := range ports {
				if p == "" {
					ports[i] = "5432"
				}
			}
			set("port", strings.Join(ports, ","))
		}
	}

	path, query, _ := strings.Cut(rest, "?")
	if db := strings.TrimPrefix(path, "/"); db != "" {
		name, err := url.PathUnescape(db)
		if err != nil {
			return "", errors.New("postgres URL: the database name has a bad percent-encoding")
		}
		set("dbname", name)
	}
	for param := range strings.SplitSeq(query, "&") {
		if param == "" {
			continue
		}
		rawKey, rawValue, ok := strings.Cut(param, "=")
		k, err := url.PathUnescape(rawKey)
		if !ok || err != nil || !validKey(k) {
			return "", fmt.Errorf("postgres URL: bad query parameter %q: want name=value", rawKey)
		}
		v, err := url.PathUnescape(rawValue)
		if err != nil {
			return "", fmt.Errorf("postgres URL: the value of %s has a bad percent-encoding", k)
		}
		set(k, v)
	}

	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k+"="+quoteValue(values[k]))
	}
	return strings.Join(out, " "), nil
}

// splitHosts reads "h1:5432,[::1]:5433,h3" into hosts and ports ("" where none is named).
func splitHosts(spec string) (hosts, ports []string, err error) {
	for part := range strings.SplitSeq(spec, ",") {
		var host, port string
		if strings.HasPrefix(part, "[") {
			end := strings.IndexByte(part, ']')
			if end < 0 {
				return nil, nil, fmt.Errorf("postgres URL: host %q has no closing ]", part)
			}
			host = part[1:end]
			if after := part[end+1:]; after != "" {
				p, ok := strings.CutPrefix(after, ":")
				if !ok {
					return nil, nil, fmt.Errorf("postgres URL: unexpected %q after host [%s]", after, host)
				}
				port = p
			}
		} else {
			host, port, _ = strings.Cut(part, ":")
		}
		if host, err = url.PathUnescape(host); err != nil {
			return nil, nil, fmt.Errorf("postgres URL: host %q has a bad percent-encoding", part)
		}
		if host == "" {
			return nil, nil, fmt.Errorf("postgres URL: empty host in %q", spec)
		}
		if strings.ContainsAny(host, ", \t\n'\\") {
			return nil, nil, fmt.Errorf("postgres URL: bad host %q", host)
		}
		if port != "" {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return nil, nil, fmt.Errorf("postgres URL: bad port %q for host %s", port, host)
			}
		}
		hosts, ports = append(hosts, host), append(ports, port)
	}
	return hosts, ports, nil
}

// validKey accepts connection option names (sslmode, target_session_attrs, …).
func validKey(k string) bool {
	if k == "" {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// quoteValue quotes a key/value setting as libpq reads it: in single quotes, with \ and '
// escaped by a backslash.
func quoteValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// ParseDSN reads DATABASE_URL as Open will (either form, every host), so a bad one is refused
// at start-up with the reason.
func ParseDSN(dsn string) (pq.Config, error) {
	kv, err := KeyValueDSN(dsn)
	if err != nil {
		return pq.Config{}, err
	}
	return pq.NewConfig(kv)
}
