//go:build unix && !linux

package dbserver

import "syscall"

// childAttr returns process attributes: own process group (so a Ctrl-C to
// the test does not reach the server before cleanup). Outside Linux there is
// no parent-death signal: a server outlives a killed parent until the next
// SweepStale removes it.
func childAttr(_ bool, cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}
