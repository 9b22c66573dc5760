// Package archtest keeps the import direction of STYLE.md: core/users|raids ← ports ← core/app ←
// adapters/http ← cmd; adapters never import each other; views never import core/app, ports or
// adapters. It reads the imports of every non-test .go file in the module, so a new package or a
// new adapter is covered without touching this file. (.golangci.yml says the same through
// depguard, at the import line; this test is what `make test` enforces.) usecases_test.go adds
// what imports cannot say: core/app holds use cases only, with no goroutine, timer or cache of
// its own.
package archtest

import (
	"bufio"
	"errors"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// rule reports why pkg (a folder relative to the module root, "core/app") may not import imp (an
// import path relative to the module when it is one of ours, with internal true), or "".
func rule(pkg, imp string, internal bool) string {
	std := !internal && !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
	under := func(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }
	coreDomain := func(p string) bool { return under(p, "core") && !under(p, "core/app") && p != "core" }

	if !internal && (imp == "github.com/gorilla/mux" || strings.HasPrefix(imp, "github.com/gorilla/mux/")) &&
		!under(pkg, "adapters/http") {
		return "gorilla/mux stays in adapters/http"
	}
	if internal && under(imp, "cmd") {
		return "nothing imports cmd/"
	}
	switch {
	case coreDomain(pkg):
		if !std {
			return "core/users and core/raids import only the standard library"
		}
	case under(pkg, "core/app"):
		if ok := std || internal && (under(imp, "core") || imp == "ports"); !ok {
			return "core/app imports only core/*, ports and the standard library"
		}
	case pkg == "ports":
		if ok := std || internal && coreDomain(imp); !ok {
			return "ports imports only core/users, core/raids and the standard library"
		}
	case under(pkg, "ports"): // contract suites
		if internal && (under(imp, "adapters") || under(imp, "core/app")) {
			return "ports/... never imports adapters or core/app"
		}
	case under(pkg, "i18n"):
		// The catalogue sits below the views and the HTTP edge, which both use it; the core
		// stays in English and never imports it (the rules above keep core/* to itself).
		if internal {
			return "i18n imports nothing of ours"
		}
	case under(pkg, "views"):
		if internal && (under(imp, "core/app") || under(imp, "ports") || under(imp, "adapters")) {
			return "views never import core/app, ports or adapters"
		}
	case under(pkg, "adapters"):
		if internal && under(imp, "adapters") && adapterOf(imp) != adapterOf(pkg) {
			return "adapters never import each other"
		}
	}
	return ""
}

// adapterOf is the adapter a folder belongs to: "adapters/http/api" → "adapters/http".
func adapterOf(p string) string {
	parts := strings.SplitN(p, "/", 3)
	if len(parts) < 2 {
		return p
	}
	return parts[0] + "/" + parts[1]
}

func TestImportDirection(t *testing.T) {
	root, module := moduleRoot(t)
	seen := map[string]int{} // package folder → non-test files read
	var violations []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "node_modules" || name == "vendor" || isModule(path)) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		pkg := filepath.ToSlash(filepath.Dir(rel))
		seen[pkg]++
		for _, spec := range f.Imports {
			imp, _ := strconv.Unquote(spec.Path.Value)
			ours, internal := imp, false
			if imp == module || strings.HasPrefix(imp, module+"/") {
				ours, internal = strings.TrimPrefix(strings.TrimPrefix(imp, module), "/"), true
			}
			if why := rule(pkg, ours, internal); why != "" {
				violations = append(violations, filepath.ToSlash(rel)+" imports "+imp+": "+why)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// Guard against walking the wrong folder and passing on nothing.
	for _, pkg := range []string{"core/users", "core/raids", "core/app", "ports"} {
		if seen[pkg] == 0 {
			t.Errorf("read no Go files in %s under %s: is the walk looking at the module?", pkg, root)
		}
	}
	slices.Sort(violations)
	for _, v := range violations {
		t.Error(v)
	}
}

// TestRules pins what the rules say, so loosening one by mistake shows.
func TestRules(t *testing.T) {
	cases := []struct {
		pkg, imp string
		internal bool
		allowed  bool
	}{
		{"core/users", "strings", false, true},
		{"core/users", "core/raids", true, false},
		{"core/raids", "github.com/google/uuid", false, false},
		{"core/app", "core/users", true, true},
		{"core/app", "ports", true, true},
		{"core/app", "ports/portstest", true, false},
		{"core/app", "adapters/clock", true, false},
		{"core/app", "github.com/redis/go-redis/v9", false, false},
		{"ports", "core/raids", true, true},
		{"ports", "core/app", true, false},
		{"ports", "adapters/memory", true, false},
		{"ports/portstest", "ports", true, true},
		{"ports/portstest", "adapters/memory", true, false},
		{"views/page", "core/raids", true, true},
		{"views/page", "i18n", true, true},
		{"adapters/http/web", "i18n", true, true},
		{"i18n", "golang.org/x/text/language", false, true},
		{"i18n", "core/users", true, false},
		{"i18n", "views/component", true, false},
		{"core/app", "i18n", true, false},
		{"core/users", "i18n", true, false},
		{"views/page", "github.com/a-h/templ", false, true},
		{"views/page", "core/app", true, false},
		{"views/page", "ports", true, false},
		{"views/page", "adapters/http", true, false},
		{"adapters/postgres", "adapters/redis", true, false},
		{"adapters/postgres", "adapters/postgres/internal/sqlc", true, true},
		{"adapters/http", "adapters/http/api", true, true},
		{"adapters/http/api", "adapters/http/problem", true, true},
		{"adapters/http/web", "adapters/postgres", true, false},
		{"adapters/http", "github.com/gorilla/mux", false, true},
		{"adapters/redis", "github.com/gorilla/mux", false, false},
		{"cmd/bossraid", "github.com/gorilla/mux", false, false},
		{"cmd/bossraid", "adapters/postgres", true, true},
		{"internal/testenv", "adapters/postgres", true, true},
		{"adapters/http", "cmd/bossraid", true, false},
	}
	for _, c := range cases {
		why := rule(c.pkg, c.imp, c.internal)
		if (why == "") != c.allowed {
			t.Errorf("%s importing %s: allowed=%v, want %v (%s)", c.pkg, c.imp, why == "", c.allowed, why)
		}
	}
}

// moduleRoot finds the folder holding go.mod above the test's working folder and its module path.
func moduleRoot(t *testing.T) (dir, module string) {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for !isModule(dir) {
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's folder")
		}
		dir = parent
	}
	module, err = modulePath(filepath.Join(dir, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	return dir, module
}

func isModule(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

func modulePath(gomod string) (string, error) {
	f, err := os.Open(gomod)
	if err != nil {
		return "", err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), nil
		}
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	return "", errors.New(gomod + " has no module line")
}
