// Package standalone holds end-to-end tests of `replicate standalone`: the
// real binary, the embedded broker, the file connectors, crash recovery
// after kill -9, and an independent client (Debian's kcat) reading what we
// wrote.
package standalone
