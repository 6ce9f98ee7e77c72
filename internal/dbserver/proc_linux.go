//go:build linux

package dbserver

import "syscall"

// childAttr returns process attributes: own process group (so a Ctrl-C to
// the test does not reach the server before cleanup), and a parent-death
// SIGKILL unless persistent.
func childAttr(persistent bool, cred *syscall.Credential) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true, Credential: cred}
	if !persistent {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}
