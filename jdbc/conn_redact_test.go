package jdbc

import (
	"strings"
	"testing"
)

// TestParseURLErrorsHidePasswords: a connection.url that does not parse
// (url.Parse's error quotes the whole URL) never shows its password.
func TestParseURLErrorsHidePasswords(t *testing.T) {
	for _, raw := range []string{
		"jdbc:mariadb://app:urlSecret-1@db:33 06/shop",
		"jdbc:postgresql://db:54 32/shop?user=app&password=urlSecret-1",
		"jdbc:mysql://db:3306/shop%zz?user=app&password=urlSecret-1",
		"app:urlSecret-1@tcp(db:3306)/shop?parseTime=maybe&interpolateParams=x",
		"ftp://app:urlSecret-1@db/shop",
	} {
		_, err := ParseURL(raw, "", "")
		if err == nil {
			t.Errorf("%s: parsed", raw)
			continue
		}
		if strings.Contains(err.Error(), "urlSecret-1") {
			t.Errorf("password in the error: %v", err)
		}
	}
}
