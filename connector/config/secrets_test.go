package config

import (
	"net/url"
	"slices"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"jdbc:mariadb://db:3306/shop?user=u&password=p4ss&useSSL=true", "jdbc:mariadb://db:3306/shop?user=u&password=[hidden]&useSSL=true"},
		{"jdbc:postgresql://host/db?password=p4ss", "jdbc:postgresql://host/db?password=[hidden]"},
		{"jdbc:postgresql://u:p4ss@host:5432/db", "jdbc:postgresql://u:[hidden]@host:5432/db"},
		{"http://u:p4ss@registry:8081", "http://u:[hidden]@registry:8081"},
		{"http://a:x1@h1:8081,https://b:y2@h2:8081", "http://a:[hidden]@h1:8081,https://b:[hidden]@h2:8081"},
		{"https://key:s3cr%2Ft@minio:9000", "https://key:[hidden]@minio:9000"},
		{"http://host:8081/path?x=a@b", "http://host:8081/path?x=a@b"},
		{"host=db port=5432 user=u password='p 4ss' dbname=x", "host=db port=5432 user=u password=[hidden] dbname=x"},
		{"jdbc:sqlserver://h:1433;databaseName=x;password=p4ss;encrypt=true", "jdbc:sqlserver://h:1433;databaseName=x;password=[hidden];encrypt=true"},
		{"jdbc:mysql://h/db?trustCertificateKeyStorePassword=ts&PWD=x", "jdbc:mysql://h/db?trustCertificateKeyStorePassword=[hidden]&PWD=[hidden]"},
		{"root:p@ss:w@tcp(127.0.0.1:3306)/shop?parseTime=true", "root:[hidden]@tcp(127.0.0.1:3306)/shop?parseTime=true"},
		{"u:pw@/shop", "u:[hidden]@/shop"},
		{"jdbc:mariadb://db:3306/shop", "jdbc:mariadb://db:3306/shop"},
		{"password.reset.topic", "password.reset.topic"},
		{"a user@example.com", "a user@example.com"},
		{"", ""},
	} {
		if got := RedactURL(c.in); got != c.want {
			t.Errorf("RedactURL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestURLSecretsAndScrub(t *testing.T) {
	s := URLSecrets("jdbc:postgresql://u:s%40cret@h/db?password=other&x=1")
	for _, want := range []string{"s%40cret", "s@cret", "other"} {
		if !slices.Contains(s, want) {
			t.Errorf("URLSecrets: %v lacks %q", s, want)
		}
	}
	// url.Parse's error quotes the whole URL, password included.
	raw := "http://u:s3cret@host:80 80/x"
	_, err := url.Parse(raw)
	if err == nil || !strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("precondition: url.Parse error %v", err)
	}
	if r := RedactURLError(err); strings.Contains(r.Error(), "s3cret") {
		t.Errorf("RedactURLError: %v", r)
	}
	if got := Scrub("login failed for s3cret and pw; also http://a:zz9@h", []string{"s3cret", "pw"}); got != "login failed for [hidden] and pw; also http://a:[hidden]@h" {
		t.Errorf("Scrub: %q", got)
	}
	if !HasHiddenURLPassword("jdbc:mariadb://h/db?user=u&password=[hidden]") || HasHiddenURLPassword("jdbc:mariadb://h/db?password=x") {
		t.Error("HasHiddenURLPassword")
	}
}
