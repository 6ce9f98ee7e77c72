// Package quickstart holds end-to-end tests of the replicate binary's
// quickstart and verify commands: `replicate quickstart` is run as a user
// runs it (its own throwaway servers, embedded broker and registry) and must
// verify every table; `replicate verify` is run against harness databases.
package quickstart
