//go:build unix

package dbserver

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/tributary-cdc/tributary/internal/tlsstore"
)

// TLSFiles are the PEM files of a server started with Options.TLS.
type TLSFiles struct {
	Dir        string // the files' directory
	CAFile     string // the CA certificate that issued the server's and client's certificates
	ServerCert string // the server's certificate chain
	ServerKey  string // the server's key
	ClientCert string // a client certificate (common name "client") issued by the same CA
	ClientKey  string // its key (unencrypted PKCS#8)
}

// makeTLS creates the CA and certificates in dir/tls. uid/gid (when not
// -1) own the server's key, which PostgreSQL wants readable by itself only.
func makeTLS(dir string, hosts []string, uid, gid int) (*TLSFiles, error) {
	tdir := filepath.Join(dir, "tls")
	if err := os.MkdirAll(tdir, 0o755); err != nil {
		return nil, fmt.Errorf("harness: tls dir: %w", err)
	}
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1", "localhost"}
	}
	ca, err := tlsstore.NewCA(tdir, "ca")
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	srv, err := ca.Issue("server", hosts...)
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	cli, err := ca.Issue("client")
	if err != nil {
		return nil, fmt.Errorf("harness: %w", err)
	}
	if uid >= 0 {
		for _, f := range []string{tdir, srv.KeyFile, srv.CertFile, ca.CertFile} {
			if err := os.Chown(f, uid, gid); err != nil {
				return nil, fmt.Errorf("harness: chown %s: %w", f, err)
			}
		}
	}
	return &TLSFiles{Dir: tdir, CAFile: ca.CertFile, ServerCert: srv.CertFile, ServerKey: srv.KeyFile, ClientCert: cli.CertFile, ClientKey: cli.KeyFile}, nil
}
