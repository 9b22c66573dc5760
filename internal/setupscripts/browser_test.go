package setupscripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeMachine is a scratch machine for scripts/browser.sh: where Chromium and the font would be,
// and an apt-get stub that logs its arguments and "installs" by creating those files.
type fakeMachine struct {
	dir, chromium, font, aptLog string
}

func newFakeMachine(t *testing.T) *fakeMachine {
	t.Helper()
	dir := t.TempDir()
	m := &fakeMachine{
		dir:      dir,
		chromium: filepath.Join(dir, "usr/bin/chromium"),
		font:     filepath.Join(dir, "fonts/DejaVuSans.ttf"),
		aptLog:   filepath.Join(dir, "apt.log"),
	}
	stub := `#!/bin/sh
echo "$*" >> "` + m.aptLog + `"
case " $* " in *" install "*) ;; *) exit 0 ;; esac
for p in "$@"; do
	case $p in
	chromium) mkdir -p "$(dirname "` + m.chromium + `")"; printf '#!/bin/sh\n' > "` + m.chromium + `"; chmod +x "` + m.chromium + `" ;;
	fonts-dejavu-core) mkdir -p "$(dirname "` + m.font + `")"; : > "` + m.font + `" ;;
	esac
done
`
	writeExecutable(t, filepath.Join(dir, "apt-get"), stub)
	return m
}

func writeExecutable(t *testing.T, path, body string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// run runs `scripts/browser.sh up` as user uid, with sudo answering as sudoWorks says.
func (m *fakeMachine) run(t *testing.T, uid string, sudoWorks bool) (string, error) {
	t.Helper()
	sudo := filepath.Join(m.dir, "sudo")
	if sudoWorks {
		writeExecutable(t, sudo, "#!/bin/sh\n[ \"$1\" = -n ] && shift\nexec \"$@\"\n")
	} else {
		writeExecutable(t, sudo, "#!/bin/sh\necho 'sudo: a password is required' >&2\nexit 1\n")
	}
	cmd := exec.Command("bash", "../../scripts/browser.sh", "up")
	cmd.Env = append(os.Environ(),
		"CHROMIUM="+m.chromium,
		"BROWSER_FONT="+m.font,
		"APT_GET="+filepath.Join(m.dir, "apt-get"),
		"SUDO="+sudo,
		"BOSSRAID_SETUP_UID="+uid,
	)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func (m *fakeMachine) aptCalls(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(m.aptLog)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

func TestBrowserSetupInstallsWhatIsMissingOnce(t *testing.T) {
	m := newFakeMachine(t)
	out, err := m.run(t, "0", false)
	if err != nil {
		t.Fatalf("browser.sh up as root: %v\n%s", err, out)
	}
	calls := m.aptCalls(t)
	if len(calls) != 2 || !strings.HasPrefix(calls[0], "update") ||
		!strings.Contains(calls[1], "install -y") || !strings.Contains(calls[1], "chromium") ||
		!strings.Contains(calls[1], "fonts-dejavu-core") {
		t.Fatalf("apt-get calls = %q, want update then install of chromium and fonts-dejavu-core", calls)
	}
	if !strings.Contains(out, "installing chromium fonts-dejavu-core") || !strings.Contains(out, "installed in") {
		t.Errorf("output does not say what it installed:\n%s", out)
	}
	if _, err := os.Stat(m.chromium); err != nil {
		t.Fatalf("chromium not installed: %v", err)
	}

	// A second run finds everything and installs nothing.
	out, err = m.run(t, "0", false)
	if err != nil {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if got := m.aptCalls(t); len(got) != 2 {
		t.Errorf("second run called apt-get again: %q", got)
	}
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second run output = %q, want it to say nothing to do", out)
	}
}

func TestBrowserSetupInstallsOnlyTheMissingPackage(t *testing.T) {
	m := newFakeMachine(t)
	if err := os.MkdirAll(filepath.Dir(m.font), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(m.font, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := m.run(t, "0", false)
	if err != nil {
		t.Fatalf("browser.sh up: %v\n%s", err, out)
	}
	calls := m.aptCalls(t)
	if len(calls) != 2 || strings.Contains(calls[1], "fonts-dejavu-core") || !strings.Contains(calls[1], "chromium") {
		t.Fatalf("apt-get calls = %q, want only chromium installed", calls)
	}
}

func TestBrowserSetupWithoutRootNamesTheCommand(t *testing.T) {
	m := newFakeMachine(t)
	out, err := m.run(t, "1000", false)
	if err == nil {
		t.Fatalf("browser.sh up without root succeeded with nothing installed:\n%s", out)
	}
	if calls := m.aptCalls(t); len(calls) != 0 {
		t.Errorf("apt-get was run without root: %q", calls)
	}
	want := "apt-get install -y --no-install-recommends chromium fonts-dejavu-core"
	if !strings.Contains(out, want) {
		t.Errorf("output does not name the command %q:\n%s", want, out)
	}
}

func TestBrowserSetupUsesPasswordlessSudo(t *testing.T) {
	m := newFakeMachine(t)
	out, err := m.run(t, "1000", true)
	if err != nil {
		t.Fatalf("browser.sh up with sudo: %v\n%s", err, out)
	}
	if calls := m.aptCalls(t); len(calls) != 2 {
		t.Fatalf("apt-get calls = %q, want update and install through sudo", calls)
	}
}
