package archtest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// core/app holds use cases only: the rules of the game, told in terms of ports. What keeps an
// instance fast or alive (caches, fallbacks, background loops, fan-out) is an adapter that
// implements a port, composed in internal/wiring. So core/app starts no goroutine, owns no
// timer, sleep or lock-guarded cache, imports no adapter, and its comments name ports, not
// the services behind them.

// timeCalls are the time package's functions that wait or schedule.
var timeCalls = []string{"NewTimer", "NewTicker", "After", "AfterFunc", "Sleep", "Tick"}

// syncTypes are the sync types a cache of its own would be built on. (sync.Once, for a value
// worked out once, and sync/atomic, for the data in force, are not caches.)
var syncTypes = []string{"Map", "Mutex", "RWMutex"}

// infrastructure matches a comment naming a service behind a port.
var infrastructure = regexp.MustCompile(`(?i:\b(redis|postgres(ql)?|pub/sub)\b)|\b(LISTEN|NOTIFY)\b`)

// useCaseViolations reports what in one core/app file is not a use case; name is its path
// for the messages.
func useCaseViolations(name string, src []byte) ([]string, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	var out []string
	report := func(pos token.Pos, format string, args ...any) {
		out = append(out, fmt.Sprintf("%s: %s", fset.Position(pos), fmt.Sprintf(format, args...)))
	}
	// The names this file gives the time and sync packages.
	local := map[string]string{}
	for _, spec := range f.Imports {
		path, _ := strconv.Unquote(spec.Path.Value)
		if path == "adapters" || strings.Contains(path, "/adapters/") || strings.HasPrefix(path, "adapters/") {
			report(spec.Pos(), "imports the adapter %s", path)
		}
		if path != "time" && path != "sync" {
			continue
		}
		n := path
		if spec.Name != nil {
			n = spec.Name.Name
		}
		local[n] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n.Pos(), "starts a goroutine")
		case *ast.SelectorExpr:
			pkg, ok := n.X.(*ast.Ident)
			if !ok {
				return true
			}
			switch local[pkg.Name] {
			case "time":
				if slices.Contains(timeCalls, n.Sel.Name) {
					report(n.Pos(), "uses time.%s: waiting and scheduling belong in an adapter", n.Sel.Name)
				}
			case "sync":
				if slices.Contains(syncTypes, n.Sel.Name) {
					report(n.Pos(), "uses sync.%s: a cache of its own belongs in an adapter", n.Sel.Name)
				}
			}
		}
		return true
	})
	for _, group := range f.Comments {
		for _, c := range group.List {
			if m := infrastructure.FindString(c.Text); m != "" {
				report(c.Pos(), "a comment names %s: name the port instead", m)
			}
		}
	}
	return out, nil
}

func TestCoreAppHoldsUseCasesOnly(t *testing.T) {
	root, _ := moduleRoot(t)
	dir := filepath.Join(root, "core", "app")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	read := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		violations, err := useCaseViolations(filepath.Join("core", "app", name), src)
		if err != nil {
			t.Fatal(err)
		}
		read++
		for _, v := range violations {
			t.Error(v)
		}
	}
	if read == 0 {
		t.Fatalf("read no Go files in %s", dir)
	}
}

// TestUseCaseRuleCatches pins what the rule catches, so loosening it by mistake shows.
func TestUseCaseRuleCatches(t *testing.T) {
	cases := map[string]string{
		"a goroutine":       `package app; func f() { go f() }`,
		"a ticker":          `package app; import "time"; var _ = time.NewTicker`,
		"a sleep, renamed":  `package app; import tm "time"; func f() { tm.Sleep(1) }`,
		"time.After":        `package app; import "time"; var _ = time.After(1)`,
		"time.AfterFunc":    `package app; import "time"; var _ = time.AfterFunc`,
		"time.Tick":         `package app; import "time"; var _ = time.Tick(1)`,
		"a timer":           `package app; import "time"; var _ = time.NewTimer(1)`,
		"a sync.Map":        `package app; import "sync"; var m sync.Map`,
		"a mutex":           `package app; import "sync"; type c struct { mu sync.Mutex }`,
		"a read-write lock": `package app; import "sync"; type c struct { mu sync.RWMutex }`,
		"an adapter":        `package app; import "github.com/bossraid/bossraid/adapters/memory"; var _ = memory.NewStore`,
		"Redis in a comment": `package app
// reads Redis first
func f() {}`,
		"Postgres in a comment": `package app
func f() {} // asks postgres`,
	}
	for what, src := range cases {
		got, err := useCaseViolations("x.go", []byte(src))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if len(got) == 0 {
			t.Errorf("%s is not caught", what)
		}
	}
	allowed := `package app
import ("context"; "sync"; "sync/atomic"; "time")
// Ranking asks ports.Standings; the deadline is judged at now.
type x struct { once sync.Once; boss atomic.Pointer[int]; d time.Duration }
func f(ctx context.Context, now time.Time) time.Time { return now.Add(time.Second) }`
	if got, err := useCaseViolations("x.go", []byte(allowed)); err != nil || len(got) > 0 {
		t.Errorf("plain use-case code is refused: %v, %v", got, err)
	}
}
