// Package setupscripts tests the shell scripts that `make run` and `make test` use to set up a
// machine (scripts/browser.sh), with stub package managers, so a bare machine's path is proven
// without touching this one.
package setupscripts
