package check

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// repo is the repository's root, from this folder.
const repo = "../../.."

// appFacts is what the manifests must agree with, read from the app's own source.
type appFacts struct {
	settings    map[string]bool // every environment variable the binary reads
	routes      map[string]bool // paths the server registers itself (/healthz, /readyz, …)
	metricsPath string
	// From the Dockerfile's final stage.
	entrypoint string
	user       string // the USER line
	baseImage  string
	exposed    int
}

// distrolessNonrootUID is the uid of the user "nonroot" in gcr.io/distroless images.
const distrolessNonrootUID = 65532

func readApp(t *testing.T) appFacts {
	t.Helper()
	f := appFacts{settings: map[string]bool{}, routes: map[string]bool{}}

	// Settings() in cmd/bossraid/config.go lists every setting ({"NAME", default, meaning}),
	// and getenv("NAME") calls anywhere in cmd/bossraid read the rest (GOMEMLIMIT).
	for _, file := range goFiles(t, filepath.Join(repo, "cmd/bossraid")) {
		ast.Inspect(file, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name == "Settings" && n.Recv == nil {
					ast.Inspect(n.Body, func(m ast.Node) bool {
						if lit, ok := m.(*ast.CompositeLit); ok && len(lit.Elts) == 3 {
							if name, ok := stringLit(lit.Elts[0]); ok {
								f.settings[name] = true
							}
						}
						return true
					})
				}
			case *ast.CallExpr:
				if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "getenv" && len(n.Args) == 1 {
					if name, ok := stringLit(n.Args[0]); ok {
						f.settings[name] = true
					}
				}
			}
			return true
		})
	}
	for _, must := range []string{"APP_ENV", "DATABASE_URL", "REDIS_URL", "HTTP_ADDR", "SECRET_KEY", "SHUTDOWN_DELAY", "SHUTDOWN_TIMEOUT", "GOMEMLIMIT"} {
		if !f.settings[must] {
			t.Fatalf("did not find the setting %s in cmd/bossraid: has config.go changed shape?", must)
		}
	}

	// The server's own routes: s.router.HandleFunc("/path", …) in adapters/http/server.go.
	for _, file := range goFiles(t, filepath.Join(repo, "adapters/http")) {
		ast.Inspect(file, func(n ast.Node) bool {
			if call, ok := n.(*ast.CallExpr); ok && len(call.Args) >= 1 {
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok && (sel.Sel.Name == "HandleFunc" || sel.Sel.Name == "Handle") {
					if path, ok := stringLit(call.Args[0]); ok {
						f.routes[path] = true
					}
				}
			}
			return true
		})
	}
	if !f.routes["/healthz"] || !f.routes["/readyz"] {
		t.Fatalf("adapters/http registers no /healthz or /readyz (found %v)", keys(f.routes))
	}

	// const Path = "/metrics" in adapters/http/metrics.
	for _, file := range goFiles(t, filepath.Join(repo, "adapters/http/metrics")) {
		for _, decl := range file.Decls {
			if gd, ok := decl.(*ast.GenDecl); ok && gd.Tok == token.CONST {
				for _, spec := range gd.Specs {
					if vs := spec.(*ast.ValueSpec); len(vs.Names) == 1 && vs.Names[0].Name == "Path" && len(vs.Values) == 1 {
						f.metricsPath, _ = stringLit(vs.Values[0])
					}
				}
			}
		}
	}
	if f.metricsPath == "" {
		t.Fatal("adapters/http/metrics has no const Path")
	}

	readDockerfile(t, &f)
	return f
}

// readDockerfile takes the final stage's FROM, USER, ENTRYPOINT and EXPOSE.
func readDockerfile(t *testing.T, f *appFacts) {
	t.Helper()
	file, err := os.Open(filepath.Join(repo, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	for sc.Scan() {
		word, rest, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		rest = strings.TrimSpace(rest)
		switch word {
		case "FROM":
			f.baseImage, _, _ = strings.Cut(rest, " ")
			f.user, f.entrypoint, f.exposed = "", "", 0
		case "USER":
			f.user = rest
		case "ENTRYPOINT":
			f.entrypoint = strings.Trim(rest, `[]" `)
		case "EXPOSE":
			f.exposed, _ = strconv.Atoi(rest)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if f.entrypoint == "" || f.user == "" || f.exposed == 0 {
		t.Fatalf("Dockerfile's last stage: ENTRYPOINT %q USER %q EXPOSE %d: has it changed shape?", f.entrypoint, f.user, f.exposed)
	}
}

// goFiles parses the non-test Go files of one folder.
func goFiles(t *testing.T, dir string) []*ast.File {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	var files []*ast.File
	fset := token.NewFileSet()
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file)
	}
	return files
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
